package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// varsDir writes files into a temporary directory and loads its
// configuration.
func varsDir(t *testing.T, files map[string]string) (*Config, string) {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, diags := LoadDir(dir)
	if diags.HasErrors() {
		t.Fatal(renderDiags(cfg, diags))
	}
	return cfg, dir
}

func resolveOK(t *testing.T, cfg *Config, opts VarOptions) map[string]cty.Value {
	t.Helper()
	vals, diags := ResolveVariables(cfg, opts)
	if diags.HasErrors() {
		t.Fatal(renderDiags(cfg, diags))
	}
	return vals
}

func TestVariablePrecedence(t *testing.T) {
	// Variable pN is set by the first N sources, so its value names the
	// source that must win.
	var decls strings.Builder
	for _, n := range []string{"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8"} {
		decls.WriteString("variable \"" + n + "\" {\n  default = \"default\"\n}\n")
	}
	cfg, dir := varsDir(t, map[string]string{
		"main.tf":          decls.String(),
		"terraform.tfvars": "p3 = \"tfvars\"\np4 = \"tfvars\"\np5 = \"tfvars\"\np6 = \"tfvars\"\np7 = \"tfvars\"\np8 = \"tfvars\"\n",
		"a.auto.tfvars":    "p4 = \"a.auto\"\np5 = \"a.auto\"\np6 = \"a.auto\"\np7 = \"a.auto\"\np8 = \"a.auto\"\n",
		"b.auto.tfvars":    "p5 = \"b.auto\"\np6 = \"b.auto\"\np7 = \"b.auto\"\np8 = \"b.auto\"\n",
		"extra.tfvars":     "p6 = \"var-file\"\np7 = \"var-file\"\np8 = \"var-file\"\n",
	})
	env := []string{
		"TF_VAR_p1=tf-env", "TF_VAR_p2=tf-env", "TF_VAR_p3=tf-env", "TF_VAR_p4=tf-env", "TF_VAR_p5=tf-env",
		"AIRCTL_VAR_p2=airctl-env", "AIRCTL_VAR_p3=airctl-env", "AIRCTL_VAR_p5=airctl-env",
		"TF_VAR_undeclared=ignored", "PATH=/bin",
	}
	args := []VarArg{
		{Assign: "p8=early-var"}, // overridden by the -var-file given after it
		{File: filepath.Join(dir, "extra.tfvars")},
		{Assign: "p7=var"},
	}
	vals := resolveOK(t, cfg, VarOptions{Env: env, Args: args})
	want := map[string]string{
		"p0": "default", "p1": "tf-env", "p2": "airctl-env", "p3": "tfvars", "p4": "a.auto",
		"p5": "b.auto", "p6": "var-file", "p7": "var", "p8": "var-file",
	}
	for name, w := range want {
		if got := vals[name]; !got.RawEquals(cty.StringVal(w)) {
			t.Errorf("%s = %#v, want %q", name, got, w)
		}
	}
}

func TestVariableTypedParsing(t *testing.T) {
	cfg, _ := varsDir(t, map[string]string{"main.tf": `
variable "s" { type = string }
variable "n" { type = number }
variable "b" { type = bool }
variable "l" { type = list(string) }
variable "m" { type = map(number) }
variable "o" {
  type = object({
    name = string
    size = optional(number, 10)
  })
}
variable "a" { type = any }
variable "untyped" {}
`})
	vals := resolveOK(t, cfg, VarOptions{
		Env: []string{`TF_VAR_l=["x", "y"]`, `TF_VAR_m={ a = 1, b = 2 }`},
		Args: []VarArg{
			{Assign: `s="quoted" stays literal`}, {Assign: "n=42"}, {Assign: "b=true"},
			{Assign: `o={ name = "disk" }`}, {Assign: `a=[1, "two"]`}, {Assign: "untyped=[1]"},
		},
	})
	checks := map[string]cty.Value{
		"s": cty.StringVal(`"quoted" stays literal`),
		"n": cty.NumberIntVal(42),
		"b": cty.True,
		"l": cty.ListVal([]cty.Value{cty.StringVal("x"), cty.StringVal("y")}),
		"m": cty.MapVal(map[string]cty.Value{"a": cty.NumberIntVal(1), "b": cty.NumberIntVal(2)}),
		"o": cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal("disk"), "size": cty.NumberIntVal(10)}),
		"a": cty.TupleVal([]cty.Value{cty.NumberIntVal(1), cty.StringVal("two")}),
		// Untyped variables take -var strings literally, as Terraform does.
		"untyped": cty.StringVal("[1]"),
	}
	for name, want := range checks {
		if got := vals[name]; !got.RawEquals(want) {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
}

func TestVariableInvalidValues(t *testing.T) {
	cfg, dir := varsDir(t, map[string]string{
		"main.tf":          "variable \"n\" {\n  type = number\n}\nvariable \"l\" {\n  type = list(string)\n}\nvariable \"t\" {\n  type = list(number)\n}\n",
		"terraform.tfvars": "t = [1, \"x\"]\n",
	})
	_, diags := ResolveVariables(cfg, VarOptions{Args: []VarArg{{Assign: "n=many"}, {Assign: "l=[unclosed"}}})
	var got []string
	for _, d := range diags {
		if d.Summary == "Invalid value for input variable" {
			got = append(got, diagPos(d)+" "+d.Detail)
		}
	}
	slices.Sort(got)
	if len(got) != 3 {
		t.Fatalf("got %d errors:\n%s", len(got), renderDiags(cfg, diags))
	}
	for i, want := range []string{
		filepath.Join(dir, "terraform.tfvars") + ":1:5 The value for var.t from " + filepath.Join(dir, "terraform.tfvars") + " is not suitable for its type constraint list(number): at [1]: a number is required.",
		"<value for var.l from -var option>:1:1",
		"<value for var.n from -var option>:1:1 The value for var.n from -var option is not suitable for its type constraint number: a number is required.",
	} {
		if !strings.HasPrefix(got[i], want) {
			t.Errorf("error %d = %q\nwant prefix %q", i, got[i], want)
		}
	}
	// The synthetic source of a -var value renders with its text.
	if out := renderDiags(cfg, diags); !strings.Contains(out, "1: many") {
		t.Errorf("no snippet for -var value:\n%s", out)
	}
	if MissingVariables(diags) != nil {
		t.Error("invalid values reported as missing")
	}
}

func TestVariableValidation(t *testing.T) {
	src := `variable "size" {
  type    = number
  default = 3

  validation {
    condition     = var.size >= 1 && var.size <= 8
    error_message = "size must be between 1 and 8, got ${var.size}."
  }
}

variable "token" {
  type      = string
  sensitive = true

  validation {
    condition     = length(var.token) > 8
    error_message = "token ${var.token} is too short."
  }
}
`
	cfg, _ := varsDir(t, map[string]string{"main.tf": src})
	vals := resolveOK(t, cfg, VarOptions{Args: []VarArg{{Assign: "token=long-enough-token"}}})
	if !vals["size"].RawEquals(cty.NumberIntVal(3)) {
		t.Errorf("size = %#v", vals["size"])
	}

	_, diags := ResolveVariables(cfg, VarOptions{Args: []VarArg{{Assign: "size=12"}, {Assign: "token=short"}}})
	if len(diags) != 2 {
		t.Fatalf("diagnostics:\n%s", renderDiags(cfg, diags))
	}
	size, token := diags[0], diags[1]
	if size.Summary != "Invalid value for variable" || !strings.HasSuffix(diagPos(size), "main.tf:6:21") ||
		!strings.HasPrefix(size.Detail, "size must be between 1 and 8, got 12.\n\nThis was checked by the validation rule at ") ||
		!strings.Contains(size.Detail, "came from -var option") {
		t.Errorf("size diagnostic: %s %s %q", size.Summary, diagPos(size), size.Detail)
	}
	// A message that includes a sensitive value is not shown.
	if strings.Contains(token.Detail, "short") || !strings.Contains(token.Detail, "sensitive value") || !strings.HasSuffix(diagPos(token), "main.tf:16:21") {
		t.Errorf("token diagnostic: %s %q", diagPos(token), token.Detail)
	}
}

func TestVariableValidationResultType(t *testing.T) {
	src := "variable \"v\" {\n  default = \"x\"\n  validation {\n    condition     = \"maybe\"\n    error_message = \"Bad.\"\n  }\n}\n"
	cfg, _ := varsDir(t, map[string]string{"main.tf": src})
	_, diags := ResolveVariables(cfg, VarOptions{})
	if d := findDiag(diags, "Invalid variable validation result"); d == nil || !strings.HasSuffix(diagPos(d), "main.tf:4:21") {
		t.Errorf("diagnostics:\n%s", renderDiags(cfg, diags))
	}
}

func TestMissingVariables(t *testing.T) {
	src := "variable \"b\" {}\nvariable \"a\" {\n  type = number\n}\nvariable \"opt\" {\n  default = null\n}\n" +
		"variable \"check\" {\n  default = 1\n  validation {\n    condition     = var.a > var.check\n    error_message = \"a too small.\"\n  }\n}\n"
	cfg, _ := varsDir(t, map[string]string{"main.tf": src})
	vals, diags := ResolveVariables(cfg, VarOptions{})
	missing := MissingVariables(diags)
	if missing == nil || !slices.Equal(missing.Names(), []string{"a", "b"}) {
		t.Fatalf("missing = %v\n%s", missing, renderDiags(cfg, diags))
	}
	if missing.Error() != "no value for required variables: a, b" {
		t.Errorf("Error() = %q", missing.Error())
	}
	// One diagnostic per variable at its declaration; the validation that
	// depends on a missing variable is skipped, not failed.
	if len(diags) != 2 || diagPos(diags[0]) != diagPos(&hcl.Diagnostic{Subject: &cfg.Variables["b"].DeclRange}) {
		t.Errorf("diagnostics:\n%s", renderDiags(cfg, diags))
	}
	if !vals["opt"].IsNull() || !vals["check"].RawEquals(cty.NumberIntVal(1)) {
		t.Errorf("optional values: %#v", vals)
	}

	// The CLI prompts and passes the answers back.
	vals = resolveOK(t, cfg, VarOptions{Prompted: map[string]string{"a": "5", "b": "hello"}})
	if !vals["a"].RawEquals(cty.NumberIntVal(5)) || !vals["b"].RawEquals(cty.StringVal("hello")) {
		t.Errorf("prompted values: %#v", vals)
	}
}

func TestUndeclaredVariables(t *testing.T) {
	cfg, dir := varsDir(t, map[string]string{
		"main.tf":          "variable \"a\" {\n  default = 1\n}\n",
		"terraform.tfvars": "a = 2\nb = 3\n",
	})
	vals, diags := ResolveVariables(cfg, VarOptions{})
	if diags.HasErrors() || len(diags) != 1 || diags[0].Severity != hcl.DiagWarning ||
		diagPos(diags[0]) != filepath.Join(dir, "terraform.tfvars")+":2:1" {
		t.Fatalf("tfvars undeclared:\n%s", renderDiags(cfg, diags))
	}
	if !vals["a"].RawEquals(cty.NumberIntVal(2)) {
		t.Errorf("a = %#v", vals["a"])
	}
	_, diags = ResolveVariables(cfg, VarOptions{Args: []VarArg{{Assign: "b=1"}}})
	if d := findDiag(diags, "Value for undeclared variable"); d == nil || d.Severity != hcl.DiagError || !strings.Contains(d.Detail, "-var") {
		t.Errorf("-var undeclared:\n%s", renderDiags(cfg, diags))
	}
	_, diags = ResolveVariables(cfg, VarOptions{Args: []VarArg{{Assign: "no-equals-sign"}}})
	if d := findDiag(diags, "Invalid -var option"); d == nil {
		t.Errorf("malformed -var:\n%s", renderDiags(cfg, diags))
	}
	_, diags = ResolveVariables(cfg, VarOptions{Args: []VarArg{{File: filepath.Join(dir, "nope.tfvars")}}})
	if d := findDiag(diags, "Failed to read variables file"); d == nil {
		t.Errorf("missing -var-file:\n%s", renderDiags(cfg, diags))
	}
	_, diags = ResolveVariables(cfg, VarOptions{Prompted: map[string]string{"zz": "1"}})
	if d := findDiag(diags, "Value for undeclared variable"); d == nil || d.Severity != hcl.DiagError {
		t.Errorf("prompted undeclared:\n%s", renderDiags(cfg, diags))
	}
}

func TestVariableSourcesErrors(t *testing.T) {
	cfg, _ := varsDir(t, map[string]string{
		"main.tf":          "variable \"a\" {}\n",
		"terraform.tfvars": "a = var.other\n",
	})
	_, diags := ResolveVariables(cfg, VarOptions{})
	if findDiag(diags, "Variables not allowed") == nil || MissingVariables(diags) != nil {
		t.Errorf("diagnostics:\n%s", renderDiags(cfg, diags))
	}
}

func TestVariableJSONFilesAndSensitive(t *testing.T) {
	cfg, _ := varsDir(t, map[string]string{
		"main.tf":                "variable \"pw\" {\n  sensitive = true\n}\nvariable \"tags\" {\n  type = map(string)\n}\n",
		"terraform.tfvars.json":  `{"pw": "from-json"}`,
		"z.auto.tfvars.json":     `{"tags": {"env": "prod"}}`,
		"ignored.tfvars.jsonish": `not read`,
	})
	vals := resolveOK(t, cfg, VarOptions{})
	pw := vals["pw"]
	if !IsSensitive(pw) {
		t.Error("pw is not marked sensitive")
	}
	if v, _ := pw.Unmark(); !v.RawEquals(cty.StringVal("from-json")) {
		t.Errorf("pw = %#v", v)
	}
	if !vals["tags"].RawEquals(cty.MapVal(map[string]cty.Value{"env": cty.StringVal("prod")})) {
		t.Errorf("tags = %#v", vals["tags"])
	}
}

func TestVariableNullable(t *testing.T) {
	cfg, _ := varsDir(t, map[string]string{"main.tf": `
variable "strict" {
  nullable = false
  default  = "fallback"
}
variable "strict_required" {
  type     = string
  nullable = false
}
variable "loose" {
  default = "x"
}
`})
	vals, diags := ResolveVariables(cfg, VarOptions{Args: []VarArg{{Assign: "strict=null"}}, Env: []string{"TF_VAR_strict_required=v"}})
	if diags.HasErrors() {
		t.Fatal(renderDiags(cfg, diags))
	}
	// strict is untyped, so the -var string "null" is literal; use a tfvars
	// null through the any-typed HCL route instead.
	if !vals["strict"].RawEquals(cty.StringVal("null")) {
		t.Errorf("strict = %#v", vals["strict"])
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "nulls.tfvars")
	if err := os.WriteFile(file, []byte("strict = null\nloose = null\nstrict_required = null\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	vals, diags = ResolveVariables(cfg, VarOptions{Args: []VarArg{{File: file}}})
	if d := findDiag(diags, "Required variable not set"); d == nil || !strings.Contains(d.Detail, "var.strict_required") {
		t.Errorf("diagnostics:\n%s", renderDiags(cfg, diags))
	}
	if !vals["strict"].RawEquals(cty.StringVal("fallback")) || !vals["loose"].IsNull() {
		t.Errorf("strict = %#v, loose = %#v", vals["strict"], vals["loose"])
	}
}

func TestReferenceVariables(t *testing.T) {
	cfg := loadReference(t)
	vals, diags := ResolveVariables(cfg, VarOptions{Env: []string{"TF_VAR_db_password=s3cret"}})
	if diags.HasErrors() {
		t.Fatal(renderDiags(cfg, diags))
	}
	if !vals["project_id"].RawEquals(cty.StringVal("airflow-prod-123")) || !IsSensitive(vals["db_password"]) {
		t.Errorf("values: %#v", vals)
	}
	_, diags = ResolveVariables(cfg, VarOptions{
		Env:  []string{"TF_VAR_db_password=s3cret"},
		Args: []VarArg{{Assign: "project_id=Bad_Project"}, {Assign: "machine_type=c3-standard-4"}},
	})
	var msgs []string
	for _, d := range diags {
		msgs = append(msgs, strings.SplitN(d.Detail, "\n", 2)[0])
	}
	want := []string{"Only e2 and n2 machine types are supported.", "The project_id must be a valid GCP project ID."}
	slices.Sort(msgs)
	if !slices.Equal(msgs, want) {
		t.Errorf("validation messages = %q", msgs)
	}
}
