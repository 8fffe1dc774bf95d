package google

import (
	"context"

	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision/provider"
)

// project is the resource's project, else the provider's.
func (g *gcp) project(v cty.Value) string {
	if p := provider.String(v, "project"); p != "" {
		return p
	}
	return g.settings.project
}

// create runs an insert with retries. A 409 on the first attempt means
// the object existed before: that is the user's to import, never ours to
// adopt. A 409 after a transient failure means our own earlier attempt
// reached the server before its answer was lost, so it counts as success.
func (g *gcp) create(ctx context.Context, typeName, id string, insert func(context.Context) error) error {
	retried := false
	err := g.do(ctx, "create "+typeName+" "+id, func(ctx context.Context) error {
		err := insert(ctx)
		switch {
		case err != nil && isConflict(err) && reason(err) != "operationInProgress" && retried:
			return nil
		case isTransient(err):
			retried = true
		}
		return err
	})
	if err != nil && isConflict(err) && reason(err) != "operationInProgress" {
		return alreadyExists(typeName, id, err)
	}
	return err
}

// nullUnknownsIn replaces unknown values with nulls, for the partial
// state returned alongside an error after an object was created.
func nullUnknownsIn(v cty.Value) cty.Value {
	out, _ := cty.Transform(v, func(_ cty.Path, v cty.Value) (cty.Value, error) {
		if !v.IsKnown() {
			return cty.NullVal(v.Type()), nil
		}
		return v, nil
	})
	return out
}

// namedID is a resource's ImportID: the ID id builds from the planned
// value and its name, known before the create because the user names GCP
// objects ("" while the name is unknown).
func (g *gcp) namedID(id func(planned cty.Value, name string) string) func(cty.Value) string {
	return func(planned cty.Value) string {
		name := provider.String(planned, "name")
		if name == "" {
			return ""
		}
		return id(planned, name)
	}
}
