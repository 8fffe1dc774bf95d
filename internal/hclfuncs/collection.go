package hclfuncs

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// The functions here differ from cty's stdlib in the ways Terraform's do, so
// that Terraform files behave the same under airctl.

// lengthFunc also counts string characters (grapheme clusters) and object
// attributes, which cty's collection-only length does not.
func lengthFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Returns the length of a string, collection or structural value.",
		Params: []function.Parameter{{
			Name: "value", Type: cty.DynamicPseudoType,
			AllowDynamicType: true, AllowUnknown: true, AllowMarked: true,
		}},
		Type: func(args []cty.Value) (cty.Type, error) {
			ty := args[0].Type()
			switch {
			case ty == cty.String, ty == cty.DynamicPseudoType, ty.IsCollectionType(),
				ty.IsTupleType(), ty.IsObjectType():
				return cty.Number, nil
			}
			return cty.NilType, errors.New("argument must be a string, a collection type, or a structural type")
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			v, marks := args[0].Unmark()
			ty := v.Type()
			switch {
			case ty.IsObjectType():
				return cty.NumberIntVal(int64(len(ty.AttributeTypes()))).WithMarks(marks), nil
			case ty.IsTupleType():
				return cty.NumberIntVal(int64(len(ty.TupleElementTypes()))).WithMarks(marks), nil
			case !v.IsKnown():
				return cty.UnknownVal(cty.Number).WithMarks(marks), nil
			case ty == cty.String:
				n, err := stdlib.Strlen(v)
				return n.WithMarks(marks), err
			}
			return v.Length().WithMarks(marks), nil
		},
	})
}

// indexFunc is Terraform's index(list, value): the position of value in
// list. (cty's stdlib "index" is element lookup by key, a different function.)
func indexFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Returns the index of the first element of list equal to value.",
		Params: []function.Parameter{
			{Name: "list", Type: cty.DynamicPseudoType},
			{Name: "value", Type: cty.DynamicPseudoType},
		},
		Type: function.StaticReturnType(cty.Number),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			list, value := args[0], args[1]
			ty := list.Type()
			if !ty.IsListType() && !ty.IsTupleType() {
				return cty.NilVal, errors.New("argument must be a list or tuple")
			}
			if list.LengthInt() == 0 {
				return cty.NilVal, errors.New("cannot search an empty list")
			}
			for it := list.ElementIterator(); it.Next(); {
				i, v := it.Element()
				eq, err := stdlib.Equal(v, value)
				if err != nil {
					return cty.NilVal, err
				}
				if !eq.IsKnown() {
					return cty.UnknownVal(cty.Number), nil
				}
				if eq.True() {
					return i, nil
				}
			}
			return cty.NilVal, errors.New("item not found")
		},
	})
}

// coalesceFunc skips empty strings as well as nulls, as Terraform's does.
func coalesceFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Returns the first argument that is not null or an empty string.",
		VarParam: &function.Parameter{
			Name: "vals", Type: cty.DynamicPseudoType,
			AllowUnknown: true, AllowDynamicType: true, AllowNull: true,
		},
		Type: func(args []cty.Value) (cty.Type, error) {
			types := make([]cty.Type, len(args))
			for i, v := range args {
				types[i] = v.Type()
			}
			ty, _ := convert.UnifyUnsafe(types)
			if ty == cty.NilType {
				return cty.NilType, errors.New("all arguments must have the same type")
			}
			return ty, nil
		},
		Impl: func(args []cty.Value, ty cty.Type) (cty.Value, error) {
			for _, v := range args {
				v, _ = convert.Convert(v, ty) // cannot fail: Type unified them
				switch {
				case !v.IsKnown():
					return cty.UnknownVal(ty), nil
				case v.IsNull():
					continue
				case ty == cty.String && v.RawEquals(cty.StringVal("")):
					continue
				}
				return v, nil
			}
			return cty.NilVal, errors.New("no non-null, non-empty-string arguments")
		},
	})
}

// lookupFunc is cty's lookup plus the two-argument form (no default) that
// Terraform still accepts, which fails when the key is absent. Marks on the
// map and key carry over to the result.
func lookupFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Returns the element of a map with the given key, or the default if given and the key is absent.",
		Params: []function.Parameter{
			{Name: "inputMap", Type: cty.DynamicPseudoType, AllowMarked: true},
			{Name: "key", Type: cty.String, AllowMarked: true},
		},
		VarParam: &function.Parameter{Name: "default", Type: cty.DynamicPseudoType, AllowMarked: true, AllowNull: true},
		Type:     lookupType,
		Impl:     lookupImpl,
	})
}

func lookupType(args []cty.Value) (cty.Type, error) {
	if len(args) > 3 {
		return cty.NilType, fmt.Errorf("lookup takes 2 or 3 arguments, got %d", len(args))
	}
	ty := args[0].Type()
	switch {
	case ty.IsObjectType():
		if !args[1].IsKnown() {
			return cty.DynamicPseudoType, nil
		}
		key, _ := args[1].Unmark()
		if ty.HasAttribute(key.AsString()) {
			return ty.AttributeType(key.AsString()), nil
		}
		if len(args) == 3 {
			return args[2].Type(), nil
		}
		return cty.NilType, function.NewArgErrorf(0, "the given object has no attribute %q", key.AsString())
	case ty.IsMapType():
		if len(args) == 3 {
			if _, err := convert.Convert(args[2], ty.ElementType()); err != nil {
				return cty.NilType, function.NewArgErrorf(2, "the default value must have the same type as the map elements")
			}
		}
		return ty.ElementType(), nil
	}
	return cty.NilType, function.NewArgErrorf(0, "lookup() requires a map as the first argument")
}

func lookupImpl(args []cty.Value, ty cty.Type) (cty.Value, error) {
	m, mapMarks := args[0].Unmark()
	k, keyMarks := args[1].Unmark()
	key := k.AsString()
	if !m.IsWhollyKnown() {
		return cty.UnknownVal(ty).WithMarks(mapMarks, keyMarks), nil
	}
	switch {
	case m.Type().IsObjectType() && m.Type().HasAttribute(key):
		return m.GetAttr(key).WithMarks(mapMarks, keyMarks), nil
	case m.Type().IsMapType() && m.HasIndex(cty.StringVal(key)).True():
		return m.Index(cty.StringVal(key)).WithMarks(mapMarks, keyMarks), nil
	case len(args) < 3:
		return cty.NilVal, fmt.Errorf("lookup failed to find key %q", key)
	}
	def, err := convert.Convert(args[2], ty)
	if err != nil {
		return cty.NilVal, err
	}
	// Whether the key was absent is as secret as the map itself.
	return def.WithMarks(mapMarks, keyMarks), nil
}

// oneFunc returns the only element of a collection, or null when empty.
func oneFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Returns the single element of a list, set or tuple, null if it is empty, and an error if it has more.",
		Params:      []function.Parameter{{Name: "list", Type: cty.DynamicPseudoType}},
		Type: func(args []cty.Value) (cty.Type, error) {
			ty := args[0].Type()
			switch {
			case ty.IsListType() || ty.IsSetType():
				return ty.ElementType(), nil
			case ty.IsTupleType():
				switch elems := ty.TupleElementTypes(); len(elems) {
				case 0:
					return cty.DynamicPseudoType, nil
				case 1:
					return elems[0], nil
				}
			}
			return cty.NilType, errors.New("must be a list, set, or tuple value with either zero or one elements")
		},
		Impl: func(args []cty.Value, ty cty.Type) (cty.Value, error) {
			v := args[0]
			switch v.LengthInt() {
			case 0:
				return cty.NullVal(ty), nil
			case 1:
				it := v.ElementIterator()
				it.Next()
				_, e := it.Element()
				return e, nil
			}
			return cty.NilVal, errors.New("must be a list, set, or tuple value with either zero or one elements")
		},
	})
}

// sumFunc adds the numbers of a list, set or tuple.
func sumFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Returns the total of a list, set or tuple of numbers.",
		Params:      []function.Parameter{{Name: "list", Type: cty.DynamicPseudoType}},
		Type: func(args []cty.Value) (cty.Type, error) {
			ty := args[0].Type()
			if !ty.IsListType() && !ty.IsSetType() && !ty.IsTupleType() {
				return cty.NilType, errors.New("argument must be list, set, or tuple")
			}
			return cty.Number, nil
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if args[0].LengthInt() == 0 {
				return cty.NilVal, errors.New("cannot sum an empty list")
			}
			total := new(big.Float)
			for it := args[0].ElementIterator(); it.Next(); {
				_, v := it.Element()
				if !v.IsKnown() {
					return cty.UnknownVal(cty.Number), nil
				}
				n, err := convert.Convert(v, cty.Number)
				if err != nil || n.IsNull() {
					return cty.NilVal, errors.New("argument must be a collection of non-null numbers")
				}
				total.Add(total, n.AsBigFloat())
			}
			return cty.NumberVal(total), nil
		},
	})
}

func allTrueFunc() function.Function {
	return boolReduceFunc("Returns true if all elements are true (and for an empty list).", true)
}

func anyTrueFunc() function.Function {
	return boolReduceFunc("Returns true if any element is true (false for an empty list).", false)
}

// boolReduceFunc builds alltrue (all=true) and anytrue (all=false). A null
// element counts as false; an unknown element makes the result unknown
// unless a known element already decides it.
func boolReduceFunc(desc string, all bool) function.Function {
	return function.New(&function.Spec{
		Description: desc,
		Params:      []function.Parameter{{Name: "list", Type: cty.List(cty.Bool)}},
		Type:        function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			result := cty.BoolVal(all)
			for it := args[0].ElementIterator(); it.Next(); {
				_, v := it.Element()
				switch {
				case !v.IsKnown():
					result = cty.UnknownVal(cty.Bool)
				case v.IsNull():
					if all {
						return cty.False, nil
					}
				case v.True() != all:
					// The first element that differs from the neutral value
					// decides: a false for alltrue, a true for anytrue.
					return cty.BoolVal(!all), nil
				}
			}
			return result, nil
		},
	})
}
