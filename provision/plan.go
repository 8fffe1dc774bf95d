// Package provision is the provisioning engine: it plans and applies a
// configuration (provision/config) against its state (provision/state)
// through providers (provision/provider), walking the dependency graph
// (provision/graph) in parallel.
package provision

import (
	"sort"

	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision/provider"
	"github.com/airctl/airctl/provision/state"
)

// Action is what a plan does to one object.
type Action string

// Actions, with Terraform's names.
const (
	NoOp             Action = "no-op"
	Create           Action = "create"
	Read             Action = "read"
	Update           Action = "update"
	DeleteThenCreate Action = "delete-create" // replace, default order
	CreateThenDelete Action = "create-delete" // replace with create_before_destroy
	Delete           Action = "delete"
)

// IsReplace reports whether a is one of the two replace orders.
func (a Action) IsReplace() bool { return a == DeleteThenCreate || a == CreateThenDelete }

// Change is the planned change of one resource instance.
type Change struct {
	Addr     state.Address
	Provider string // provider configuration address: "google", "google.west"
	Action   Action
	// Before is the refreshed prior value (null for create), After the
	// planned value: unknown where only apply can tell, null for delete.
	Before cty.Value
	After  cty.Value
	// ReplacePaths are the attributes whose change forces replacement.
	ReplacePaths []cty.Path
	// Reason explains a replace or delete not caused by an attribute:
	// "tainted", "requested with -replace", "no longer in configuration".
	Reason string
	Schema *provider.Schema
	// Dependencies are the resource addresses the object depends on,
	// recorded in state for destroy ordering.
	Dependencies []string
	// CreateBeforeDestroy is the lifecycle flag, recorded in state.
	CreateBeforeDestroy bool
}

// Adoption is an object found through the import ID that an interrupted
// apply recorded before it sent the create (state.Creating).
type Adoption struct {
	Addr     state.Address
	ImportID string
}

// OutputChange is the planned value of a root output.
type OutputChange struct {
	Name      string
	Before    cty.Value // cty.NilVal when the output is new
	After     cty.Value // cty.NilVal when the output is removed
	Sensitive bool
}

// Plan is the result of planning; Apply carries it out.
type Plan struct {
	Changes []*Change // every instance, no-ops included, sorted by address
	// Drift lists objects that changed outside airctl, found by refresh.
	Drift []*Change
	// Adopted lists objects an interrupted apply created without
	// recording them, found by their import IDs; applying records them.
	Adopted []Adoption
	Outputs []*OutputChange
	Destroy bool
	// Variables are the values the plan was made with; a saved plan keeps
	// them so apply evaluates the same configuration.
	Variables map[string]cty.Value
	Targets   []state.Address
	Replace   []state.Address
	// PriorLineage/PriorSerial identify the state the plan started from; a
	// saved plan is refused once the state has moved on.
	PriorLineage string
	PriorSerial  uint64
	// ConfigHash fingerprints the configuration files the plan was made from.
	ConfigHash string
	// Errored: planning stopped on an error; the plan is partial and must
	// not be applied.
	Errored bool
}

// Summary counts creates, in-place updates and deletes as Terraform's
// "Plan: X to add, Y to change, Z to destroy." does (a replace is one add
// and one destroy).
func (p *Plan) Summary() (add, change, destroy int) {
	for _, c := range p.Changes {
		switch {
		case c.Action == Create:
			add++
		case c.Action == Update:
			change++
		case c.Action == Delete:
			destroy++
		case c.Action.IsReplace():
			add++
			destroy++
		}
	}
	return add, change, destroy
}

// HasChanges reports whether applying would change any object or output,
// or record adopted objects in state.
func (p *Plan) HasChanges() bool {
	if len(p.Adopted) > 0 {
		return true
	}
	for _, c := range p.Changes {
		if c.Action != NoOp && c.Action != Read {
			return true
		}
	}
	for _, o := range p.Outputs {
		if !outputEqual(o.Before, o.After) {
			return true
		}
	}
	return false
}

// Change returns the change planned for addr, or nil.
func (p *Plan) Change(addr state.Address) *Change {
	for _, c := range p.Changes {
		if c.Addr == addr {
			return c
		}
	}
	return nil
}

func (p *Plan) sort() {
	sort.Slice(p.Changes, func(i, j int) bool { return p.Changes[i].Addr.Less(p.Changes[j].Addr) })
	sort.Slice(p.Drift, func(i, j int) bool { return p.Drift[i].Addr.Less(p.Drift[j].Addr) })
	sort.Slice(p.Adopted, func(i, j int) bool { return p.Adopted[i].Addr.Less(p.Adopted[j].Addr) })
	sort.Slice(p.Outputs, func(i, j int) bool { return p.Outputs[i].Name < p.Outputs[j].Name })
}

func outputEqual(a, b cty.Value) bool {
	if a == cty.NilVal || b == cty.NilVal {
		return a == cty.NilVal && b == cty.NilVal
	}
	if !a.IsWhollyKnown() || !b.IsWhollyKnown() {
		return false
	}
	ua, _ := a.UnmarkDeep()
	ub, _ := b.UnmarkDeep()
	return ua.Equals(ub).True()
}
