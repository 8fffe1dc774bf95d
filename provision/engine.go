package provision

import (
	"context"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision/config"
	"github.com/airctl/airctl/provision/graph"
	"github.com/airctl/airctl/provision/provider"
	"github.com/airctl/airctl/provision/state"
)

// Factory makes a fresh, unconfigured provider; one is made per provider
// configuration (default and each alias) of a run.
type Factory func() provider.Provider

// Engine plans and applies one configuration. The caller loads the
// configuration, resolves variables and holds the state lock around a
// command; the engine reads and writes state through Backend.
type Engine struct {
	Config    *config.Config
	Providers map[string]Factory // by provider type name: "google", "random"
	Backend   state.Backend
	Variables map[string]cty.Value
	// Parallelism bounds concurrent provider operations (default 10).
	Parallelism int
	// Events receives progress; nil discards it. It may be called from
	// several goroutines at once.
	Events func(Event)
	// Abort, when cancelled, stops in-flight operations too (a second
	// Ctrl-C); cancelling the ctx passed to Plan/Apply only stops new ones.
	Abort context.Context
	// Version is recorded in state.
	Version string
	// ProgressInterval is how often a long operation reports "still
	// creating"; default 10s.
	ProgressInterval time.Duration
	// ResourceApplied, when set, is called during Apply once every planned
	// change of a configured resource or data source (addr as in the
	// configuration: "google_compute_instance.vm", "data.x.y") is applied
	// and recorded, no-ops included, with a copy of the state at that
	// moment. It lets a caller act on finished resources, such as deploying
	// to a VM, while the rest of the apply goes on. It may be called from
	// several goroutines at once and should return quickly.
	ResourceApplied func(addr string, st *state.State)
}

func (e *Engine) progressInterval() time.Duration {
	if e.ProgressInterval <= 0 {
		return 10 * time.Second
	}
	return e.ProgressInterval
}

// PlanOptions select what to plan.
type PlanOptions struct {
	Destroy bool
	// SkipRefresh plans against state as stored (-refresh=false).
	SkipRefresh bool
	// Targets limit the plan to these resources (and what they need).
	Targets []state.Address
	// Replace forces replacement of these instances (-replace).
	Replace []state.Address
}

// EventType names a progress event, as in Terraform's machine-readable UI.
type EventType string

// Event types.
const (
	RefreshStart  EventType = "refresh_start"
	RefreshDone   EventType = "refresh_complete"
	ApplyStart    EventType = "apply_start"
	ApplyProgress EventType = "apply_progress"
	ApplyDone     EventType = "apply_complete"
	ApplyErrored  EventType = "apply_errored"
)

// Event reports progress on one resource instance.
type Event struct {
	Type    EventType
	Addr    state.Address
	Action  Action
	Elapsed time.Duration
	ID      string // the object's id attribute, when known
	Err     error
}

func (e *Engine) emit(ev Event) {
	if e.Events != nil {
		e.Events(ev)
	}
}

func (e *Engine) parallelism() int {
	if e.Parallelism <= 0 {
		return graph.DefaultParallelism
	}
	return e.Parallelism
}

func (e *Engine) walkOptions() graph.WalkOptions {
	return graph.WalkOptions{Parallelism: e.parallelism(), Abort: e.Abort}
}
