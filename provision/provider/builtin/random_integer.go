package builtin

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"hash/crc32"
	"math/big"
	mrand "math/rand/v2"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision/provider"
)

var randomIntegerSchema = &provider.Schema{Attributes: map[string]*provider.Attribute{
	"keepers": {Type: cty.Map(cty.String), Optional: true, ForceNew: true, Description: "Arbitrary values; changing them generates a new result."},
	"min":     {Type: cty.Number, Required: true, ForceNew: true, Description: "Smallest possible result."},
	"max":     {Type: cty.Number, Required: true, ForceNew: true, Description: "Largest possible result."},
	"seed":    {Type: cty.String, Optional: true, ForceNew: true, Description: "Makes the result deterministic for given min and max."},
	"result":  {Type: cty.Number, Computed: true},
	"id":      {Type: cty.String, Computed: true},
}}

func randomInteger() *provider.Resource {
	return &provider.Resource{
		Schema: randomIntegerSchema,
		CustomizePlan: func(_ context.Context, _, _ cty.Value, plan *provider.PlanResponse) error {
			if !provider.GetAttr(plan.Planned, "min").IsKnown() || !provider.GetAttr(plan.Planned, "max").IsKnown() {
				return nil
			}
			_, _, err := intRange(plan.Planned)
			return err
		},
		Create: func(_ context.Context, planned cty.Value) (cty.Value, error) {
			lo, hi, err := intRange(planned)
			if err != nil {
				return cty.NilVal, err
			}
			n, err := pickInt(lo, hi, provider.GetAttr(planned, "seed"))
			if err != nil {
				return cty.NilVal, err
			}
			return withInt(planned, n), nil
		},
		Delete: func(context.Context, cty.Value) error { return nil },
		Import: importRandomInteger,
	}
}

func intRange(v cty.Value) (lo, hi int64, err error) {
	lo, okLo := provider.Int(v, "min")
	hi, okHi := provider.Int(v, "max")
	switch {
	case !okLo || !okHi:
		return 0, 0, errors.New("min and max must be whole numbers")
	case lo > hi:
		return 0, 0, fmt.Errorf("min (%d) must not be greater than max (%d)", lo, hi)
	}
	return lo, hi, nil
}

// pickInt draws from [lo, hi]: from crypto/rand, or, with a seed, from a
// generator seeded by it so the same seed gives the same result (the
// numbers differ from Terraform's, which uses another generator).
func pickInt(lo, hi int64, seed cty.Value) (int64, error) {
	span := new(big.Int).Sub(big.NewInt(hi), big.NewInt(lo))
	span.Add(span, big.NewInt(1))
	if !seed.IsNull() && seed.IsKnown() {
		sum := crc32.ChecksumIEEE([]byte(seed.AsString()))
		r := mrand.New(mrand.NewPCG(uint64(sum), uint64(sum)))
		if span.IsUint64() {
			return lo + int64(r.Uint64N(span.Uint64())), nil
		}
		return lo + int64(r.Uint64()), nil // the whole int64 range
	}
	off, err := rand.Int(rand.Reader, span)
	if err != nil {
		return 0, fmt.Errorf("read random bytes: %w", err)
	}
	return new(big.Int).Add(off, big.NewInt(lo)).Int64(), nil
}

func withInt(v cty.Value, n int64) cty.Value {
	return provider.SetAttrs(v, map[string]cty.Value{
		"result": cty.NumberIntVal(n),
		"id":     cty.StringVal(strconv.FormatInt(n, 10)),
	})
}

// importRandomInteger takes Terraform's import ID: "result,min,max" with
// an optional ",seed".
func importRandomInteger(_ context.Context, id string) (cty.Value, error) {
	parts := strings.SplitN(id, ",", 4)
	if len(parts) < 3 {
		return cty.NilVal, fmt.Errorf("import ID must be result,min,max[,seed], not %q", id)
	}
	var nums [3]int64
	for i, p := range parts[:3] {
		n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
		if err != nil {
			return cty.NilVal, fmt.Errorf("import ID must be result,min,max[,seed]: %w", err)
		}
		nums[i] = n
	}
	attrs := map[string]cty.Value{"min": cty.NumberIntVal(nums[1]), "max": cty.NumberIntVal(nums[2])}
	if len(parts) == 4 {
		attrs["seed"] = cty.StringVal(parts[3])
	}
	v := provider.ObjectWith(randomIntegerSchema, attrs)
	if _, _, err := intRange(v); err != nil {
		return cty.NilVal, err
	}
	if nums[0] < nums[1] || nums[0] > nums[2] {
		return cty.NilVal, fmt.Errorf("result %d is outside min..max", nums[0])
	}
	return withInt(v, nums[0]), nil
}
