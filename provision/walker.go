package provision

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/airctl/airctl/provision/config"
	"github.com/airctl/airctl/provision/provider"
	"github.com/airctl/airctl/provision/state"
)

// walker holds what one plan or apply walk has computed so far. Nodes run
// in parallel; each reads only values of nodes it depends on, which the
// graph guarantees are final, but the maps themselves need the lock.
type walker struct {
	e     *Engine
	funcs map[string]function.Function

	mu        sync.Mutex
	locals    map[string]cty.Value
	resources map[string]cty.Value // "type.name" → object, tuple (count) or object (for_each)
	data      map[string]cty.Value
	providers map[string]provider.Provider // configured, by provider config address
	schemas   map[string]provider.ProviderSchema
	diags     hcl.Diagnostics
	// sem bounds provider operations across nodes and the instances
	// within a node to the engine's parallelism.
	sem chan struct{}
}

func newWalker(e *Engine) *walker {
	return &walker{
		e:         e,
		funcs:     config.Functions(e.Config.Dir),
		locals:    map[string]cty.Value{},
		resources: map[string]cty.Value{},
		data:      map[string]cty.Value{},
		providers: map[string]provider.Provider{},
		schemas:   map[string]provider.ProviderSchema{},
		sem:       make(chan struct{}, e.parallelism()),
	}
}

// acquire takes a provider-operation slot; the returned func gives it back.
func (w *walker) acquire(ctx context.Context) (func(), error) {
	select {
	case w.sem <- struct{}{}:
		return func() { <-w.sem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// evalContext builds the scope for an expression that refers to refs,
// with only those values, which keeps evaluation cheap in large configs.
func (w *walker) evalContext(refs []config.Reference) (*hcl.EvalContext, error) {
	s := &config.Scope{
		BaseDir:     w.e.Config.Dir,
		Variables:   w.e.Variables,
		Locals:      map[string]cty.Value{},
		Resources:   map[string]cty.Value{},
		DataSources: map[string]cty.Value{},
		Functions:   w.funcs,
	}
	w.mu.Lock()
	for _, ref := range refs {
		switch ref.Kind {
		case config.RefLocal:
			s.Locals[ref.Name] = orDynamic(w.locals[ref.Name])
		case config.RefResource:
			s.Resources[ref.Addr] = orDynamic(w.resources[ref.Addr])
		case config.RefDataSource:
			s.DataSources[ref.Addr] = orDynamic(w.data[ref.Addr])
		}
	}
	w.mu.Unlock()
	return s.EvalContext()
}

// orDynamic stands in for a value a targeted walk did not compute.
func orDynamic(v cty.Value) cty.Value {
	if v == cty.NilVal {
		return cty.DynamicVal
	}
	return v
}

func (w *walker) addDiags(d hcl.Diagnostics) error {
	if !d.HasErrors() {
		w.mu.Lock()
		w.diags = append(w.diags, d...)
		w.mu.Unlock()
		return nil
	}
	return DiagnosticsError(d)
}

// DiagnosticsError carries hcl diagnostics (file:line:col) as an error.
type DiagnosticsError hcl.Diagnostics

func (d DiagnosticsError) Error() string { return hcl.Diagnostics(d).Error() }

// evalLocal evaluates one local value.
func (w *walker) evalLocal(name string) error {
	l := w.e.Config.Locals[name]
	ctx, err := w.evalContext(l.References)
	if err != nil {
		return err
	}
	v, diags := l.Expr.Value(ctx)
	if err := w.addDiags(diags); err != nil {
		return err
	}
	w.mu.Lock()
	w.locals[name] = v
	w.mu.Unlock()
	return nil
}

// configureProvider makes and configures the provider for addr
// ("google", "google.west").
func (w *walker) configureProvider(ctx context.Context, addr string) error {
	typeName, _, _ := strings.Cut(addr, ".")
	factory := w.e.Providers[typeName]
	if factory == nil {
		return fmt.Errorf("provider %q is not available in this airctl (available: %s)", typeName, strings.Join(w.e.providerNames(), ", "))
	}
	p := factory()
	sch := p.Schema()
	body, refs := hcl.Body(hcl.EmptyBody()), []config.Reference(nil)
	if pc := w.e.Config.Providers[addr]; pc != nil {
		body, refs = pc.Config, pc.References
	}
	evalCtx, err := w.evalContext(refs)
	if err != nil {
		return err
	}
	val, err := decodeBody(body, sch.Provider, evalCtx)
	if err != nil {
		return fmt.Errorf("provider %s: %w", addr, err)
	}
	if err := p.Configure(ctx, val); err != nil {
		return fmt.Errorf("configure provider %s: %w", addr, err)
	}
	w.mu.Lock()
	w.providers[addr] = p
	w.schemas[typeName] = sch
	w.mu.Unlock()
	return nil
}

// provider returns the configured provider of a resource and its schema.
func (w *walker) provider(providerAddr, typeName string, mode state.Mode) (provider.Provider, *provider.Schema, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.providers[providerAddr]
	if p == nil {
		return nil, nil, fmt.Errorf("provider %s is not configured", providerAddr)
	}
	ps := w.schemas[strings.SplitN(providerAddr, ".", 2)[0]]
	sch := ps.Resources[typeName]
	if mode == state.Data {
		sch = ps.DataSources[typeName]
	}
	if sch == nil {
		return nil, nil, fmt.Errorf("provider %s has no %s type %q", providerAddr, kindWord(mode), typeName)
	}
	return p, sch, nil
}

func kindWord(mode state.Mode) string {
	if mode == state.Data {
		return "data source"
	}
	return "resource"
}

func (e *Engine) providerNames() []string {
	names := make([]string, 0, len(e.Providers))
	for n := range e.Providers {
		names = append(names, n)
	}
	return sortedStrings(names)
}
