package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/airctl/airctl/workflow/connections"
	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/operator"
	"github.com/airctl/airctl/workflow/secrets"
	"github.com/airctl/airctl/workflow/store"
)

// connResolver resolves the conn_id of operator tasks: AIRD_CONN_<ID>
// first, then the store decrypted with AIRD_ENCRYPTION_KEY. A malformed key is
// logged here and reported again by each task that needs a stored
// connection, so tasks without connections still run.
func (a *App) connResolver() operator.Conns {
	keys, err := secrets.FromEnv(os.Getenv)
	if err != nil {
		a.Log.Error("stored connections unavailable to tasks; fix "+secrets.EnvKey, "err", err)
		keys = nil
	}
	return connections.NewResolver(a.Store, keys, os.Getenv)
}

// testOperator runs an operator task once for `aird tasks test` and
// returns its exit code: 1 when it failed or a rescheduling sensor is not
// yet satisfied.
func (a *App) testOperator(ctx context.Context, d *dag.DAG, t *dag.Task, run store.DagRun, r dag.Rendered, w io.Writer) int {
	op, err := operator.New(t, r)
	if err == nil {
		var res operator.Result
		env := &operator.Env{Log: w, Conns: a.connResolver(), Store: a.Store, Run: run, BaseDir: filepath.Dir(d.File)}
		if res, err = op.Run(ctx, env); err == nil && !res.NextPoke.IsZero() {
			fmt.Fprintf(w, "aird: sensor condition not met; it would poke again at %s\n", res.NextPoke.UTC().Format(time.RFC3339))
			return 1
		}
		if err == nil {
			fmt.Fprintf(w, "aird: output: %s\n", res.Output)
			return 0
		}
	}
	fmt.Fprintf(w, "aird: %v\n", err)
	return 1
}

// reportUnknownConns lists, with file:line, the tasks whose conn_id neither
// the environment nor the store defines. It is a report, not a load
// error: a connection may be added after its DAG is deployed.
func (a *App) reportUnknownConns(ctx context.Context, w io.Writer, b *dag.Bag) {
	known := map[string]bool{}
	isKnown := func(id string) bool {
		k, seen := known[id]
		if !seen {
			// The sealed row is enough: existence needs no key.
			_, err := a.Store.GetConnection(ctx, id)
			k = os.Getenv(connections.EnvName(id)) != "" || !errors.Is(err, store.ErrNotFound)
			known[id] = k
		}
		return k
	}
	var diags hcl.Diagnostics
	for _, d := range sortedDAGs(b) {
		diags = append(diags, d.CheckConnections(isKnown)...)
	}
	if len(diags) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%d task(s) use a connection that is not defined:\n", len(diags))
	_ = hcl.NewDiagnosticTextWriter(w, b.Files, 0, false).WriteDiagnostics(diags)
}
