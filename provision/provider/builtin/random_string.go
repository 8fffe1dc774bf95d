package builtin

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"unicode/utf8"

	"github.com/zclconf/go-cty/cty"
	"golang.org/x/crypto/bcrypt"

	"github.com/airctl/airctl/provision/provider"
)

// Character classes, as in Terraform's random provider.
const (
	numericChars = "0123456789"
	lowerChars   = "abcdefghijklmnopqrstuvwxyz"
	upperChars   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	specialChars = "!@#$%&*()-_=+[]{}<>:?"
)

// bcryptMaxBytes is bcrypt's input limit; longer passwords are hashed on
// their first 72 bytes, which is all bcrypt ever looked at.
const bcryptMaxBytes = 72

// stringKind distinguishes random_password from random_string.
type stringKind struct {
	password bool // result and bcrypt_hash sensitive, id "none"
}

func randomPassword() *provider.Resource { return stringResource(stringKind{password: true}) }
func randomString() *provider.Resource   { return stringResource(stringKind{}) }

func stringResource(k stringKind) *provider.Resource {
	s := stringSchema(k)
	return &provider.Resource{
		Schema:        s,
		CustomizePlan: planRandomString,
		Create: func(_ context.Context, planned cty.Value) (cty.Value, error) {
			opts, err := stringOptionsOf(planned)
			if err != nil {
				return cty.NilVal, err
			}
			result, err := opts.generate()
			if err != nil {
				return cty.NilVal, err
			}
			return k.withResult(planned, result)
		},
		Delete: func(context.Context, cty.Value) error { return nil },
		Import: func(_ context.Context, id string) (cty.Value, error) {
			return k.imported(s, id)
		},
	}
}

func stringSchema(k stringKind) *provider.Schema {
	flag := func(desc string) *provider.Attribute {
		return &provider.Attribute{Type: cty.Bool, Optional: true, Computed: true, ForceNew: true, Default: cty.True, Description: desc}
	}
	minimum := func(desc string) *provider.Attribute {
		return &provider.Attribute{Type: cty.Number, Optional: true, Computed: true, ForceNew: true, Default: cty.Zero, Description: desc}
	}
	s := &provider.Schema{Attributes: map[string]*provider.Attribute{
		"keepers":          {Type: cty.Map(cty.String), Optional: true, ForceNew: true, Description: "Arbitrary values; changing them generates a new result."},
		"length":           {Type: cty.Number, Required: true, ForceNew: true, Description: "Length of the result."},
		"special":          flag("Include special characters."),
		"upper":            flag("Include upper-case letters."),
		"lower":            flag("Include lower-case letters."),
		"numeric":          flag("Include digits."),
		"number":           flag("Deprecated alias of numeric."),
		"min_numeric":      minimum("Minimum number of digits."),
		"min_upper":        minimum("Minimum number of upper-case letters."),
		"min_lower":        minimum("Minimum number of lower-case letters."),
		"min_special":      minimum("Minimum number of special characters."),
		"override_special": {Type: cty.String, Optional: true, ForceNew: true, Description: "Special characters to use instead of the default set."},
		"result":           {Type: cty.String, Computed: true, Sensitive: k.password, Description: "The generated value."},
		"id":               {Type: cty.String, Computed: true},
	}}
	if k.password {
		s.Attributes["bcrypt_hash"] = &provider.Attribute{Type: cty.String, Computed: true, Sensitive: true, Description: "bcrypt hash of result."}
	}
	return s
}

// planRandomString keeps the deprecated number and numeric in step (setting
// either sets both, as Terraform does) and rejects impossible settings at
// plan time rather than at apply.
func planRandomString(_ context.Context, _, config cty.Value, plan *provider.PlanResponse) error {
	cfgNumber, cfgNumeric := provider.GetAttr(config, "number"), provider.GetAttr(config, "numeric")
	switch {
	case !cfgNumber.IsNull() && cfgNumeric.IsNull():
		plan.Planned = provider.SetAttrs(plan.Planned, map[string]cty.Value{"numeric": cfgNumber})
	case cfgNumber.IsNull() && !cfgNumeric.IsNull():
		plan.Planned = provider.SetAttrs(plan.Planned, map[string]cty.Value{"number": cfgNumeric})
	case cfgNumber.IsKnown() && cfgNumeric.IsKnown() && !cfgNumber.IsNull() && cfgNumber.True() != cfgNumeric.True():
		return errors.New("number and numeric disagree; number is deprecated, set only numeric")
	}
	if !onlyComputedUnknown(plan.Planned) {
		return nil // an argument refers to something not yet created: check at apply
	}
	_, err := stringOptionsOf(plan.Planned)
	return err
}

// onlyComputedUnknown is true when every argument is known: only result,
// id and bcrypt_hash, which apply fills, are unknown.
func onlyComputedUnknown(v cty.Value) bool {
	for name, av := range v.AsValueMap() {
		switch name {
		case "result", "id", "bcrypt_hash":
			continue
		}
		if !av.IsWhollyKnown() {
			return false
		}
	}
	return true
}

// stringOptions is what generation needs, read from a planned value.
type stringOptions struct {
	length                 int
	upper, lower, numeric  bool
	special                bool
	specials               string
	minUpper, minLower     int
	minNumeric, minSpecial int
}

func stringOptionsOf(v cty.Value) (stringOptions, error) {
	o := stringOptions{
		upper:    provider.Bool(v, true, "upper"),
		lower:    provider.Bool(v, true, "lower"),
		numeric:  provider.Bool(v, true, "numeric") && provider.Bool(v, true, "number"),
		special:  provider.Bool(v, true, "special"),
		specials: specialChars,
	}
	if s := provider.String(v, "override_special"); s != "" {
		o.specials = s
	}
	var err error
	ints := []struct {
		name string
		dst  *int
	}{{"length", &o.length}, {"min_upper", &o.minUpper}, {"min_lower", &o.minLower}, {"min_numeric", &o.minNumeric}, {"min_special", &o.minSpecial}}
	for _, f := range ints {
		if *f.dst, err = nonNegativeInt(v, f.name); err != nil {
			return o, err
		}
	}
	return o, o.check()
}

func (o stringOptions) check() error {
	minSum := o.minUpper + o.minLower + o.minNumeric + o.minSpecial
	switch {
	case o.length < 1:
		return errors.New("length must be at least 1")
	case o.length < minSum:
		return fmt.Errorf("length (%d) must be at least the sum of min_upper, min_lower, min_numeric and min_special (%d)", o.length, minSum)
	case o.charset() == "":
		return errors.New("at least one of upper, lower, numeric and special must be true")
	}
	return nil
}

func nonNegativeInt(v cty.Value, name string) (int, error) {
	raw := provider.GetAttr(v, name)
	if raw.IsNull() {
		return 0, nil
	}
	n, ok := provider.Int(v, name)
	if !ok || n < 0 || n > 1<<20 {
		return 0, fmt.Errorf("%s must be a whole number between 0 and %d", name, 1<<20)
	}
	return int(n), nil
}

func (o stringOptions) charset() string {
	var cs string
	for _, c := range []struct {
		on    bool
		chars string
	}{{o.upper, upperChars}, {o.lower, lowerChars}, {o.numeric, numericChars}, {o.special, o.specials}} {
		if c.on {
			cs += c.chars
		}
	}
	return cs
}

// generate makes the string as Terraform does: the minimum of each class
// first (whether or not the class is otherwise enabled, as Terraform), the
// rest from the enabled classes, then a shuffle so that the classes are not
// in a predictable order.
func (o stringOptions) generate() (string, error) {
	var out []rune
	for _, part := range []struct {
		chars string
		n     int
	}{{numericChars, o.minNumeric}, {lowerChars, o.minLower}, {upperChars, o.minUpper}, {o.specials, o.minSpecial}} {
		b, err := randomChars(part.chars, part.n)
		if err != nil {
			return "", err
		}
		out = append(out, b...)
	}
	rest, err := randomChars(o.charset(), o.length-len(out))
	if err != nil {
		return "", err
	}
	out = append(out, rest...)
	if err := shuffle(out); err != nil {
		return "", err
	}
	return string(out), nil
}

// randomChars picks n characters uniformly from chars. It works on runes
// so that a non-ASCII override_special cannot produce broken UTF-8.
func randomChars(chars string, n int) ([]rune, error) {
	set := []rune(chars)
	out := make([]rune, n)
	for i := range out {
		j, err := randIntn(len(set))
		if err != nil {
			return nil, err
		}
		out[i] = set[j]
	}
	return out, nil
}

// shuffle is Fisher-Yates driven by crypto/rand.
func shuffle(b []rune) error {
	for i := len(b) - 1; i > 0; i-- {
		j, err := randIntn(i + 1)
		if err != nil {
			return err
		}
		b[i], b[j] = b[j], b[i]
	}
	return nil
}

func randIntn(n int) (int, error) {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0, fmt.Errorf("read random bytes: %w", err)
	}
	return int(v.Int64()), nil
}

func (k stringKind) withResult(v cty.Value, result string) (cty.Value, error) {
	attrs := map[string]cty.Value{"result": cty.StringVal(result), "id": cty.StringVal(result)}
	if k.password {
		hash, err := bcryptHash(result)
		if err != nil {
			return cty.NilVal, err
		}
		attrs["id"] = cty.StringVal("none")
		attrs["bcrypt_hash"] = cty.StringVal(hash)
	}
	return provider.SetAttrs(v, attrs), nil
}

func bcryptHash(s string) (string, error) {
	b := []byte(s)
	if len(b) > bcryptMaxBytes {
		b = b[:bcryptMaxBytes]
	}
	h, err := bcrypt.GenerateFromPassword(b, bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("bcrypt: %w", err)
	}
	return string(h), nil
}

// imported is the state for an existing value: the import ID is the value
// itself and every option takes its default, as Terraform's import does.
func (k stringKind) imported(s *provider.Schema, id string) (cty.Value, error) {
	if id == "" {
		return cty.NilVal, errors.New("the import ID is the value itself and cannot be empty")
	}
	v := provider.ObjectWith(s, map[string]cty.Value{
		"length":  cty.NumberIntVal(int64(utf8.RuneCountInString(id))),
		"special": cty.True, "upper": cty.True, "lower": cty.True, "numeric": cty.True, "number": cty.True,
		"min_numeric": cty.Zero, "min_upper": cty.Zero, "min_lower": cty.Zero, "min_special": cty.Zero,
	})
	return k.withResult(v, id)
}
