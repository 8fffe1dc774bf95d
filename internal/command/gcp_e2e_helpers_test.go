package command

import (
	"context"
	"encoding/json"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/airctl/airctl/internal/gcpfake"
	"github.com/airctl/airctl/provision"
	"github.com/airctl/airctl/provision/google"
	"github.com/airctl/airctl/provision/provider"
	"github.com/airctl/airctl/provision/provider/builtin"
	"github.com/airctl/airctl/provision/state"
)

// The end-to-end harness for examples/gcp: the example copied into a
// temporary directory (backend.tf left out, so state is the local file
// airctl.tfstate), run through Run with the real google provider pointed
// at an in-process gcpfake by the same GOOGLE_*_CUSTOM_ENDPOINT variables
// a user exports.

const (
	e2eProject = "e2e-project"
	e2eDomain  = "airflow.example.com"
)

// gcpExampleDir is examples/gcp, relative to this package.
var gcpExampleDir = filepath.Join("..", "..", "examples", "gcp")

type gcpE2E struct {
	t        testing.TB
	dir      string
	fake     *gcpfake.Server
	ep       gcpfake.Endpoints
	environ  []string
	fakeFile string // the fake's state file: the inventory of what exists
	// stateBucket, when set, is the gcs backend's bucket in the fake: not
	// part of the stack.
	stateBucket string

	hookMu sync.Mutex
	hook   func(method, uri string) // sees every request the fake receives
}

// newGCPE2E starts a fake with opts (Logf and StateFile are the harness's)
// and copies the example. tfvars is appended to terraform.tfvars.
func newGCPE2E(t testing.TB, opts gcpfake.Options, tfvars string) *gcpE2E {
	t.Helper()
	e := &gcpE2E{t: t, dir: t.TempDir()}
	if opts.Latency == nil {
		opts.Latency = gcpfake.InstantLatency()
	}
	if opts.StateFile == "" {
		e.fakeFile = filepath.Join(t.TempDir(), "gcpfake.json")
		opts.StateFile = e.fakeFile
	}
	opts.Logf = e.logf
	s, err := gcpfake.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		if err := s.Close(); err != nil {
			t.Errorf("closing fake: %v", err)
		}
	})
	e.fake, e.ep = s, gcpfake.EndpointsFor(ts.URL)
	e.environ = append(e.ep.Env(), "GOOGLE_PROJECT="+e2eProject, "NO_COLOR=1")
	copyGCPExample(t, e.dir)
	vars := "project_id = \"" + e2eProject + "\"\ndomain     = \"" + e2eDomain + "\"\n" +
		"# The test destroys the stack: see variables.tf.\ndb_deletion_protection = false\n" + tfvars
	if err := os.WriteFile(filepath.Join(e.dir, "terraform.tfvars"), []byte(vars), 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

// copyGCPExample copies examples/gcp's configuration into dir, without the
// gcs backend.
func copyGCPExample(t testing.TB, dir string) {
	t.Helper()
	ents, err := os.ReadDir(gcpExampleDir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ent := range ents {
		if ent.IsDir() || !strings.HasSuffix(ent.Name(), ".tf") || ent.Name() == "backend.tf" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(gcpExampleDir, ent.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ent.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n < 5 {
		t.Fatalf("examples/gcp has only %d .tf files", n)
	}
}

func (e *gcpE2E) logf(format string, args ...any) {
	if format != "gcpfake: %s %s" || len(args) != 2 {
		return
	}
	e.hookMu.Lock()
	h := e.hook
	e.hookMu.Unlock()
	if h != nil {
		h(args[0].(string), args[1].(string))
	}
}

func (e *gcpE2E) setHook(h func(method, uri string)) {
	e.hookMu.Lock()
	e.hook = h
	e.hookMu.Unlock()
}

func (e *gcpE2E) getenv(name string) string {
	for _, kv := range e.environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return ""
}

func (e *gcpE2E) providers() map[string]provision.Factory {
	ps := map[string]provision.Factory{
		"google": func() provider.Provider { return google.NewWithEnv(e.getenv) },
	}
	for name, f := range builtin.Providers() {
		ps[name] = provision.Factory(f)
	}
	return ps
}

func (e *gcpE2E) runCtx(ctx context.Context, args ...string) result {
	stdout, stderr := newSyncBuffer(), newSyncBuffer()
	code := Run(ctx, append([]string{"-chdir=" + e.dir}, args...), Env{
		Stdin: strings.NewReader(""), Stdout: stdout, Stderr: stderr,
		Environ: e.environ, Dir: e.dir, Providers: e.providers(), Version: "test",
	})
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func (e *gcpE2E) must(want int, args ...string) result {
	e.t.Helper()
	r := e.runCtx(context.Background(), args...)
	if r.code != want {
		e.t.Fatalf("airctl %s: want exit %d\n%s", strings.Join(args, " "), want, r)
	}
	return r
}

// noChanges plans with -detailed-exitcode and wants 0.
func (e *gcpE2E) noChanges() {
	e.t.Helper()
	e.must(0, "plan", "-detailed-exitcode", "-no-color")
}

var gcpPlanLine = regexp.MustCompile(`Plan: (\d+) to add, (\d+) to change, (\d+) to destroy`)

// gcpPlanCounts parses the Plan: line of a plan's output.
func gcpPlanCounts(t testing.TB, r result) (add, change, destroy int) {
	t.Helper()
	m := gcpPlanLine.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no Plan: line\n%s", r)
	}
	add, _ = strconv.Atoi(m[1])
	change, _ = strconv.Atoi(m[2])
	destroy, _ = strconv.Atoi(m[3])
	return add, change, destroy
}

// state reads the state: from the local file, or with a gcs backend
// through "airctl state pull".
func (e *gcpE2E) state() *state.State {
	e.t.Helper()
	var b []byte
	if e.stateBucket != "" {
		b = []byte(e.must(0, "state", "pull").stdout)
	} else {
		var err error
		if b, err = os.ReadFile(filepath.Join(e.dir, "airctl.tfstate")); err != nil {
			e.t.Fatal(err)
		}
	}
	st, err := state.Decode(b)
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

// attrs are the attributes of each managed google_* instance in state, by
// address (a deposed object gets a "#n" suffix).
func (e *gcpE2E) stateAttrs() map[string]map[string]any {
	e.t.Helper()
	out := map[string]map[string]any{}
	for _, r := range e.state().Resources {
		if r.Mode != state.Managed || !strings.HasPrefix(r.Type, "google_") {
			continue
		}
		for i, inst := range r.Instances {
			var a map[string]any
			if err := json.Unmarshal(inst.Attributes, &a); err != nil {
				e.t.Fatal(err)
			}
			addr := r.Type + "." + r.Name
			if i > 0 {
				addr += "#" + strconv.Itoa(i)
			}
			out[addr] = a
		}
	}
	return out
}

func attrStr(a map[string]any, k string) string {
	s, _ := a[k].(string)
	return s
}

// stateObjects are the fake's keys of every object the state records.
func (e *gcpE2E) stateObjects() map[string]string {
	out := map[string]string{}
	for addr, a := range e.stateAttrs() {
		typ, _, _ := strings.Cut(addr, ".")
		var key string
		switch typ {
		case "google_storage_bucket":
			key = "bucket/" + attrStr(a, "name")
		case "google_sql_database_instance":
			key = "projects/" + e2eProject + "/instances/" + attrStr(a, "name")
		case "google_sql_user":
			key = "projects/" + e2eProject + "/instances/" + attrStr(a, "instance") + "/users/" + attrStr(a, "host") + "/" + attrStr(a, "name")
		default: // compute resources and SQL databases: the id is the path
			key = attrStr(a, "id")
		}
		if prev, dup := out[key]; dup {
			e.t.Errorf("%s and %s both record %s", prev, addr, key)
		}
		out[key] = addr
	}
	return out
}

// fakeObjects lists every object the fake holds in the test's project,
// from its state file: compute resources (without the boot disks of
// existing instances), Cloud SQL instances, databases and users (without
// the built-in postgres database and user) and buckets.
func (e *gcpE2E) fakeObjects() []string {
	e.t.Helper()
	var snap struct {
		Compute      map[string]json.RawMessage `json:"compute"`
		SQLInstances map[string]json.RawMessage `json:"sqlInstances"`
		SQLDatabases map[string]json.RawMessage `json:"sqlDatabases"`
		SQLUsers     map[string]struct {
			Type string `json:"type"`
		} `json:"sqlUsers"`
		Buckets map[string]json.RawMessage `json:"buckets"`
	}
	b, err := os.ReadFile(e.fakeFile)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	if err := json.Unmarshal(b, &snap); err != nil {
		e.t.Fatal(err)
	}
	prefix := "projects/" + e2eProject + "/"
	var out []string
	for k := range snap.Compute {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		if zone, name, ok := strings.Cut(k, "/disks/"); ok {
			if _, isBoot := snap.Compute[zone+"/instances/"+name]; isBoot {
				continue
			}
		}
		out = append(out, k)
	}
	for k := range snap.SQLInstances {
		out = append(out, k)
	}
	for k := range snap.SQLDatabases {
		if !strings.HasSuffix(k, "/databases/postgres") {
			out = append(out, k)
		}
	}
	for k, u := range snap.SQLUsers {
		if u.Type != "BUILT_IN" {
			out = append(out, k)
		}
	}
	for k := range snap.Buckets {
		if k == e.stateBucket {
			continue
		}
		out = append(out, "bucket/"+k)
	}
	slices.Sort(out)
	return out
}

// converged checks that the fake holds exactly what the state records: no
// orphan (an object airctl lost track of), nothing recorded but missing,
// and at least min objects.
func (e *gcpE2E) converged(min int) {
	e.t.Helper()
	inState := e.stateObjects()
	fake := e.fakeObjects()
	for _, k := range fake {
		if _, ok := inState[k]; !ok {
			e.t.Errorf("orphan: %s exists in the fake but not in state", k)
		}
	}
	for k, addr := range inState {
		if !slices.Contains(fake, k) {
			e.t.Errorf("%s: state records %s, missing from the fake", addr, k)
		}
	}
	if len(fake) < min {
		e.t.Errorf("the fake holds %d objects, want at least %d: %v", len(fake), min, fake)
	}
	if e.t.Failed() {
		e.t.Fatalf("fake: %v\nstate: %v", fake, slices.Sorted(maps.Keys(inState)))
	}
}

// empty checks that nothing is left in the fake.
func (e *gcpE2E) empty() {
	e.t.Helper()
	if left := e.fakeObjects(); len(left) > 0 {
		e.t.Fatalf("left in the fake after destroy: %v", left)
	}
}

// countVMs counts the Compute Engine instances in the fake.
func (e *gcpE2E) countVMs() int {
	n := 0
	for _, k := range e.fakeObjects() {
		if strings.Contains(k, "/zones/") && strings.Contains(k, "/instances/") {
			n++
		}
	}
	return n
}
