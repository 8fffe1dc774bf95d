package deploy

import (
	"context"
	"log/slog"
	"time"
)

// Step names a stage of a host's rollout, in the order they run.
type Step string

const (
	StepConnect   Step = "connect"
	StepLock      Step = "lock"
	StepSelect    Step = "select" // Rollback only: pick the release to go back to
	StepBootstrap Step = "bootstrap"
	StepUpload    Step = "upload"
	StepMigrate   Step = "migrate"
	StepInstall   Step = "install" // units and config to their system paths
	StepSwitch    Step = "switch"
	StepRestart   Step = "restart"
	StepHealth    Step = "health"
	StepRollback  Step = "rollback"
	StepUnlock    Step = "unlock" // prune, audit log line, release the lock
)

// Status is where a step is.
type Status string

const (
	StatusStarted  Status = "started"
	StatusProgress Status = "progress" // a step's intermediate news (a unit restarted)
	StatusDone     Status = "done"
	StatusFailed   Status = "failed"
	StatusSkipped  Status = "skipped"
)

// Event is one line of progress, shaped for `-json` output as is.
type Event struct {
	Time    time.Time     `json:"time"`
	Host    string        `json:"host"`
	Step    Step          `json:"step"`
	Status  Status        `json:"status"`
	Message string        `json:"message,omitempty"`
	Error   string        `json:"error,omitempty"`
	Elapsed time.Duration `json:"elapsed_ns,omitempty"`
}

// emit hands e to Options.Progress (one call at a time, whatever the
// number of hosts in flight) and to the log.
func (d *deployer) emit(e Event) {
	e.Time = d.opts.Now()
	e.Message = d.secrets.scrubString(e.Message)
	e.Error = d.secrets.scrubString(e.Error)
	// Progress is the user-facing report; the log repeats it at debug
	// level only, except for failures.
	level := slog.LevelDebug
	if e.Status == StatusFailed {
		level = slog.LevelWarn
	}
	d.opts.Logger.Log(context.Background(), level, "deploy "+string(e.Step)+" "+string(e.Status),
		"host", e.Host, "message", e.Message, "error", e.Error, "elapsed", e.Elapsed)
	if d.opts.Progress == nil {
		return
	}
	d.progressMu.Lock()
	defer d.progressMu.Unlock()
	d.opts.Progress(e)
}

// step runs fn as step s of host, reporting its start and end.
func (r *hostRun) step(ctx context.Context, s Step, fn func(context.Context) (string, error)) error {
	start := time.Now()
	r.emit(s, StatusStarted, "", nil)
	msg, err := fn(ctx)
	ev := Event{Host: r.name, Step: s, Status: StatusDone, Message: msg, Elapsed: time.Since(start)}
	if err != nil {
		ev.Status, ev.Error = StatusFailed, err.Error()
	}
	r.d.emit(ev)
	return err
}

func (r *hostRun) emit(s Step, st Status, msg string, err error) {
	ev := Event{Host: r.name, Step: s, Status: st, Message: msg}
	if err != nil {
		ev.Error = err.Error()
	}
	r.d.emit(ev)
}
