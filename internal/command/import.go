package command

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision"
	"github.com/airctl/airctl/provision/config"
	"github.com/airctl/airctl/provision/provider"
	"github.com/airctl/airctl/provision/state"
)

const importUsage = `Usage: airctl [global options] import [options] ADDR ID

  Brings an existing object under airctl's management: reads the object
  with ID from its provider and records it in the state at ADDR. The
  configuration must already have a resource block for ADDR; run
  "airctl plan" afterwards to see how it differs from the configuration.

Options:
  -var 'NAME=VALUE'    Set a variable (for the provider configuration).
  -var-file=FILE       Read variables from a .tfvars file.
  -input=false         Fail instead of asking for missing variables.
  -lock=false          Do not hold the state lock (dangerous).
  -lock-timeout=DUR    Wait up to DUR for the state lock (default 0s).
  -no-color            No colour in the output.
`

func runImport(m *meta, args []string) int {
	fs := m.flagSet()
	vf := varFlags{m: m}
	vf.register(fs)
	var lf lockFlags
	lf.register(fs)
	if code, ok := m.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() != 2 {
		return m.usageError("import needs a resource address and an ID, e.g. airctl import google_storage_bucket.logs my-bucket")
	}
	addr, err := state.ParseAddress(fs.Arg(0))
	if err != nil {
		return m.usageError("%v", err)
	}
	id := fs.Arg(1)
	s := m.interruptible()
	defer s.release()
	cfg := m.loadConfig()
	if cfg == nil {
		return exitError
	}
	r, err := importTarget(cfg, addr)
	if err != nil {
		return m.fail(err)
	}
	vars, ok := m.variables(s.ctx, cfg, &vf)
	if !ok {
		return exitError
	}
	b, err := m.backend(cfg)
	if err != nil {
		return m.fail(err)
	}
	defer b.close()
	unlock, err := m.lock(s.ctx, b, "import", lf)
	if err != nil {
		return m.fail(err)
	}
	defer unlock()
	return m.importInto(s.ctx, b, cfg, r, vars, addr, id)
}

// importTarget finds the resource block for addr and checks that the
// index key fits its count or for_each.
func importTarget(cfg *config.Config, addr state.Address) (*config.Resource, error) {
	if addr.Mode == state.Data {
		return nil, fmt.Errorf("%s is a data source; only managed resources can be imported", addr)
	}
	r := cfg.Resources[addr.Resource().String()]
	if r == nil {
		return nil, fmt.Errorf("resource address %q does not exist in the configuration\n\nBefore importing, add a block for it, for example:\n\nresource %q %q {\n  # (arguments)\n}", addr.Resource(), addr.Type, addr.Name)
	}
	_, isInt := addr.Key.Int()
	_, isStr := addr.Key.Str()
	switch {
	case r.Count != nil && !isInt:
		return nil, fmt.Errorf("%s has count; give an index, e.g. %s[0]", addr.Resource(), addr.Resource())
	case r.ForEach != nil && !isStr:
		return nil, fmt.Errorf("%s has for_each; give a key, e.g. %s[\"key\"]", addr.Resource(), addr.Resource())
	case r.Count == nil && r.ForEach == nil && !addr.Key.IsZero():
		return nil, fmt.Errorf("%s has neither count nor for_each; use the address without an index", addr.Resource())
	}
	return r, nil
}

func (m *meta) importInto(ctx context.Context, b *openedBackend, cfg *config.Config, r *config.Resource, vars map[string]cty.Value, addr state.Address, id string) int {
	st, err := b.Read(ctx)
	if err != nil {
		return m.fail(fmt.Errorf("read the state: %w", err))
	}
	if st == nil {
		st = state.New(m.env.version())
	}
	if st.Instance(addr) != nil {
		return m.fail(fmt.Errorf("resource already managed by airctl: %s is in the state\n\nTo import another object to this address, first forget the current one with \"airctl state rm %s\"", addr, addr))
	}
	prov, sch, err := m.configuredProvider(ctx, cfg, r, vars)
	if err != nil {
		return m.fail(err)
	}
	fmt.Fprintf(m.stdout, "%s: Importing from ID %q...\n", addr, id)
	v, err := prov.ImportResource(ctx, r.Type, id)
	if err != nil {
		return m.fail(fmt.Errorf("%s: %w", addr, err))
	}
	v = markSensitive(sch, v)
	inst := &state.Instance{}
	if err := inst.SetValue(v); err != nil {
		return m.fail(fmt.Errorf("%s: %w", addr, err))
	}
	st.SetInstance(addr, r.ProviderAddr(), inst)
	if err := b.Write(ctx, st); err != nil {
		return m.fail(fmt.Errorf("write the state: %w", err))
	}
	fmt.Fprintf(m.stdout, "%s: Import prepared!\n  Prepared %s for import\n\n%s\n\nThe object is now in the airctl state and will be managed by airctl.\nRun \"airctl plan\" to see how it differs from the configuration.\n",
		addr, r.Type, m.opts().Bold("Import successful!"))
	return exitOK
}

// configuredProvider makes and configures the provider of r from its
// provider block (variables known, nothing else yet).
func (m *meta) configuredProvider(ctx context.Context, cfg *config.Config, r *config.Resource, vars map[string]cty.Value) (provider.Provider, *provider.Schema, error) {
	typeName, _, _ := strings.Cut(r.ProviderAddr(), ".")
	factory := m.env.Providers[typeName]
	if factory == nil {
		return nil, nil, fmt.Errorf("provider %q is not available in this airctl", typeName)
	}
	prov := factory()
	ps := prov.Schema()
	sch := ps.Resources[r.Type]
	if sch == nil {
		return nil, nil, fmt.Errorf("provider %s has no resource type %q", typeName, r.Type)
	}
	body := hcl.Body(hcl.EmptyBody())
	if pc := cfg.Providers[r.ProviderAddr()]; pc != nil {
		body = pc.Config
	}
	evalCtx, err := (&config.Scope{BaseDir: cfg.Dir, Variables: vars}).EvalContext()
	if err != nil {
		return nil, nil, err
	}
	provSchema := ps.Provider
	if provSchema == nil {
		provSchema = &provider.Schema{}
	}
	val, diags := hcldec.Decode(config.ExpandBody(body, evalCtx), provSchema.DecoderSpec(), evalCtx)
	if diags.HasErrors() {
		return nil, nil, provision.DiagnosticsError(diags)
	}
	if err := prov.Configure(ctx, val); err != nil {
		return nil, nil, fmt.Errorf("configure provider %s: %w", r.ProviderAddr(), err)
	}
	return prov, sch, nil
}

// markSensitive marks the schema's sensitive attributes, so state records
// them as sensitive as the engine does.
func markSensitive(sch *provider.Schema, v cty.Value) cty.Value {
	paths := sch.SensitivePaths(v)
	pvm := make([]cty.PathValueMarks, 0, len(paths))
	for _, p := range paths {
		pvm = append(pvm, cty.PathValueMarks{Path: p, Marks: cty.NewValueMarks(state.Sensitive)})
	}
	return v.MarkWithPaths(pvm)
}
