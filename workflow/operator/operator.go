// Package operator runs the task kinds besides shell commands: http, sql,
// gcs_upload, gcs_download, ssh and the wait_for sensors. Each is a small
// type behind Operator; the worker builds one per try with New from the
// task's rendered fields and records its Result.
package operator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"cloud.google.com/go/storage"

	"github.com/airctl/airctl/workflow/connections"
	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/store"
)

// Operator runs one try of a task.
type Operator interface {
	Run(ctx context.Context, env *Env) (Result, error)
}

// Result is what a successful try produced.
type Result struct {
	// Output is the task's natural result (response body, first cell,
	// object URL, last line), read downstream as task.<id>.output.
	Output string
	// NextPoke is set when a sensor in reschedule mode found its
	// condition unmet: the task should run again then, without using a
	// try, and hold no worker slot meanwhile.
	NextPoke time.Time
}

// Conns resolves connection IDs; connections.Resolver implements it.
type Conns interface {
	Get(ctx context.Context, connID string) (connections.Connection, error)
}

// Env is what operators may use besides their own settings.
type Env struct {
	// Log is the task log; operators write progress lines to it.
	Log io.Writer
	// Conns resolves conn_id; nil when the worker has none configured.
	Conns Conns
	// Store is the metadata DB, read by the external_task sensor.
	Store store.Store
	// Run is the DAG run the task belongs to.
	Run store.DagRun
	// BaseDir resolves relative paths (sql file): the DAG file's folder.
	BaseDir string
	// FirstPoke is when a rescheduled sensor first poked, for its
	// timeout; zero means this try is the first.
	FirstPoke time.Time
	// NewGCS makes a Cloud Storage client for a connection (nil: none
	// given, use Application Default Credentials); nil uses NewGCSClient.
	NewGCS func(ctx context.Context, conn *connections.Connection) (*storage.Client, error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (e *Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Env) logf(format string, args ...any) {
	if e.Log != nil {
		fmt.Fprintf(e.Log, "[%s] aird: %s\n", e.now().UTC().Format(time.RFC3339), fmt.Sprintf(format, args...))
	}
}

// conn resolves a connection ID.
func (e *Env) conn(ctx context.Context, id string) (connections.Connection, error) {
	if e.Conns == nil {
		return connections.Connection{}, fmt.Errorf("connection %q: this worker has no connection store configured; set AIRD_CONN_%s=<uri> in its environment", id, strings.ToUpper(id))
	}
	c, err := e.Conns.Get(ctx, id)
	if err != nil {
		return c, fmt.Errorf("connection %q: %w", id, err)
	}
	return c, nil
}

// optionalConn resolves id, or returns nil when id is empty.
func (e *Env) optionalConn(ctx context.Context, id string) (*connections.Connection, error) {
	if id == "" {
		return nil, nil
	}
	c, err := e.conn(ctx, id)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// ErrSensorTimeout is returned when a sensor's condition stayed unmet for
// its whole timeout.
var ErrSensorTimeout = errors.New("sensor timed out")

// New builds the operator of an operator task from its rendered fields;
// command tasks are run by the worker itself.
func New(t *dag.Task, r dag.Rendered) (Operator, error) {
	if t.Op == nil {
		return nil, fmt.Errorf("task %q runs a command, not an operator", t.ID)
	}
	if t.Sensor != nil {
		p, err := newPoker(t.Op, r)
		if err != nil {
			return nil, err
		}
		return &Sensor{Poker: p, PokeInterval: t.Sensor.PokeInterval, Timeout: t.Sensor.Timeout, Reschedule: t.Sensor.Reschedule}, nil
	}
	f := r.Fields
	switch t.Op.Kind {
	case dag.KindHTTP:
		return newHTTP(t.Op, r), nil
	case dag.KindSQL:
		return &SQL{ConnID: t.Op.ConnID, Statement: f["statement"], File: f["file"], Parameters: r.Parameters, Check: f["check"]}, nil
	case dag.KindGCSUpload:
		return &GCSUpload{ConnID: t.Op.ConnID, Bucket: f["bucket"], Object: f["object"], Source: f["source"]}, nil
	case dag.KindGCSDownload:
		return &GCSDownload{ConnID: t.Op.ConnID, Bucket: f["bucket"], Object: f["object"], Destination: f["destination"]}, nil
	case dag.KindSSH:
		return &SSH{ConnID: t.Op.ConnID, Command: f["command"]}, nil
	}
	return nil, fmt.Errorf("task %q: unknown operator %q", t.ID, t.Op.Kind)
}

func newPoker(op *dag.Operator, r dag.Rendered) (Poker, error) {
	f := r.Fields
	switch op.Kind {
	case dag.SensorFile:
		return &FileExists{Path: f["path"]}, nil
	case dag.SensorHTTP:
		return &HTTPPoker{Request: newHTTP(op, r)}, nil
	case dag.SensorSQL:
		return &SQLPoker{ConnID: op.ConnID, Statement: f["statement"], Parameters: r.Parameters}, nil
	case dag.SensorGCSObject:
		return &GCSObjectExists{ConnID: op.ConnID, Bucket: f["bucket"], Object: f["object"]}, nil
	case dag.SensorExternalTask:
		return &ExternalTask{DagID: f["dag_id"], TaskID: f["task_id"]}, nil
	}
	return nil, fmt.Errorf("unknown sensor condition %q", op.Kind)
}

// truthy says whether a text value (a SQL cell in text form, a JSON
// scalar) counts as true for a check: not empty, null, false or zero.
func truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "null", "f", "false", "0", "no", "off", "[]", "{}":
		return false
	}
	return true
}
