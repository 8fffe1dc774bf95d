package state

import (
	"cmp"
	"fmt"
	"math/big"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Address names a resource instance: "google_compute_instance.vm",
// "google_compute_instance.vm[0]", `google_storage_bucket.b["logs"]`,
// "data.google_project.p". With a zero Key it also names a whole resource.
type Address struct {
	Mode Mode
	Type string
	Name string
	Key  IndexKey
}

// ParseAddress parses an address as users type it on the command line
// (`airctl state show ADDR`). It uses the HCL traversal parser so that quoting
// and escapes in for_each keys behave exactly as in configuration files.
func ParseAddress(s string) (Address, error) {
	trav, diags := hclsyntax.ParseTraversalAbs([]byte(s), "", hcl.InitialPos)
	if diags.HasErrors() {
		return Address{}, addrError(s, diags.Error())
	}
	a, rest, err := addressHead(trav)
	if err != nil {
		return Address{}, addrError(s, err.Error())
	}
	if len(rest) > 1 {
		return Address{}, addrError(s, "unexpected text after the index")
	}
	if len(rest) == 1 {
		if a.Key, err = keyFromStep(rest[0]); err != nil {
			return Address{}, addrError(s, err.Error())
		}
	}
	return a, nil
}

// MustParseAddress is ParseAddress for literals in code and tests.
func MustParseAddress(s string) Address {
	a, err := ParseAddress(s)
	if err != nil {
		panic(err)
	}
	return a
}

func addrError(s, why string) error {
	return fmt.Errorf("invalid resource address %q: %s; expected TYPE.NAME, TYPE.NAME[0], TYPE.NAME[\"key\"] or data.TYPE.NAME", s, why)
}

// addressHead reads mode, type and name and returns the remaining steps.
func addressHead(trav hcl.Traversal) (Address, hcl.Traversal, error) {
	names := []string{trav.RootName()}
	rest := trav[1:]
	for len(rest) > 0 && len(names) < 3 {
		attr, ok := rest[0].(hcl.TraverseAttr)
		if !ok {
			break
		}
		names = append(names, attr.Name)
		rest = rest[1:]
		if names[0] != "data" && len(names) == 2 {
			break
		}
	}
	switch {
	case names[0] == "data" && len(names) == 3:
		return Address{Mode: Data, Type: names[1], Name: names[2]}, rest, nil
	case names[0] != "data" && len(names) == 2:
		return Address{Mode: Managed, Type: names[0], Name: names[1]}, rest, nil
	}
	return Address{}, nil, fmt.Errorf("missing resource name")
}

func keyFromStep(step hcl.Traverser) (IndexKey, error) {
	idx, ok := step.(hcl.TraverseIndex)
	if !ok {
		return IndexKey{}, fmt.Errorf("expected an index such as [0] or [\"key\"]")
	}
	return KeyFromValue(idx.Key)
}

// KeyFromValue converts count.index / each.key values to an IndexKey.
func KeyFromValue(v cty.Value) (IndexKey, error) {
	if v.IsNull() || !v.IsKnown() {
		return IndexKey{}, fmt.Errorf("index must be a known number or string")
	}
	switch v.Type() {
	case cty.String:
		return StringKey(v.AsString()), nil
	case cty.Number:
		i, acc := v.AsBigFloat().Int64()
		if acc != big.Exact || i < 0 || int64(int(i)) != i {
			return IndexKey{}, fmt.Errorf("index %s must be a whole number >= 0", v.AsBigFloat().String())
		}
		return IntKey(int(i)), nil
	}
	return IndexKey{}, fmt.Errorf("index must be a number or a string, not %s", v.Type().FriendlyName())
}

// String formats the address so that ParseAddress reads it back.
func (a Address) String() string {
	s := a.Type + "." + a.Name + a.Key.String()
	if a.Mode == Data {
		return "data." + s
	}
	return s
}

// mode treats the zero Mode as Managed, so Address{Type: t, Name: n} works.
func (a Address) mode() Mode {
	if a.Mode == "" {
		return Managed
	}
	return a.Mode
}

func (a Address) normal() Address {
	a.Mode = a.mode()
	return a
}

// Resource is the address of the whole resource (the key dropped).
func (a Address) Resource() Address {
	a.Key = NoKey()
	return a
}

// Instance returns the address of one instance of this resource.
func (a Address) Instance(k IndexKey) Address {
	a.Key = k
	return a
}

// Less orders addresses as `state list` prints them: managed resources
// before data sources, then by type, name and key.
func (a Address) Less(b Address) bool { return compareAddr(a, b) < 0 }

// compareAddr compares field by field (no string building: it runs in every
// sort of a state on every write).
func compareAddr(a, b Address) int {
	if c := cmp.Compare(modeRank(a.mode()), modeRank(b.mode())); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Type, b.Type); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	switch {
	case a.Key.Less(b.Key):
		return -1
	case b.Key.Less(a.Key):
		return 1
	}
	return 0
}

func modeRank(m Mode) int {
	if m == Data {
		return 1
	}
	return 0
}
