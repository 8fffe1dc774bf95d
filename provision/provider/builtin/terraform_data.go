package builtin

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision/provider"
)

var terraformDataSchema = &provider.Schema{
	Description: "Stores a value and follows the resource lifecycle, like Terraform's terraform_data.",
	Attributes: map[string]*provider.Attribute{
		"id":     {Type: cty.String, Computed: true, Description: "A random UUID."},
		"input":  {Type: cty.DynamicPseudoType, Optional: true, Description: "Any value; changing it updates in place."},
		"output": {Type: cty.DynamicPseudoType, Computed: true, Description: "The value of input."},
		"triggers_replace": {
			Type: cty.DynamicPseudoType, Optional: true, ForceNew: true,
			Description: "Any value; changing it replaces the resource.",
		},
	},
}

func terraformData() *provider.Resource {
	return &provider.Resource{
		Schema:        terraformDataSchema,
		CustomizePlan: planTerraformData,
		Create:        createTerraformData,
		Update: func(_ context.Context, prior, planned cty.Value) (cty.Value, error) {
			return dataObject(provider.GetAttr(prior, "id"), planned), nil
		},
		Delete: func(context.Context, cty.Value) error { return nil },
	}
}

// planTerraformData shows output as the input it will copy: unlike
// Terraform, which plans it unknown, a known value lets references to it
// plan precisely.
func planTerraformData(_ context.Context, _, _ cty.Value, plan *provider.PlanResponse) error {
	plan.Planned = dataObject(provider.GetAttr(plan.Planned, "id"), plan.Planned)
	return nil
}

func createTerraformData(_ context.Context, planned cty.Value) (cty.Value, error) {
	id, err := uuid.NewRandom()
	if err != nil {
		return cty.NilVal, fmt.Errorf("generate id: %w", err)
	}
	return dataObject(cty.StringVal(id.String()), planned), nil
}

// dataObject builds the state from scratch rather than with SetAttrs: the
// attributes are dynamic, so the new output may have a different type from
// the old one.
func dataObject(id, planned cty.Value) cty.Value {
	input := provider.GetAttr(planned, "input")
	return cty.ObjectVal(map[string]cty.Value{
		"id":               id,
		"input":            input,
		"output":           input,
		"triggers_replace": provider.GetAttr(planned, "triggers_replace"),
	})
}
