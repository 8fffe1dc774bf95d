package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/zclconf/go-cty/cty"
)

type keyKind uint8

const (
	noKey keyKind = iota
	intKey
	stringKey
)

// IndexKey identifies one instance of a resource: none (no count/for_each),
// an int (count.index) or a string (each.key). The zero value is "none".
// IndexKey is comparable, so it can be used as a map key.
type IndexKey struct {
	kind keyKind
	num  int
	str  string
}

// NoKey is the key of a resource without count or for_each.
func NoKey() IndexKey { return IndexKey{} }

// IntKey is the key of a count instance.
func IntKey(i int) IndexKey { return IndexKey{kind: intKey, num: i} }

// StringKey is the key of a for_each instance.
func StringKey(s string) IndexKey { return IndexKey{kind: stringKey, str: s} }

// IsZero reports whether k is NoKey (and lets `omitzero` drop it from JSON).
func (k IndexKey) IsZero() bool { return k.kind == noKey }

// Int returns the count index and whether k is one.
func (k IndexKey) Int() (int, bool) { return k.num, k.kind == intKey }

// Str returns the for_each key and whether k is one.
func (k IndexKey) Str() (string, bool) { return k.str, k.kind == stringKey }

// Value is the key as cty (count.index / each.key); cty.NilVal for NoKey.
func (k IndexKey) Value() cty.Value {
	switch k.kind {
	case intKey:
		return cty.NumberIntVal(int64(k.num))
	case stringKey:
		return cty.StringVal(k.str)
	}
	return cty.NilVal
}

// String is the key as it appears in an address: "", "[0]" or `["a"]`.
func (k IndexKey) String() string {
	switch k.kind {
	case intKey:
		return "[" + strconv.Itoa(k.num) + "]"
	case stringKey:
		return "[" + quoteHCL(k.str) + "]"
	}
	return ""
}

// Less orders keys: none first, then ints numerically, then strings.
func (k IndexKey) Less(o IndexKey) bool {
	if k.kind != o.kind {
		return k.kind < o.kind
	}
	if k.kind == intKey {
		return k.num < o.num
	}
	return k.str < o.str
}

// MarshalJSON writes null, a number or a string.
func (k IndexKey) MarshalJSON() ([]byte, error) {
	switch k.kind {
	case intKey:
		return []byte(strconv.Itoa(k.num)), nil
	case stringKey:
		return json.Marshal(k.str)
	}
	return []byte("null"), nil
}

// UnmarshalJSON accepts null, a non-negative integer or a string.
func (k *IndexKey) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*k = NoKey()
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*k = StringKey(s)
		return nil
	}
	n, err := strconv.Atoi(string(b))
	if err != nil || n < 0 {
		return fmt.Errorf("index_key %s: want null, a non-negative integer or a string", b)
	}
	*k = IntKey(n)
	return nil
}

// quoteHCL quotes s as an HCL string literal. strconv.Quote does not fit:
// HCL has no \x or \a escapes, and it treats "${" and "%{" as template
// sequences, which must be doubled to stay literal.
func quoteHCL(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case (r == '$' || r == '%') && strings.HasPrefix(s[i+1:], "{"):
			b.WriteRune(r) // doubled: "$${" is a literal "${"
			b.WriteRune(r)
		case !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\U%08x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
