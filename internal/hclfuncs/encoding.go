package hclfuncs

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"net/url"
	"unicode/utf8"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

func encodingFunctions() map[string]function.Function {
	return map[string]function.Function{
		"base64decode": base64DecodeFunc(),
		"base64encode": StringFunc("Encodes str as base64.", func(s string) (string, error) {
			return base64.StdEncoding.EncodeToString([]byte(s)), nil
		}),
		"base64sha256": StringFunc("Returns the base64-encoded SHA-256 digest of str.", func(s string) (string, error) {
			sum := sha256.Sum256([]byte(s))
			return base64.StdEncoding.EncodeToString(sum[:]), nil
		}),
		"csvdecode":  stdlib.CSVDecodeFunc,
		"jsondecode": stdlib.JSONDecodeFunc,
		"jsonencode": stdlib.JSONEncodeFunc,
		"md5":        hashFunc("MD5", md5.New),
		"sha1":       hashFunc("SHA-1", sha1.New),
		"sha256":     hashFunc("SHA-256", sha256.New),
		"sha512":     hashFunc("SHA-512", sha512.New),
		"urlencode": StringFunc("Percent-encodes str for use in a URL query.", func(s string) (string, error) {
			return url.QueryEscape(s), nil
		}),
	}
}

// StringFunc wraps a string→string Go function as a cty function.
func StringFunc(desc string, fn func(string) (string, error)) function.Function {
	return function.New(&function.Spec{
		Description: desc,
		Params:      []function.Parameter{{Name: "str", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			out, err := fn(args[0].AsString())
			if err != nil {
				return cty.NilVal, err
			}
			return cty.StringVal(out), nil
		},
	})
}

// hashFunc returns the lowercase hex digest of a string's UTF-8 bytes.
func hashFunc(name string, newHash func() hash.Hash) function.Function {
	return StringFunc("Returns the hex-encoded "+name+" digest of str.", func(s string) (string, error) {
		h := newHash()
		h.Write([]byte(s))
		return hex.EncodeToString(h.Sum(nil)), nil
	})
}

// base64DecodeFunc refuses results that are not UTF-8, since cty strings
// must be valid Unicode (Terraform does the same).
func base64DecodeFunc() function.Function {
	return StringFunc("Decodes base64 str.", func(s string) (string, error) {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return "", errors.New("failed to decode base64 data: " + err.Error())
		}
		if !utf8.Valid(b) {
			return "", errors.New("the result of decoding the provided string is not valid UTF-8")
		}
		return string(b), nil
	})
}
