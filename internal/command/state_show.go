package command

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/airctl/airctl/provision/config"
	"github.com/airctl/airctl/provision/provider"
	"github.com/airctl/airctl/provision/render"
	"github.com/airctl/airctl/provision/state"
)

// showInstance prints an instance as an HCL block. With the provider's
// schema, nested blocks show as blocks and sensitive attributes as
// (sensitive value); without it (provider not in this airctl) the
// attributes are shown from the JSON, secrets already redacted.
func (m *meta) showInstance(addr state.Address, res *state.Resource, inst *state.Instance) int {
	sch := m.schemaFor(res)
	var v cty.Value
	var err error
	if sch != nil {
		v, err = inst.Value(sch.ImpliedType())
	}
	if sch == nil || err != nil {
		sch = nil
		v, err = redactedValue(inst)
	}
	if err != nil {
		return m.fail(fmt.Errorf("%s: %w", addr, err))
	}
	if err := render.Instance(m.stdout, addr, sch, v); err != nil {
		return m.fail(err)
	}
	return exitOK
}

// schemaFor finds the resource type's schema through the provider
// recorded in state, or nil.
func (m *meta) schemaFor(res *state.Resource) *provider.Schema {
	typeName := res.Provider
	if typeName == "" {
		typeName = config.ImpliedProvider(res.Type)
	}
	typeName, _, _ = strings.Cut(typeName, ".")
	factory := m.env.Providers[typeName]
	if factory == nil {
		return nil
	}
	ps := factory().Schema()
	if res.Mode == state.Data {
		return ps.DataSources[res.Type]
	}
	return ps.Resources[res.Type]
}

func redactedValue(inst *state.Instance) (cty.Value, error) {
	raw, err := state.RedactJSON(inst.Attributes, inst.SensitiveAttributes)
	if err != nil {
		return cty.NilVal, err
	}
	ty, err := ctyjson.ImpliedType(raw)
	if err != nil {
		return cty.NilVal, err
	}
	return ctyjson.Unmarshal(raw, ty)
}

// idAttr is an instance's id attribute, for state list -id.
func idAttr(inst *state.Instance) string {
	var attrs struct {
		ID string `json:"id"`
	}
	if inst == nil || json.Unmarshal(inst.Attributes, &attrs) != nil {
		return ""
	}
	return attrs.ID
}
