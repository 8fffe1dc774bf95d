package state

import (
	"encoding/json"
	"fmt"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/airctl/airctl/provision/marks"
)

// Mark is airctl's shared cty mark type (provision/marks), so a value marked
// sensitive by the config loader or the engine is recognised here.
type Mark = marks.Mark

// Sensitive marks a cty value as secret. Value applies it to the paths in
// SensitiveAttributes and SetValue records every path that carries it, so
// sensitivity survives the trip through state.
const Sensitive = marks.Sensitive

// Value decodes the attributes as ty (the provider schema's type) and marks
// the sensitive paths with Sensitive.
func (in *Instance) Value(ty cty.Type) (cty.Value, error) {
	v, err := decodeAttributes(in.Attributes, ty)
	if err != nil {
		return cty.NilVal, fmt.Errorf("attributes do not match the provider schema (%s): %w", ty.FriendlyName(), err)
	}
	pvm := make([]cty.PathValueMarks, 0, len(in.SensitiveAttributes))
	for _, s := range in.SensitiveAttributes {
		p, err := ParsePath(s)
		if err != nil {
			return cty.NilVal, err
		}
		pvm = append(pvm, cty.PathValueMarks{Path: p, Marks: cty.NewValueMarks(Sensitive)})
	}
	return v.MarkWithPaths(pvm), nil
}

// SetValue stores v (an object, possibly with Sensitive marks) as the
// attributes and replaces SensitiveAttributes with the marked paths. Other
// marks are dropped. Unknown values cannot be stored: state only ever holds
// what the provider returned.
func (in *Instance) SetValue(v cty.Value) error {
	if !v.Type().IsObjectType() {
		return fmt.Errorf("attributes must be an object, not %s", v.Type().FriendlyName())
	}
	raw, paths, err := marshalMarked(v)
	if err != nil {
		return fmt.Errorf("attributes: %w", err)
	}
	in.Attributes = raw
	in.SensitiveAttributes = paths
	return nil
}

// NewOutput encodes an output value with its type so it can be decoded
// without the configuration (`airctl output` reads state only). A value
// carrying the Sensitive mark anywhere is stored as sensitive.
func NewOutput(v cty.Value, sensitive bool) (Output, error) {
	raw, paths, err := marshalMarked(v)
	if err != nil {
		return Output{}, err
	}
	ty, err := ctyjson.MarshalType(v.Type())
	if err != nil {
		return Output{}, fmt.Errorf("encode output type: %w", err)
	}
	return Output{Value: raw, Type: ty, Sensitive: sensitive || len(paths) > 0}, nil
}

// CtyValue decodes an output, marked Sensitive when it is.
func (o Output) CtyValue() (cty.Value, error) {
	ty, err := ctyjson.UnmarshalType(o.Type)
	if err != nil {
		return cty.NilVal, fmt.Errorf("decode output type: %w", err)
	}
	v, err := ctyjson.Unmarshal(o.Value, ty)
	if err != nil {
		return cty.NilVal, fmt.Errorf("decode output value: %w", err)
	}
	if o.Sensitive {
		v = v.Mark(Sensitive)
	}
	return v, nil
}

// decodeAttributes reads attributes written by SetValue. SetValue stores
// values with their concrete types, so an attribute the schema declares
// dynamic (terraform_data's input) has no {"value","type"} wrapper: for
// such schemas the JSON's own shape is decoded and converted to ty.
func decodeAttributes(raw json.RawMessage, ty cty.Type) (cty.Value, error) {
	if !ty.HasDynamicTypes() {
		return ctyjson.Unmarshal(raw, ty)
	}
	implied, err := ctyjson.ImpliedType(raw)
	if err != nil {
		return cty.NilVal, err
	}
	v, err := ctyjson.Unmarshal(raw, implied)
	if err != nil {
		return cty.NilVal, err
	}
	return convert.Convert(v, ty)
}

// marshalMarked encodes v without its marks and returns the paths that
// carried Sensitive.
func marshalMarked(v cty.Value) (json.RawMessage, []string, error) {
	if !v.IsWhollyKnown() {
		return nil, nil, fmt.Errorf("value is not fully known; state can only hold known values")
	}
	plain, pvm := v.UnmarkDeepWithPaths()
	raw, err := ctyjson.Marshal(plain, plain.Type())
	if err != nil {
		return nil, nil, err
	}
	var paths []string
	for _, m := range pvm {
		if _, ok := m.Marks[Sensitive]; ok {
			paths = append(paths, FormatPath(m.Path))
		}
	}
	return raw, sortedSet(paths), nil
}
