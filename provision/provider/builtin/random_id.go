package builtin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision/provider"
)

var randomIDSchema = &provider.Schema{Attributes: map[string]*provider.Attribute{
	"keepers":     {Type: cty.Map(cty.String), Optional: true, ForceNew: true, Description: "Arbitrary values; changing them generates a new ID."},
	"byte_length": {Type: cty.Number, Required: true, ForceNew: true, Description: "Number of random bytes."},
	"prefix":      {Type: cty.String, Optional: true, ForceNew: true, Description: "Prepended to hex, dec, b64_url and b64_std."},
	"b64_url":     {Type: cty.String, Computed: true},
	"b64_std":     {Type: cty.String, Computed: true},
	"hex":         {Type: cty.String, Computed: true},
	"dec":         {Type: cty.String, Computed: true},
	"id":          {Type: cty.String, Computed: true, Description: "The bytes in unpadded URL-safe base64, without the prefix."},
}}

// maxIDBytes bounds byte_length so a typo cannot ask for gigabytes.
const maxIDBytes = 1 << 16

func randomID() *provider.Resource {
	return &provider.Resource{
		Schema: randomIDSchema,
		CustomizePlan: func(_ context.Context, _, _ cty.Value, plan *provider.PlanResponse) error {
			if !provider.GetAttr(plan.Planned, "byte_length").IsKnown() {
				return nil
			}
			_, err := byteLength(plan.Planned)
			return err
		},
		Create: func(_ context.Context, planned cty.Value) (cty.Value, error) {
			n, err := byteLength(planned)
			if err != nil {
				return cty.NilVal, err
			}
			b := make([]byte, n)
			if _, err := rand.Read(b); err != nil {
				return cty.NilVal, fmt.Errorf("read random bytes: %w", err)
			}
			return withIDBytes(planned, b), nil
		},
		Delete: func(context.Context, cty.Value) error { return nil },
		Import: importRandomID,
	}
}

func byteLength(v cty.Value) (int, error) {
	n, ok := provider.Int(v, "byte_length")
	if !ok || n < 1 || n > maxIDBytes {
		return 0, fmt.Errorf("byte_length must be a whole number between 1 and %d", maxIDBytes)
	}
	return int(n), nil
}

// withIDBytes fills the computed encodings of b, as Terraform's random_id.
func withIDBytes(v cty.Value, b []byte) cty.Value {
	prefix := provider.String(v, "prefix")
	b64url := base64.RawURLEncoding.EncodeToString(b)
	return provider.SetAttrs(v, map[string]cty.Value{
		"byte_length": cty.NumberIntVal(int64(len(b))),
		"id":          cty.StringVal(b64url),
		"b64_url":     cty.StringVal(prefix + b64url),
		"b64_std":     cty.StringVal(prefix + base64.StdEncoding.EncodeToString(b)),
		"hex":         cty.StringVal(prefix + hex.EncodeToString(b)),
		"dec":         cty.StringVal(prefix + new(big.Int).SetBytes(b).String()),
	})
}

// importRandomID takes Terraform's import ID: the unpadded URL-safe base64
// bytes, optionally preceded by "prefix,".
func importRandomID(_ context.Context, id string) (cty.Value, error) {
	prefix, enc := "", id
	if i := strings.LastIndexByte(id, ','); i >= 0 {
		prefix, enc = id[:i], id[i+1:]
	}
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return cty.NilVal, fmt.Errorf("import ID must be unpadded URL-safe base64, optionally as prefix,value: %w", err)
	}
	if len(b) == 0 {
		return cty.NilVal, errors.New("import ID holds no bytes")
	}
	v := provider.ObjectWith(randomIDSchema, nil)
	if prefix != "" {
		v = provider.SetAttrs(v, map[string]cty.Value{"prefix": cty.StringVal(prefix)})
	}
	return withIDBytes(v, b), nil
}
