package provider

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Resource implements one resource type for Simple. The functions receive
// and return values of Schema's implied type with sensitive marks removed;
// Simple checks what they return.
type Resource struct {
	Schema *Schema
	// Create makes the object and returns its full state. On error it
	// returns whatever exists (cty.NilVal when nothing does), so the
	// engine can record a half-created object.
	Create func(ctx context.Context, planned cty.Value) (cty.Value, error)
	// Read refreshes a state; cty.NullVal(ty) means the object is gone.
	// Nil Read returns the state unchanged.
	Read func(ctx context.Context, current cty.Value) (cty.Value, error)
	// Update changes the object in place. Nil means every change that
	// configuration can make forces replacement.
	Update func(ctx context.Context, prior, planned cty.Value) (cty.Value, error)
	// Delete removes the object; deleting something already gone should
	// succeed.
	Delete func(ctx context.Context, prior cty.Value) error
	// Import reads an existing object by ID. Nil means not importable.
	Import func(ctx context.Context, id string) (cty.Value, error)
	// ImportID is the import ID a create of planned will give the
	// object, "" when what it needs is unknown; see ImportIDPlanner. Nil
	// means the ID is only known once the object exists.
	ImportID func(planned cty.Value) string
	// CustomizePlan may adjust the default plan (e.g. mark more replace
	// paths, fill computed values known at plan time, reject invalid
	// combinations). It is called again with a null prior when the plan
	// replaces the object.
	CustomizePlan func(ctx context.Context, prior, config cty.Value, plan *PlanResponse) error
}

// DataSource implements one data source type for Simple.
type DataSource struct {
	Schema *Schema
	Read   func(ctx context.Context, config cty.Value) (cty.Value, error)
}

// Simple is a Provider built from per-type functions, so that a provider
// only writes what talks to its API. It is safe for concurrent use as long
// as the functions are.
type Simple struct {
	ProviderSchema *Schema
	ConfigureFunc  func(ctx context.Context, config cty.Value) error
	Resources      map[string]*Resource
	DataSources    map[string]*DataSource
}

var (
	_ Provider        = (*Simple)(nil)
	_ ImportIDPlanner = (*Simple)(nil)
)

// Validate checks every schema and that each resource has the functions
// it needs. Provider packages call it from a test.
func (p *Simple) Validate() error {
	var errs []error
	if p.ProviderSchema != nil {
		if err := p.ProviderSchema.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("provider schema: %w", err))
		}
	}
	for _, name := range sortedKeys(p.Resources) {
		if err := p.Resources[name].validate(); err != nil {
			errs = append(errs, fmt.Errorf("resource %s: %w", name, err))
		}
	}
	for _, name := range sortedKeys(p.DataSources) {
		ds := p.DataSources[name]
		switch {
		case ds == nil || ds.Schema == nil || ds.Read == nil:
			errs = append(errs, fmt.Errorf("data source %s: needs a Schema and Read", name))
		default:
			if err := ds.Schema.Validate(); err != nil {
				errs = append(errs, fmt.Errorf("data source %s: %w", name, err))
			}
		}
	}
	return errors.Join(errs...)
}

func (r *Resource) validate() error {
	if r == nil || r.Schema == nil {
		return errors.New("needs a Schema")
	}
	if r.Create == nil || r.Delete == nil {
		return errors.New("needs Create and Delete")
	}
	return r.Schema.Validate()
}

// Schema implements Provider.
func (p *Simple) Schema() ProviderSchema {
	ps := ProviderSchema{
		Provider:    p.ProviderSchema,
		Resources:   make(map[string]*Schema, len(p.Resources)),
		DataSources: make(map[string]*Schema, len(p.DataSources)),
	}
	if ps.Provider == nil {
		ps.Provider = &Schema{}
	}
	for name, r := range p.Resources {
		ps.Resources[name] = r.Schema
	}
	for name, d := range p.DataSources {
		ps.DataSources[name] = d.Schema
	}
	return ps
}

// Configure implements Provider.
func (p *Simple) Configure(ctx context.Context, config cty.Value) error {
	if p.ConfigureFunc == nil {
		return nil
	}
	schema := p.ProviderSchema
	if schema == nil {
		schema = &Schema{}
	}
	config, _ = orNull(config, schema.ImpliedType()).UnmarkDeep()
	return guard(func() error { return p.ConfigureFunc(ctx, config) })
}

func (p *Simple) resource(typeName string) (*Resource, error) {
	r, ok := p.Resources[typeName]
	if !ok {
		return nil, fmt.Errorf("%w: resource type %q", ErrUnsupportedType, typeName)
	}
	return r, nil
}

// ErrUnsupportedType is wrapped by errors about a type the provider does
// not have.
var ErrUnsupportedType = errors.New("unsupported type")

// ErrNotImportable is wrapped by ImportResource for a type without Import.
var ErrNotImportable = errors.New("resource type does not support import")

// PlanResource implements Provider: DefaultPlan, then CustomizePlan. When
// the result replaces the object, the planned value is re-planned as a
// create (prior null), so computed attributes of the new object show as
// unknown instead of the old object's values; RequiresReplace still names
// what forced it.
func (p *Simple) PlanResource(ctx context.Context, req PlanRequest) (PlanResponse, error) {
	r, err := p.resource(req.TypeName)
	if err != nil {
		return PlanResponse{}, err
	}
	ty := r.Schema.ImpliedType()
	req.Prior, req.Config = orNull(req.Prior, ty), orNull(req.Config, ty)
	resp, err := r.plan(ctx, req.Prior, req.Config)
	if err != nil || req.Prior.IsNull() || req.Config.IsNull() || len(resp.RequiresReplace) == 0 {
		return resp, err
	}
	create, err := r.plan(ctx, cty.NullVal(ty), req.Config)
	if err != nil {
		return PlanResponse{}, err
	}
	return PlanResponse{Planned: create.Planned, RequiresReplace: resp.RequiresReplace}, nil
}

func (r *Resource) plan(ctx context.Context, prior, config cty.Value) (PlanResponse, error) {
	pr, err := propose(r.Schema, prior, config)
	if err != nil || pr.planned.IsNull() {
		return PlanResponse{Planned: pr.planned}, err
	}
	resp := PlanResponse{Planned: pr.planned, RequiresReplace: r.replacePaths(pr.prior, pr.planned)}
	if r.CustomizePlan != nil {
		if resp, err = r.customize(ctx, pr.prior, config, resp); err != nil {
			return PlanResponse{}, err
		}
	}
	resp.Planned = resp.Planned.MarkWithPaths(pr.marks)
	return resp, nil
}

// customize runs CustomizePlan, then brings the replace paths up to date
// with what it changed: a path the defaults found that no longer differs
// is dropped, a difference it introduced is added, and paths it added or
// removed itself are respected.
func (r *Resource) customize(ctx context.Context, prior, config cty.Value, resp PlanResponse) (PlanResponse, error) {
	defaults := resp.RequiresReplace
	resp.RequiresReplace = append([]cty.Path(nil), defaults...)
	config, _ = config.UnmarkDeep()
	if err := guard(func() error { return r.CustomizePlan(ctx, prior, config, &resp) }); err != nil {
		return PlanResponse{}, fmt.Errorf("plan: %w", err)
	}
	planned, err := checkPlanned(r.Schema, resp.Planned)
	if err != nil {
		return PlanResponse{}, err
	}
	now := r.replacePaths(prior, planned)
	var out []cty.Path
	for _, p := range resp.RequiresReplace {
		if !containsPath(defaults, p) || containsPath(now, p) {
			out = mergePaths(out, []cty.Path{p})
		}
	}
	for _, p := range now {
		if !containsPath(defaults, p) {
			out = mergePaths(out, []cty.Path{p})
		}
	}
	return PlanResponse{Planned: planned, RequiresReplace: out}, nil
}

// replacePaths is what forces replacement of prior by planned: changed
// ForceNew values, and any configurable change when there is no Update.
func (r *Resource) replacePaths(prior, planned cty.Value) []cty.Path {
	if prior.IsNull() {
		return nil
	}
	var out []cty.Path
	forceNewDiffs(r.Schema, cty.Path{}, prior, planned, &out)
	if r.Update == nil {
		out = mergePaths(out, configurableChanges(r.Schema, prior, planned))
	}
	return out
}

func checkPlanned(s *Schema, planned cty.Value) (cty.Value, error) {
	if planned == cty.NilVal {
		return cty.NilVal, errors.New("plan has no planned value")
	}
	v, _ := planned.UnmarkDeep()
	v, err := convert.Convert(v, s.ImpliedType())
	if err != nil {
		return cty.NilVal, fmt.Errorf("planned value does not match the schema: %w", err)
	}
	return v, nil
}

// orNull turns the zero cty.Value, which a caller may pass for "nothing",
// into a typed null, so that the rest of the code can ask IsNull safely.
func orNull(v cty.Value, ty cty.Type) cty.Value {
	if v == cty.NilVal {
		return cty.NullVal(ty)
	}
	return v
}

// configurableChanges lists the top-level attributes and blocks, other than
// computed-only ones, whose planned value differs from prior.
func configurableChanges(s *Schema, prior, planned cty.Value) []cty.Path {
	prior, _ = prior.UnmarkDeep()
	planned, _ = planned.UnmarkDeep()
	var out []cty.Path
	for _, name := range sortedKeys(s.Attributes) {
		a := s.Attributes[name]
		if a.Computed && !a.Optional {
			continue
		}
		if changed(attrOrNull(prior, name), attrOrNull(planned, name)) {
			out = append(out, cty.GetAttrPath(name))
		}
	}
	for _, name := range sortedKeys(s.Blocks) {
		if blockChanged(attrOrNull(prior, name), attrOrNull(planned, name)) {
			out = append(out, cty.GetAttrPath(name))
		}
	}
	return out
}

// mergePaths appends the paths of b not already in a.
func mergePaths(a, b []cty.Path) []cty.Path {
	for _, p := range b {
		if !containsPath(a, p) {
			a = append(a, p)
		}
	}
	return a
}

func containsPath(ps []cty.Path, p cty.Path) bool {
	for _, q := range ps {
		if q.Equals(p) {
			return true
		}
	}
	return false
}

// ApplyResource implements Provider. A replacement reaches it as two
// calls (delete, then create, or the reverse), so it only ever sees
// create (prior null), delete (planned null) or update.
func (p *Simple) ApplyResource(ctx context.Context, req ApplyRequest) (cty.Value, error) {
	r, err := p.resource(req.TypeName)
	if err != nil {
		return req.Prior, err
	}
	ty := r.Schema.ImpliedType()
	prior, _ := orNull(req.Prior, ty).UnmarkDeep()
	planned, _ := orNull(req.Planned, ty).UnmarkDeep()
	switch {
	case prior.IsNull() && planned.IsNull():
		return cty.NullVal(r.Schema.ImpliedType()), nil
	case planned.IsNull():
		return r.delete(ctx, prior)
	case prior.IsNull():
		return r.create(ctx, planned)
	default:
		return r.update(ctx, prior, planned)
	}
}

func (r *Resource) create(ctx context.Context, planned cty.Value) (cty.Value, error) {
	var got cty.Value
	err := guard(func() (err error) {
		got, err = r.Create(ctx, planned)
		return err
	})
	return r.result("create", got, err)
}

func (r *Resource) update(ctx context.Context, prior, planned cty.Value) (cty.Value, error) {
	if r.Update == nil {
		return prior, errors.New("this resource type cannot be updated in place; the plan should have replaced it")
	}
	var got cty.Value
	err := guard(func() (err error) {
		got, err = r.Update(ctx, prior, planned)
		return err
	})
	if err != nil && got == cty.NilVal {
		got = prior // nothing said otherwise: the object is as it was
	}
	return r.result("update", got, err)
}

func (r *Resource) delete(ctx context.Context, prior cty.Value) (cty.Value, error) {
	if err := guard(func() error { return r.Delete(ctx, prior) }); err != nil {
		return prior, fmt.Errorf("delete: %w", err)
	}
	return cty.NullVal(r.Schema.ImpliedType()), nil
}

// result checks the state a create or update returned. With an operation
// error the state is still returned, unknowns nulled, for the engine to
// record; without one it must be a complete, known object.
func (r *Resource) result(op string, got cty.Value, opErr error) (cty.Value, error) {
	state, err := conformState(r.Schema, got)
	if opErr != nil {
		if err != nil && state.IsNull() {
			return state, fmt.Errorf("%s: %w (and the returned state is unusable: %v)", op, opErr, err)
		}
		return nullUnknowns(state), fmt.Errorf("%s: %w", op, opErr)
	}
	if err != nil {
		return nullUnknowns(state), fmt.Errorf("%s: %w", op, err)
	}
	if state.IsNull() {
		return state, fmt.Errorf("%s: provider returned no object", op)
	}
	return state, nil
}

// ReadResource implements Provider.
func (p *Simple) ReadResource(ctx context.Context, typeName string, current cty.Value) (cty.Value, error) {
	r, err := p.resource(typeName)
	if err != nil {
		return current, err
	}
	cur, _ := orNull(current, r.Schema.ImpliedType()).UnmarkDeep()
	if r.Read == nil || cur.IsNull() {
		return cur, nil
	}
	var got cty.Value
	if err := guard(func() (err error) {
		got, err = r.Read(ctx, cur)
		return err
	}); err != nil {
		return current, fmt.Errorf("read: %w", err)
	}
	state, err := conformState(r.Schema, got)
	if err != nil {
		return current, fmt.Errorf("read: %w", err)
	}
	return state, nil
}

// ReadDataSource implements Provider. The configuration must be wholly
// known: a data source whose arguments depend on something not yet
// created is read during apply, and until then the engine can use
// DefaultPlan(schema, null, config) as its value.
func (p *Simple) ReadDataSource(ctx context.Context, typeName string, config cty.Value) (cty.Value, error) {
	ds, ok := p.DataSources[typeName]
	if !ok {
		return cty.NilVal, fmt.Errorf("%w: data source %q", ErrUnsupportedType, typeName)
	}
	cfg, _ := config.UnmarkDeep()
	if !cfg.IsWhollyKnown() {
		return cty.NilVal, fmt.Errorf("data source %s: configuration has values known only after apply", typeName)
	}
	var got cty.Value
	if err := guard(func() (err error) {
		got, err = ds.Read(ctx, cfg)
		return err
	}); err != nil {
		return cty.NilVal, fmt.Errorf("read data source %s: %w", typeName, err)
	}
	state, err := conformState(ds.Schema, got)
	if err == nil && state.IsNull() {
		err = errors.New("provider returned no object")
	}
	if err != nil {
		return cty.NilVal, fmt.Errorf("read data source %s: %w", typeName, err)
	}
	return state, nil
}

// ImportResource implements Provider.
func (p *Simple) ImportResource(ctx context.Context, typeName, id string) (cty.Value, error) {
	r, err := p.resource(typeName)
	if err != nil {
		return cty.NilVal, err
	}
	if r.Import == nil {
		return cty.NilVal, fmt.Errorf("%s: %w", typeName, ErrNotImportable)
	}
	var got cty.Value
	if err := guard(func() (err error) {
		got, err = r.Import(ctx, id)
		return err
	}); err != nil {
		return cty.NilVal, fmt.Errorf("import %s %q: %w", typeName, id, err)
	}
	state, err := conformState(r.Schema, got)
	if err == nil && state.IsNull() {
		err = ErrNoObject
	}
	if err != nil {
		return cty.NilVal, fmt.Errorf("import %s %q: %w", typeName, id, err)
	}
	return state, nil
}

// PlannedImportID implements ImportIDPlanner.
func (p *Simple) PlannedImportID(typeName string, planned cty.Value) (string, bool) {
	r, ok := p.Resources[typeName]
	if !ok || r.Import == nil || r.ImportID == nil {
		return "", false
	}
	plain, _ := planned.UnmarkDeep()
	if plain.IsNull() {
		return "", false
	}
	id := r.ImportID(plain)
	return id, id != ""
}

// guard runs a provider function and turns a panic into an error: a bug in
// one resource type must not crash an apply before the engine records the
// objects already created.
func guard(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("provider panic: %v\n%s", r, debug.Stack())
		}
	}()
	return fn()
}
