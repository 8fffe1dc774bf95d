package builtin_test

import (
	"context"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision/provider"
)

var ctx = context.Background()

// decode turns the body of a resource block, written as in a Terraform
// file, into its configuration value, the way the engine does.
func decode(t *testing.T, p provider.Provider, typeName, src string) cty.Value {
	t.Helper()
	f, diags := hclsyntax.ParseConfig([]byte(src), "test.tf", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	s := p.Schema().Resources[typeName]
	v, diags := hcldec.Decode(f.Body, s.DecoderSpec(), nil)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return v
}

// lifecycle drives one resource instance through plan and apply like the
// engine: it remembers the state between steps.
type lifecycle struct {
	t        *testing.T
	p        provider.Provider
	typeName string
	state    cty.Value
}

func newLifecycle(t *testing.T, p provider.Provider, typeName string) *lifecycle {
	return &lifecycle{t: t, p: p, typeName: typeName, state: cty.NullVal(p.Schema().Resources[typeName].ImpliedType())}
}

func (l *lifecycle) plan(src string) provider.PlanResponse {
	l.t.Helper()
	resp, err := l.p.PlanResource(ctx, provider.PlanRequest{TypeName: l.typeName, Prior: l.state, Config: decode(l.t, l.p, l.typeName, src)})
	if err != nil {
		l.t.Fatalf("plan: %v", err)
	}
	return resp
}

func (l *lifecycle) planErr(src string) error {
	l.t.Helper()
	_, err := l.p.PlanResource(ctx, provider.PlanRequest{TypeName: l.typeName, Prior: l.state, Config: decode(l.t, l.p, l.typeName, src)})
	return err
}

// apply plans src and applies it, replacing as the engine would (delete
// then create) when the plan says so.
func (l *lifecycle) apply(src string) provider.PlanResponse {
	l.t.Helper()
	resp := l.plan(src)
	prior := l.state
	if len(resp.RequiresReplace) > 0 {
		l.do(prior, cty.NullVal(prior.Type()))
		prior = l.state
	}
	l.do(prior, resp.Planned)
	return resp
}

func (l *lifecycle) do(prior, planned cty.Value) {
	l.t.Helper()
	v, err := l.p.ApplyResource(ctx, provider.ApplyRequest{TypeName: l.typeName, Prior: prior, Planned: planned})
	if err != nil {
		l.t.Fatalf("apply: %v", err)
	}
	l.state = v
}

func (l *lifecycle) str(name string) string {
	return provider.String(l.state, name)
}
