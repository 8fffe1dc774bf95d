package builtin_test

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/crypto/bcrypt"

	"github.com/airctl/airctl/provision/provider"
	"github.com/airctl/airctl/provision/provider/builtin"
)

func TestProvidersValidate(t *testing.T) {
	for name, newP := range builtin.Providers() {
		p, ok := newP().(*provider.Simple)
		if !ok {
			t.Fatalf("%s is not a *provider.Simple", name)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if err := p.Configure(ctx, cty.EmptyObjectVal); err != nil {
			t.Errorf("%s configure: %v", name, err)
		}
	}
}

func TestTerraformData(t *testing.T) {
	l := newLifecycle(t, builtin.Terraform(), "terraform_data")

	plan := l.plan(`input = "a"`)
	if id := provider.GetAttr(plan.Planned, "id"); id.IsKnown() {
		t.Errorf("planned id = %#v, want unknown", id)
	}
	if out := provider.GetAttr(plan.Planned, "output"); !out.RawEquals(cty.StringVal("a")) {
		t.Errorf("planned output = %#v, want the input", out)
	}

	l.apply(`input = "a"`)
	id := l.str("id")
	if _, err := uuid.Parse(id); err != nil {
		t.Fatalf("id %q is not a UUID: %v", id, err)
	}

	if plan := l.plan(`input = "a"`); !plan.Planned.RawEquals(l.state) || len(plan.RequiresReplace) > 0 {
		t.Fatalf("no-op plan changed something: %#v %v", plan.Planned, plan.RequiresReplace)
	}

	// A new input of another type updates in place.
	plan = l.apply(`input = { n = 1 }`)
	if len(plan.RequiresReplace) > 0 || l.str("id") != id {
		t.Fatalf("input change replaced: %v, id %s -> %s", plan.RequiresReplace, id, l.str("id"))
	}
	if got := provider.GetAttr(l.state, "output", "n"); !got.RawEquals(cty.NumberIntVal(1)) {
		t.Fatalf("output.n = %#v", got)
	}

	// triggers_replace replaces, and the new object's id is unknown at plan.
	l.apply(`
input = { n = 1 }
triggers_replace = ["v1"]`)
	id = l.str("id")
	plan = l.apply(`
input = { n = 1 }
triggers_replace = ["v2"]`)
	if len(plan.RequiresReplace) != 1 || provider.FormatPath(plan.RequiresReplace[0]) != "triggers_replace" {
		t.Fatalf("RequiresReplace = %v", plan.RequiresReplace)
	}
	if provider.GetAttr(plan.Planned, "id").IsKnown() || l.str("id") == id {
		t.Fatalf("replacement kept the id")
	}

	// Removing the input nulls the output.
	l.apply(`triggers_replace = ["v2"]`)
	if !provider.GetAttr(l.state, "output").IsNull() {
		t.Fatalf("output = %#v, want null", provider.GetAttr(l.state, "output"))
	}
}

func TestTerraformDataUnknownInput(t *testing.T) {
	p := builtin.Terraform()
	ty := p.Schema().Resources["terraform_data"].ImpliedType()
	config := provider.SetAttrs(cty.NullVal(ty), map[string]cty.Value{"input": cty.UnknownVal(cty.String)})
	plan, err := p.PlanResource(ctx, provider.PlanRequest{TypeName: "terraform_data", Prior: cty.NullVal(ty), Config: config})
	if err != nil {
		t.Fatal(err)
	}
	if provider.GetAttr(plan.Planned, "output").IsKnown() {
		t.Fatal("output of an unknown input must be unknown")
	}
}

func TestTerraformDataNotImportable(t *testing.T) {
	_, err := builtin.Terraform().ImportResource(ctx, "terraform_data", "x")
	if !errors.Is(err, provider.ErrNotImportable) {
		t.Fatalf("err = %v", err)
	}
}

func TestRandomPassword(t *testing.T) {
	l := newLifecycle(t, builtin.Random(), "random_password")
	const cfg = `
length           = 16
special          = true
override_special = "_%@"
`
	plan := l.plan(cfg)
	for name, want := range map[string]cty.Value{"upper": cty.True, "numeric": cty.True, "number": cty.True, "min_special": cty.Zero} {
		if got := provider.GetAttr(plan.Planned, name); !got.RawEquals(want) {
			t.Errorf("planned %s = %#v, want the default %#v", name, got, want)
		}
	}
	if provider.GetAttr(plan.Planned, "result").IsKnown() {
		t.Error("result must be unknown until apply")
	}

	l.apply(cfg)
	result := l.str("result")
	if utf8.RuneCountInString(result) != 16 || strings.Trim(result, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_%@") != "" {
		t.Fatalf("result %q has the wrong length or characters", result)
	}
	if l.str("id") != "none" {
		t.Errorf("id = %q", l.str("id"))
	}
	if err := bcrypt.CompareHashAndPassword([]byte(l.str("bcrypt_hash")), []byte(result)); err != nil {
		t.Errorf("bcrypt_hash does not match: %v", err)
	}
	s := builtin.Random().Schema().Resources["random_password"]
	if got := pathNames(s.SensitivePaths(l.state)); got != "bcrypt_hash,result" {
		t.Errorf("sensitive paths = %s", got)
	}

	if plan := l.plan(cfg); !plan.Planned.RawEquals(l.state) || len(plan.RequiresReplace) > 0 {
		t.Fatalf("re-plan is not a no-op: %v", plan.RequiresReplace)
	}

	tests := []struct {
		name string
		cfg  string
		want string
	}{
		{"keepers", cfg + `keepers = { rotate = "1" }`, "keepers"},
		{"length", strings.Replace(cfg, "16", "20", 1), "length"},
		{"default restored", strings.Replace(cfg, "special          = true", "special = false", 1), "special"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := l.plan(tt.cfg)
			if got := pathNames(plan.RequiresReplace); got != tt.want {
				t.Fatalf("RequiresReplace = %s, want %s", got, tt.want)
			}
			if provider.GetAttr(plan.Planned, "result").IsKnown() {
				t.Fatal("a replacement's result must be unknown")
			}
		})
	}
}

func pathNames(ps []cty.Path) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = provider.FormatPath(p)
	}
	return strings.Join(names, ",")
}

func TestRandomStringClasses(t *testing.T) {
	count := func(s string, f func(rune) bool) int {
		n := 0
		for _, r := range s {
			if f(r) {
				n++
			}
		}
		return n
	}
	isSpecial := func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }
	tests := []struct {
		name  string
		cfg   string
		check func(string) bool
	}{
		{"minimums", "length = 12\nmin_upper = 3\nmin_numeric = 3\nmin_special = 2\nmin_lower = 1", func(s string) bool {
			return count(s, unicode.IsUpper) >= 3 && count(s, unicode.IsDigit) >= 3 && count(s, isSpecial) >= 2 && count(s, unicode.IsLower) >= 1
		}},
		{"digits only", "length = 30\nupper = false\nlower = false\nspecial = false", func(s string) bool {
			return count(s, unicode.IsDigit) == 30
		}},
		{"deprecated number=false disables digits", "length = 40\nnumber = false", func(s string) bool {
			return count(s, unicode.IsDigit) == 0
		}},
		{"non-ASCII override_special", "length = 40\nupper = false\nlower = false\nnumeric = false\noverride_special = \"é€\"", func(s string) bool {
			return utf8.ValidString(s) && utf8.RuneCountInString(s) == 40 && strings.Trim(s, "é€") == ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 20 { // random output: check several draws
				l := newLifecycle(t, builtin.Random(), "random_string")
				l.apply(tt.cfg)
				if r := l.str("result"); !tt.check(r) || l.str("id") != r {
					t.Fatalf("result %q (id %q) fails the check", r, l.str("id"))
				}
			}
		})
	}
}

func TestRandomStringNumberMirrorsNumeric(t *testing.T) {
	l := newLifecycle(t, builtin.Random(), "random_string")
	plan := l.plan("length = 5\nnumeric = false")
	if got := provider.GetAttr(plan.Planned, "number"); !got.RawEquals(cty.False) {
		t.Fatalf("number = %#v, want false like numeric", got)
	}
	l.apply("length = 5\nnumber = false")
	if plan := l.plan("length = 5\nnumber = false"); len(plan.RequiresReplace) > 0 {
		t.Fatalf("deprecated number re-plans a replacement: %v", plan.RequiresReplace)
	}
}

func TestRandomStringPlanErrors(t *testing.T) {
	tests := []struct{ cfg, want string }{
		{"length = 0", "length must be at least 1"},
		{"length = 3\nmin_upper = 2\nmin_lower = 2", "must be at least the sum"},
		{"length = 3\nupper = false\nlower = false\nnumeric = false\nspecial = false", "at least one of"},
		{"length = 3\nnumber = true\nnumeric = false", "disagree"},
		{"length = 1.5", "whole number"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			l := newLifecycle(t, builtin.Random(), "random_string")
			if err := l.planErr(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestRandomStringUnknownLengthPlans(t *testing.T) {
	p := builtin.Random()
	s := p.Schema().Resources["random_password"]
	config := provider.ObjectWith(s, map[string]cty.Value{"length": cty.UnknownVal(cty.Number)})
	if _, err := p.PlanResource(ctx, provider.PlanRequest{TypeName: "random_password", Prior: cty.NullVal(s.ImpliedType()), Config: config}); err != nil {
		t.Fatalf("unknown length must plan: %v", err)
	}
}

func TestRandomImportStrings(t *testing.T) {
	p := builtin.Random()
	long := strings.Repeat("x", 100)
	tests := []struct {
		typeName, id, wantID string
	}{
		{"random_string", "abc", "abc"},
		{"random_password", "s3cr3t", "none"},
		{"random_password", long, "none"}, // beyond bcrypt's 72 bytes
	}
	for _, tt := range tests {
		t.Run(tt.typeName, func(t *testing.T) {
			v, err := p.ImportResource(ctx, tt.typeName, tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if provider.String(v, "result") != tt.id || provider.String(v, "id") != tt.wantID {
				t.Fatalf("imported %#v", v)
			}
			if n, _ := provider.Int(v, "length"); n != int64(len(tt.id)) {
				t.Errorf("length = %d", n)
			}
			if h := provider.String(v, "bcrypt_hash"); tt.typeName == "random_password" {
				if err := bcrypt.CompareHashAndPassword([]byte(h), []byte(tt.id[:min(len(tt.id), 72)])); err != nil {
					t.Errorf("bcrypt_hash: %v", err)
				}
			}
			// The imported state re-plans without change against a
			// configuration that states only the length.
			l := newLifecycle(t, p, tt.typeName)
			l.state = v
			if plan := l.plan("length = " + big.NewInt(int64(len(tt.id))).String()); len(plan.RequiresReplace) > 0 {
				t.Errorf("imported state needs replacement: %v", plan.RequiresReplace)
			}
		})
	}
	if _, err := p.ImportResource(ctx, "random_string", ""); err == nil {
		t.Error("empty import ID accepted")
	}
}

func TestRandomID(t *testing.T) {
	l := newLifecycle(t, builtin.Random(), "random_id")
	l.apply("byte_length = 8\nprefix = \"p-\"")
	raw, err := base64.RawURLEncoding.DecodeString(l.str("id"))
	if err != nil || len(raw) != 8 {
		t.Fatalf("id %q: %v", l.str("id"), err)
	}
	want := map[string]string{
		"hex":     "p-" + hex.EncodeToString(raw),
		"b64_url": "p-" + l.str("id"),
		"b64_std": "p-" + base64.StdEncoding.EncodeToString(raw),
		"dec":     "p-" + new(big.Int).SetBytes(raw).String(),
	}
	for name, w := range want {
		if got := l.str(name); got != w {
			t.Errorf("%s = %q, want %q", name, got, w)
		}
	}

	imported, err := builtin.Random().ImportResource(ctx, "random_id", "p-,"+l.str("id"))
	if err != nil {
		t.Fatal(err)
	}
	if !imported.RawEquals(l.state) {
		t.Errorf("import differs from the created state:\n%#v\n%#v", imported, l.state)
	}
	for _, bad := range []string{"", "!!!", "p-,"} {
		if _, err := builtin.Random().ImportResource(ctx, "random_id", bad); err == nil {
			t.Errorf("import %q accepted", bad)
		}
	}
	if err := newLifecycle(t, builtin.Random(), "random_id").planErr("byte_length = 0"); err == nil {
		t.Error("byte_length 0 accepted")
	}
}

func TestRandomInteger(t *testing.T) {
	for range 20 {
		l := newLifecycle(t, builtin.Random(), "random_integer")
		l.apply("min = 1\nmax = 3")
		n, ok := provider.Int(l.state, "result")
		if !ok || n < 1 || n > 3 || l.str("id") != big.NewInt(n).String() {
			t.Fatalf("result %d, id %q", n, l.str("id"))
		}
	}
	seeded := func() int64 {
		l := newLifecycle(t, builtin.Random(), "random_integer")
		l.apply("min = -9223372036854775808\nmax = 9223372036854775807\nseed = \"s\"")
		n, _ := provider.Int(l.state, "result")
		return n
	}
	if a, b := seeded(), seeded(); a != b {
		t.Errorf("same seed gave %d and %d", a, b)
	}
	if err := newLifecycle(t, builtin.Random(), "random_integer").planErr("min = 5\nmax = 1"); err == nil {
		t.Error("min > max accepted")
	}

	v, err := builtin.Random().ImportResource(ctx, "random_integer", "2,1,3,myseed")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := provider.Int(v, "result"); n != 2 || provider.String(v, "seed") != "myseed" {
		t.Errorf("imported %#v", v)
	}
	for _, bad := range []string{"1,2", "x,1,3", "9,1,3", "2,3,1"} {
		if _, err := builtin.Random().ImportResource(ctx, "random_integer", bad); err == nil {
			t.Errorf("import %q accepted", bad)
		}
	}
}
