// Package provider is the boundary between the provisioning engine and the
// code that talks to an API (google, the built-in terraform_data/random
// resources, test resources). It follows the shape of Terraform's provider
// protocol, reduced to what airctl needs: schemas, plan, apply, read,
// import. Values are cty objects of the schema's implied type.
package provider

import (
	"context"
	"errors"

	"github.com/zclconf/go-cty/cty"
)

// Provider manages resources of some types. Configure is called once
// before any other call except Schema.
type Provider interface {
	Schema() ProviderSchema
	// Configure receives the provider block, decoded against Schema().Provider.
	Configure(ctx context.Context, config cty.Value) error
	// PlanResource proposes the new state for a resource instance.
	PlanResource(ctx context.Context, req PlanRequest) (PlanResponse, error)
	// ApplyResource makes a planned change real and returns the new state;
	// a null Planned deletes. On error it returns whatever state exists now
	// (for example an instance created but not yet ready) so the engine
	// records it instead of forgetting it.
	ApplyResource(ctx context.Context, req ApplyRequest) (cty.Value, error)
	// ReadResource refreshes a state from the API; a null result means the
	// object is gone.
	ReadResource(ctx context.Context, typeName string, current cty.Value) (cty.Value, error)
	ReadDataSource(ctx context.Context, typeName string, config cty.Value) (cty.Value, error)
	// ImportResource reads an existing object by its ID into a new state.
	ImportResource(ctx context.Context, typeName, id string) (cty.Value, error)
}

// ImportIDPlanner is implemented by providers whose objects are named by
// their configuration, so the import ID of an object is known before it is
// created. The engine records that ID in state before it sends the create:
// an apply killed before it records the result leaves the ID behind, and
// the next plan imports the object instead of creating a duplicate.
type ImportIDPlanner interface {
	// PlannedImportID is the import ID the object planned (as at apply:
	// configured values known, computed ones possibly not) will have; ok
	// is false when it cannot tell.
	PlannedImportID(typeName string, planned cty.Value) (id string, ok bool)
}

// ErrNoObject is wrapped by ImportResource when no object has the ID.
var ErrNoObject = errors.New("no object with this ID")

// ErrAlreadyExists is wrapped by an ApplyResource create that met an
// existing object it did not make (one the user must import).
var ErrAlreadyExists = errors.New("the object already exists")

// ProviderSchema describes a provider's configuration and types.
type ProviderSchema struct {
	Provider    *Schema
	Resources   map[string]*Schema
	DataSources map[string]*Schema
}

// PlanRequest carries what a plan for one instance starts from. Prior is
// null for a new instance; Config is null when the instance is to be
// destroyed (providers are not asked then).
type PlanRequest struct {
	TypeName string
	Prior    cty.Value
	Config   cty.Value
}

// PlanResponse is the proposed new state (unknown where only apply can
// tell) and the attribute paths whose change forces replacement.
type PlanResponse struct {
	Planned         cty.Value
	RequiresReplace []cty.Path
}

// ApplyRequest carries one change to make.
type ApplyRequest struct {
	TypeName string
	Prior    cty.Value // null for create
	Planned  cty.Value // null for delete
}
