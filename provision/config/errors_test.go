package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// loadErrorCases are small configurations that must fail with one specific
// error. pos is the start of the diagnostic's subject ("line:col") and
// detail a fragment of its detail text.
func loadErrorCases() []loadErrorCase {
	return []loadErrorCase{
		{"unknown block type", "foo \"x\" {}\n", "Unsupported block type", "1:1", "not expected here"},
		{"module block", "module \"net\" {\n  source = \"./net\"\n}\n", "Unsupported block type", "1:1", "without modules"},
		{"top-level attribute", "x = 1\n", "Unsupported argument", "1:1", ""},
		{"syntax error", "resource \"a_b\" \"c\" {\n  x = \n}\n", "Invalid expression", "2:7", ""},
		{"missing resource name", "resource \"a_b\" {}\n", "Missing name for resource", "1:16", "2 labels"},
		{"invalid resource name", "resource \"a_b\" \"1c\" {}\n", "Invalid resource name", "1:16", "must start with a letter"},
		{"duplicate resource", "resource \"a_b\" \"c\" {}\n\nresource \"a_b\" \"c\" {}\n", "Duplicate resource configuration", "3:1", "a_b.c was already declared at main.tf:1,1-19"},
		{"duplicate data source", "data \"a_b\" \"c\" {}\ndata \"a_b\" \"c\" {}\n", "Duplicate resource configuration", "2:1", "data.a_b.c"},
		{"duplicate variable", "variable \"x\" {}\nvariable \"x\" {}\n", "Duplicate variable declaration", "2:1", ""},
		{"duplicate output", "output \"x\" {\n  value = 1\n}\noutput \"x\" {\n  value = 2\n}\n", "Duplicate output definition", "4:1", ""},
		{"duplicate local", "locals {\n  a = 1\n}\nlocals {\n  b = 2\n  a = 3\n}\n", "Duplicate local value definition", "6:3", "main.tf:2,3-8"},
		{"duplicate provider", "provider \"google\" {}\nprovider \"google\" {}\n", "Duplicate provider configuration", "2:1", "alias"},
		{"duplicate deploy", "deploy \"a\" {}\ndeploy \"a\" {}\n", "Duplicate deploy block", "2:1", ""},
		{"unknown variable argument", "variable \"x\" {\n  tpye = string\n}\n", "Unsupported argument", "2:3", "Did you mean \"type\"?"},
		{"unknown output argument", "output \"x\" {\n  value = 1\n  secret = true\n}\n", "Unsupported argument", "3:3", ""},
		{"output without value", "output \"x\" {}\n", "Missing required argument", "1:12", "\"value\" is required"},
		{"unknown terraform argument", "terraform {\n  experiments = []\n}\n", "Unsupported argument", "2:3", ""},
		{"unknown lifecycle argument", "resource \"a_b\" \"c\" {\n  lifecycle {\n    prevent_destory = true\n  }\n}\n", "Unsupported argument", "3:5", "prevent_destroy"},
		{"non-literal lifecycle", "variable \"p\" {}\nresource \"a_b\" \"c\" {\n  lifecycle {\n    prevent_destroy = var.p\n  }\n}\n", "Variables not allowed", "4:23", ""},
		{"duplicate lifecycle", "resource \"a_b\" \"c\" {\n  lifecycle {}\n  lifecycle {}\n}\n", "Duplicate lifecycle block", "3:3", ""},
		{"lifecycle in data", "data \"a_b\" \"c\" {\n  lifecycle {}\n}\n", "Unsupported lifecycle block", "2:3", ""},
		{"quoted ignore_changes", "resource \"a_b\" \"c\" {\n  lifecycle {\n    ignore_changes = [\"tags\"]\n  }\n}\n", "Invalid ignore_changes rule", "3:23", "without quotes"},
		{"provisioner", "resource \"a_b\" \"c\" {\n  provisioner \"local-exec\" {}\n}\n", "Provisioners are not supported", "2:3", ""},
		{"count and for_each", "resource \"a_b\" \"c\" {\n  count    = 1\n  for_each = {}\n}\n", `Invalid combination of "count" and "for_each"`, "3:3", "mutually exclusive"},
		{"unknown backend", "terraform {\n  backend \"s3\" {}\n}\n", "Unsupported backend type", "2:11", "\"local\" and \"gcs\""},
		{"unknown backend argument", "terraform {\n  backend \"gcs\" {\n    bucket = \"b\"\n    bukcet = \"c\"\n  }\n}\n", "Unsupported argument", "4:5", ""},
		{"gcs without bucket", "terraform {\n  backend \"gcs\" {}\n}\n", "Missing required argument", "2:17", "\"bucket\""},
		{"backend with variable", "variable \"b\" {}\nterraform {\n  backend \"gcs\" {\n    bucket = var.b\n  }\n}\n", "Variables not allowed", "4:14", ""},
		{"duplicate backend", "terraform {\n  backend \"local\" {}\n}\nterraform {\n  backend \"gcs\" {\n    bucket = \"b\"\n  }\n}\n", "Duplicate backend configuration", "5:3", "main.tf:2,3-18"},
		{"undeclared variable", "output \"x\" {\n  value = var.nope\n}\n", "Reference to undeclared input variable", "2:11", `variable "nope" {}`},
		{"undeclared local", "output \"x\" {\n  value = \"${local.nope}-x\"\n}\n", "Reference to undeclared local value", "2:14", ""},
		{"undeclared resource", "output \"x\" {\n  value = a_b.c.id\n}\n", "Reference to undeclared resource", "2:11", `managed resource "a_b" "c"`},
		{"undeclared data source", "output \"x\" {\n  value = data.a_b.c.id\n}\n", "Reference to undeclared resource", "2:11", `data resource "a_b" "c"`},
		{"count outside counted resource", "resource \"a_b\" \"c\" {\n  name = count.index\n}\n", `Reference to "count" in non-counted context`, "2:10", ""},
		{"each outside for_each", "resource \"a_b\" \"c\" {\n  count = 2\n  name  = each.key\n}\n", `Reference to "each" in context without for_each`, "3:11", ""},
		{"each in output", "output \"x\" {\n  value = each.value\n}\n", `Reference to "each" in context without for_each`, "2:11", ""},
		{"invalid each attribute", "resource \"a_b\" \"c\" {\n  for_each = {}\n  name = each.name\n}\n", `Invalid "each" attribute`, "3:10", ""},
		{"bare var", "output \"x\" {\n  value = var\n}\n", "Invalid reference", "2:11", "var.NAME"},
		{"invalid path attribute", "output \"x\" {\n  value = path.home\n}\n", `Invalid "path" attribute`, "2:11", "path.module"},
		{"module reference", "output \"x\" {\n  value = module.net.id\n}\n", "Modules are not supported", "2:11", ""},
		{"self reference", "resource \"a_b\" \"c\" {\n  name = self.id\n}\n", `Invalid "self" reference`, "2:10", ""},
		{"self-referential resource", "resource \"a_b\" \"c\" {\n  name = a_b.c.id\n}\n", "Self-referential block", "2:10", "a_b.c may not refer to itself"},
		{"self-referential local", "locals {\n  a = local.a\n}\n", "Self-referential block", "2:7", ""},
		{"unknown function", "output \"x\" {\n  value = uuidv9()\n}\n", "Call to unknown function", "2:11", `"uuidv9"`},
		{"unknown function in dynamic block", "resource \"a_b\" \"c\" {\n  dynamic \"d\" {\n    for_each = []\n    content {\n      x = nope(d.value)\n    }\n  }\n}\n", "Call to unknown function", "5:11", ""},
		{"depends_on attribute", "resource \"a_b\" \"d\" {}\nresource \"a_b\" \"c\" {\n  depends_on = [a_b.d.id]\n}\n", "Invalid depends_on reference", "3:17", "whole resources"},
		{"depends_on variable", "variable \"v\" {}\nresource \"a_b\" \"c\" {\n  depends_on = [var.v]\n}\n", "Invalid depends_on reference", "3:17", ""},
		{"depends_on undeclared", "resource \"a_b\" \"c\" {\n  depends_on = [a_b.nope]\n}\n", "Reference to undeclared resource", "2:17", ""},
		{"depends_on not a list", "resource \"a_b\" \"c\" {\n  depends_on = a_b.d\n}\n", "Invalid depends_on", "2:16", ""},
		{"undeclared provider alias", "resource \"google_x\" \"c\" {\n  provider = google.east\n}\n", "Reference to undeclared provider configuration", "2:14", `alias = "east"`},
		{"provider expression", "resource \"google_x\" \"c\" {\n  provider = \"${x}\"\n}\n", "Invalid provider reference", "2:14", ""},
		{"default of wrong type", "variable \"n\" {\n  type    = number\n  default = \"many\"\n}\n", "Invalid default value for variable", "3:13", "a number is required"},
		{"null default not nullable", "variable \"n\" {\n  nullable = false\n  default  = null\n}\n", "Invalid default value for variable", "3:14", "nullable = false"},
		{"invalid type", "variable \"n\" {\n  type = lisst(string)\n}\n", "Invalid type specification", "2:10", ""},
		{"default with function", "variable \"n\" {\n  default = upper(\"x\")\n}\n", "Function calls not allowed", "2:13", ""},
		{"reserved resource type", "resource \"count\" \"x\" {}\n", "Invalid resource type", "1:10", "reserved"},
		{"reserved variable name", "variable \"count\" {}\n", "Invalid variable name", "1:10", "reserved"},
		{"validation references local", "locals {\n  max = 3\n}\nvariable \"n\" {\n  validation {\n    condition     = var.n < local.max\n    error_message = \"Too big.\"\n  }\n}\n", "Invalid reference in variable validation", "6:29", "local.max"},
		{"validation references undeclared", "variable \"n\" {\n  validation {\n    condition     = var.m > 0\n    error_message = \"Bad.\"\n  }\n}\n", "Reference to undeclared input variable", "3:21", ""},
		{"validation without message", "variable \"n\" {\n  validation {\n    condition = true\n  }\n}\n", "Missing required argument", "2:14", "error_message"},
		{"block in locals", "locals {\n  x {}\n}\n", "Unexpected \"x\" block", "2:3", ""},
		{"invalid required_providers", "terraform {\n  required_providers {\n    google = { source = \"hashicorp/google\", versoin = \"5\" }\n  }\n}\n", "Invalid required_providers object", "3:45", ""},
		{"required_version not a string", "terraform {\n  required_version = 5 + var.x\n}\n", "Variables not allowed", "2:26", ""},
	}
}

type loadErrorCase struct {
	name, src, summary, pos, detail string
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range loadErrorCases() {
		t.Run(tc.name, func(t *testing.T) {
			cfg, diags := Load(".", map[string][]byte{"main.tf": []byte(tc.src)})
			if cfg == nil {
				t.Fatal("nil config")
			}
			d := findDiag(diags, tc.summary)
			if d == nil {
				t.Fatalf("no %q error; got:\n%s", tc.summary, renderDiags(cfg, diags))
			}
			if d.Severity != hcl.DiagError {
				t.Errorf("severity = %v", d.Severity)
			}
			if got := diagPos(d); got != "main.tf:"+tc.pos {
				t.Errorf("position = %s, want main.tf:%s\n%s", got, tc.pos, renderDiags(cfg, hcl.Diagnostics{d}))
			}
			if !strings.Contains(d.Detail, tc.detail) {
				t.Errorf("detail %q lacks %q", d.Detail, tc.detail)
			}
		})
	}
}

func findDiag(diags hcl.Diagnostics, summary string) *hcl.Diagnostic {
	for _, d := range diags {
		if d.Summary == summary {
			return d
		}
	}
	return nil
}

func diagPos(d *hcl.Diagnostic) string {
	if d.Subject == nil {
		return "(no subject)"
	}
	return fmt.Sprintf("%s:%d:%d", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
}

func TestLoadErrorsAcrossFiles(t *testing.T) {
	// A reference to a block declared in a later file is fine; a duplicate
	// across files names both files.
	files := map[string][]byte{
		"a.tf": []byte("output \"o\" {\n  value = var.v\n}\nresource \"a_b\" \"c\" {}\n"),
		"b.tf": []byte("variable \"v\" {}\nresource \"a_b\" \"c\" {}\n"),
	}
	cfg, diags := Load(".", files)
	if len(diags) != 1 {
		t.Fatalf("diagnostics:\n%s", renderDiags(cfg, diags))
	}
	if d := diags[0]; diagPos(d) != "b.tf:2:1" || !strings.Contains(d.Detail, "a.tf:1") && !strings.Contains(d.Detail, "a.tf:4") {
		t.Errorf("duplicate across files: %s %s", diagPos(d), d.Detail)
	}
}

func TestLoadWarnings(t *testing.T) {
	src := "terraform {\n  required_version = \">= 1.0\"\n}\n" +
		"provider \"google\" {\n  alias   = \"w\"\n  version = \"~> 4\"\n}\n" +
		"resource \"google_x\" \"c\" {\n  provider = \"google.w\"\n}\n"
	cfg, diags := Load(".", map[string][]byte{"main.tf": []byte(src)})
	if diags.HasErrors() {
		t.Fatal(renderDiags(cfg, diags))
	}
	var got []string
	for _, d := range diags {
		got = append(got, d.Summary+"@"+diagPos(d))
	}
	want := []string{
		"Terraform version constraint ignored@main.tf:2:3",
		"Provider version constraint ignored@main.tf:6:3",
		"Quoted references are deprecated@main.tf:9:14",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if p := cfg.Resources["google_x.c"].Provider; p == nil || p.Addr() != "google.w" {
		t.Errorf("quoted provider ref = %+v", p)
	}
}

func TestLegacyTypeShorthandsAndRequirementString(t *testing.T) {
	src := "variable \"l\" {\n  type = list\n}\nvariable \"m\" {\n  type = map\n}\n" +
		"terraform {\n  required_providers {\n    google = \"~> 4.0\"\n  }\n}\n"
	cfg, diags := Load(".", map[string][]byte{"main.tf": []byte(src)})
	if diags.HasErrors() {
		t.Fatal(renderDiags(cfg, diags))
	}
	if !cfg.Variables["l"].Type.IsListType() || !cfg.Variables["m"].Type.IsMapType() {
		t.Errorf("types: %#v %#v", cfg.Variables["l"].Type, cfg.Variables["m"].Type)
	}
	if v := cfg.Terraform.RequiredProviders["google"].Version; v != "~> 4.0" {
		t.Errorf("legacy requirement = %q", v)
	}
}

func TestDiagnosticsAreSorted(t *testing.T) {
	src := "output \"a\" {\n  value = var.x\n}\noutput \"b\" {\n  value = var.y\n}\noutput \"c\" {\n  value = var.z\n}\n"
	for i := 0; i < 5; i++ {
		_, diags := Load(".", map[string][]byte{"main.tf": []byte(src)})
		var lines []int
		for _, d := range diags {
			lines = append(lines, d.Subject.Start.Line)
		}
		if fmt.Sprint(lines) != "[2 5 8]" {
			t.Fatalf("lines = %v", lines)
		}
	}
}

func TestQuotedRequiredProviderKeys(t *testing.T) {
	src := "terraform {\n  required_providers {\n    google = { \"source\" = \"hashicorp/google\" }\n  }\n}\n"
	cfg, diags := Load(".", map[string][]byte{"main.tf": []byte(src)})
	if diags.HasErrors() || cfg.Terraform.RequiredProviders["google"].Source != "hashicorp/google" {
		t.Errorf("%+v %s", cfg.Terraform.RequiredProviders, renderDiags(cfg, diags))
	}
}
