package testprovider

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/zclconf/go-cty/cty"
)

// OpKind names a provider operation, for counting, faults and gates.
type OpKind string

// Operation kinds.
const (
	OpConfigure OpKind = "configure"
	OpPlan      OpKind = "plan"
	OpCreate    OpKind = "create"
	OpRead      OpKind = "read"
	OpUpdate    OpKind = "update"
	OpDelete    OpKind = "delete"
	OpImport    OpKind = "import"
	OpReadData  OpKind = "read_data"
)

// ErrInjected is wrapped by every error a Fault produces.
var ErrInjected = errors.New("injected failure")

// Always makes a Fault fire on every matching operation.
const Always = -1

// Fault makes matching operations fail.
type Fault struct {
	Kind OpKind
	Name string // the object's name attribute; "" matches any
	// Times is how many operations fail before the fault is used up
	// (0 counts as 1); Always never uses it up.
	Times int
	// AfterChange makes the change happen first and then fail, returning
	// the new state with the error: a create that succeeded in the cloud
	// but whose response was lost.
	AfterChange bool
	Err         error // wrapped with ErrInjected; nil for a generic message
}

type fault struct {
	Fault
	left int
}

func (f *fault) err(kind OpKind, name string) error {
	if f.Err != nil {
		return fmt.Errorf("%s %q: %w: %w", kind, name, ErrInjected, f.Err)
	}
	return fmt.Errorf("%s %q: %w", kind, name, ErrInjected)
}

// Gate holds matching operations until released. Engine tests use it to
// prove bounded parallelism, interruption and that in-flight operations
// finish, without sleeping.
type Gate struct {
	kind    OpKind
	name    string
	arrived chan string
	release chan struct{}
	once    sync.Once
}

// gateBuffer bounds how many arrivals a Gate remembers unread.
const gateBuffer = 4096

// Arrived receives the name of each operation as it starts waiting at the
// gate (up to 4096 unread).
func (g *Gate) Arrived() <-chan string { return g.arrived }

// Release lets waiting and future matching operations through. It may be
// called more than once.
func (g *Gate) Release() { g.once.Do(func() { close(g.release) }) }

func (g *Gate) matches(kind OpKind, name string) bool {
	return g.kind == kind && (g.name == "" || g.name == name)
}

// control holds the knobs and counters shared by all operations.
type control struct {
	mu     sync.Mutex
	faults []*fault
	gates  []*Gate
	hook   func(ctx context.Context, kind OpKind, name string) error
	counts map[OpKind]int

	inFlight    atomic.Int64
	maxInFlight atomic.Int64
}

// Inject adds a fault.
func (c *control) Inject(f Fault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	left := f.Times
	if left == 0 {
		left = 1
	}
	c.faults = append(c.faults, &fault{Fault: f, left: left})
}

// FailCreate makes the next times creates of the object called name fail
// (Always: every one) before anything is created.
func (c *control) FailCreate(name string, times int) {
	c.Inject(Fault{Kind: OpCreate, Name: name, Times: times})
}

// Block installs a gate for operations of kind on the object called name
// ("" for any) and returns it; operations wait there until Release or
// until their context ends.
func (c *control) Block(kind OpKind, name string) *Gate {
	g := &Gate{kind: kind, name: name, arrived: make(chan string, gateBuffer), release: make(chan struct{})}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gates = append(c.gates, g)
	return g
}

// SetHook installs fn, called at the start of every operation after the
// gates; an error from it fails the operation. nil removes it.
func (c *control) SetHook(fn func(ctx context.Context, kind OpKind, name string) error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hook = fn
}

// CountOps is how many operations of kind were started, failed or not.
func (c *control) CountOps(kind OpKind) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[kind]
}

// InFlight is the number of operations running now.
func (c *control) InFlight() int { return int(c.inFlight.Load()) }

// MaxConcurrentOps is the largest number of operations seen running at
// once since creation or ResetCounters.
func (c *control) MaxConcurrentOps() int { return int(c.maxInFlight.Load()) }

// ResetCounters zeroes the operation counts and the concurrency maximum;
// faults, gates and the hook stay.
func (c *control) ResetCounters() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts = map[OpKind]int{}
	c.maxInFlight.Store(c.inFlight.Load())
}

// run wraps one operation: count, track concurrency, wait at gates, call
// the hook, apply faults, then fn.
func (c *control) run(ctx context.Context, kind OpKind, name string, fn func() (cty.Value, error)) (cty.Value, error) {
	c.mu.Lock()
	if c.counts == nil {
		c.counts = map[OpKind]int{}
	}
	c.counts[kind]++
	c.mu.Unlock()
	c.observeMax(c.inFlight.Add(1))
	defer c.inFlight.Add(-1)

	if err := c.wait(ctx, kind, name); err != nil {
		return cty.NilVal, err
	}
	if hook := c.currentHook(); hook != nil {
		if err := hook(ctx, kind, name); err != nil {
			return cty.NilVal, fmt.Errorf("%s %q: %w", kind, name, err)
		}
	}
	f := c.takeFault(kind, name)
	if f != nil && !f.AfterChange {
		return cty.NilVal, f.err(kind, name)
	}
	v, err := fn()
	if f != nil && err == nil {
		return v, f.err(kind, name)
	}
	return v, err
}

func (c *control) observeMax(n int64) {
	for {
		cur := c.maxInFlight.Load()
		if n <= cur || c.maxInFlight.CompareAndSwap(cur, n) {
			return
		}
	}
}

func (c *control) currentHook() func(context.Context, OpKind, string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hook
}

func (c *control) wait(ctx context.Context, kind OpKind, name string) error {
	c.mu.Lock()
	var gates []*Gate
	for _, g := range c.gates {
		if g.matches(kind, name) {
			gates = append(gates, g)
		}
	}
	c.mu.Unlock()
	for _, g := range gates {
		select {
		case <-g.release:
			continue // released gates let everything through silently
		default:
		}
		select {
		case g.arrived <- name:
		default: // nobody is reading that many arrivals
		}
		select {
		case <-g.release:
		case <-ctx.Done():
			return fmt.Errorf("%s %q interrupted while blocked: %w", kind, name, ctx.Err())
		}
	}
	return nil
}

// takeFault returns the first matching fault and uses one of its times.
func (c *control) takeFault(kind OpKind, name string) *fault {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, f := range c.faults {
		if f.Kind != kind || (f.Name != "" && f.Name != name) {
			continue
		}
		if f.left != Always {
			f.left--
			if f.left == 0 {
				c.faults = append(c.faults[:i:i], c.faults[i+1:]...)
			}
		}
		return f
	}
	return nil
}
