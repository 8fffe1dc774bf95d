package config

import (
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// planScope mimics what the engine does at plan time for the reference
// configuration: variables resolved, locals evaluated in dependency order,
// resources not created yet (unknown) except the few given here.
func planScope(t *testing.T, cfg *Config, vars VarOptions) *Scope {
	t.Helper()
	values, diags := ResolveVariables(cfg, vars)
	if diags.HasErrors() {
		t.Fatal(renderDiags(cfg, diags))
	}
	s := &Scope{
		BaseDir:   cfg.Dir,
		Variables: values,
		Locals:    map[string]cty.Value{},
		Resources: map[string]cty.Value{},
		DataSources: map[string]cty.Value{
			"data.google_compute_image.debian": cty.ObjectVal(map[string]cty.Value{"self_link": cty.StringVal("projects/debian-cloud/global/images/debian-12")}),
		},
		Functions: Functions(cfg.Dir),
	}
	for addr := range cfg.Resources {
		s.Resources[addr] = cty.DynamicVal
	}
	s.Resources["google_compute_disk.extra"] = cty.ObjectVal(map[string]cty.Value{
		"data": cty.ObjectVal(map[string]cty.Value{"id": cty.StringVal("disks/data")}),
		"swap": cty.ObjectVal(map[string]cty.Value{"id": cty.StringVal("disks/swap")}),
	})
	evalLocals(t, cfg, s)
	return s
}

// evalLocals evaluates locals once everything they refer to is available,
// the way the engine's graph walk will order them.
func evalLocals(t *testing.T, cfg *Config, s *Scope) {
	t.Helper()
	for pending := len(cfg.Locals); pending > 0; {
		progressed := false
		for name, l := range cfg.Locals {
			if _, done := s.Locals[name]; done || !localsReady(l, s) {
				continue
			}
			ctx, err := s.EvalContext()
			if err != nil {
				t.Fatal(err)
			}
			v, diags := l.Expr.Value(ctx)
			if diags.HasErrors() {
				t.Fatalf("local.%s: %s", name, diags)
			}
			s.Locals[name] = v
			pending--
			progressed = true
		}
		if !progressed {
			t.Fatalf("locals cycle: %d left", pending)
		}
	}
}

func localsReady(l *Local, s *Scope) bool {
	for _, ref := range l.References {
		if _, ok := s.Locals[ref.Name]; ref.Kind == RefLocal && !ok {
			return false
		}
	}
	return true
}

func TestScopeEvaluatesReferenceResources(t *testing.T) {
	cfg := loadReference(t)
	s := planScope(t, cfg, VarOptions{Env: []string{"TF_VAR_db_password=s3cret"}, Args: []VarArg{{Assign: `labels={ team = "data" }`}}})
	if got := s.Locals["subnet_cidr"]; !got.RawEquals(cty.StringVal("10.10.1.0/24")) {
		t.Errorf("subnet_cidr = %#v", got)
	}
	if got := s.Locals["worker_names"]; toJSON(t, got) != `["airflow-worker-0"]` {
		t.Errorf("worker_names = %#v", got)
	}
	// The bucket name is not known before apply, so neither is the script.
	if s.Locals["startup_script"].IsKnown() {
		t.Errorf("startup_script should be unknown: %#v", s.Locals["startup_script"])
	}
	ctx, err := s.EvalContext()
	if err != nil {
		t.Fatal(err)
	}
	vm := cfg.Resources["google_compute_instance.airflow_vm"]
	spec := hcldec.ObjectSpec{
		"name":                    &hcldec.AttrSpec{Name: "name", Type: cty.String},
		"labels":                  &hcldec.AttrSpec{Name: "labels", Type: cty.Map(cty.String)},
		"metadata_startup_script": &hcldec.AttrSpec{Name: "metadata_startup_script", Type: cty.String},
		"attached_disk": &hcldec.BlockListSpec{TypeName: "attached_disk", Nested: hcldec.ObjectSpec{
			"source":      &hcldec.AttrSpec{Name: "source", Type: cty.String},
			"device_name": &hcldec.AttrSpec{Name: "device_name", Type: cty.String},
		}},
		"boot_disk": &hcldec.BlockSpec{TypeName: "boot_disk", Nested: &hcldec.BlockSpec{
			TypeName: "initialize_params", Nested: hcldec.ObjectSpec{
				"image": &hcldec.AttrSpec{Name: "image", Type: cty.String},
				"size":  &hcldec.AttrSpec{Name: "size", Type: cty.Number},
				"type":  &hcldec.AttrSpec{Name: "type", Type: cty.String},
			},
		}},
	}
	val, _, diags := hcldec.PartialDecode(ExpandBody(vm.Config, ctx), spec, ctx)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if got := val.GetAttr("name"); !got.RawEquals(cty.StringVal("airflow-vm")) {
		t.Errorf("name = %#v", got)
	}
	if got := toJSON(t, val.GetAttr("labels")); got != `{"app":"airflow","managed_by":"airctl","team":"data"}` {
		t.Errorf("labels = %s", got)
	}
	if got := toJSON(t, val.GetAttr("attached_disk")); got != `[{"device_name":"data","source":"disks/data"},{"device_name":"swap","source":"disks/swap"}]` {
		t.Errorf("attached_disk = %s", got)
	}
	if got := val.GetAttr("boot_disk").GetAttr("image"); !got.RawEquals(cty.StringVal("projects/debian-cloud/global/images/debian-12")) {
		t.Errorf("boot image = %#v", got)
	}
	if val.GetAttr("metadata_startup_script").IsKnown() {
		t.Error("startup script known at plan time")
	}
}

func TestScopeCountAndForEach(t *testing.T) {
	cfg := loadReference(t)
	s := planScope(t, cfg, VarOptions{Env: []string{"TF_VAR_db_password=x"}, Args: []VarArg{{Assign: "worker_count=2"}}})
	ctx, err := s.EvalContext()
	if err != nil {
		t.Fatal(err)
	}

	dr := cfg.Resources["google_storage_bucket.dr_backups"]
	n, known, diags := EvalCount(dr.Count, ctx)
	if diags.HasErrors() || !known || n != 1 {
		t.Fatalf("count = %d %v %v", n, known, diags)
	}
	name, diags := EvalExpr(attrExpr(t, dr.Config, "name"), WithCount(ctx, cty.NumberIntVal(0)), cty.String)
	if diags.HasErrors() || !name.RawEquals(cty.StringVal("airflow-prod-123-airflow-dr-0")) {
		t.Errorf("dr name = %#v %v", name, diags)
	}

	fw := cfg.Resources["google_compute_firewall.rules"]
	instances, known, diags := EvalForEach(fw.ForEach, ctx)
	if diags.HasErrors() || !known || len(instances) != 2 {
		t.Fatalf("for_each = %v %v %v", instances, known, diags)
	}
	ictx := WithEach(ctx, cty.StringVal("flower"), instances["flower"])
	for attr, want := range map[string]string{
		"name":          `"airflow-allow-flower"`,
		"priority":      `1000`,
		"source_ranges": `["10.0.0.0/8"]`,
	} {
		v, diags := EvalExpr(attrExpr(t, fw.Config, attr), ictx, cty.DynamicPseudoType)
		if diags.HasErrors() || toJSON(t, v) != want {
			t.Errorf("%s = %s %v, want %s", attr, toJSON(t, v), diags, want)
		}
	}
}

func TestScopeOutputs(t *testing.T) {
	cfg := loadReference(t)
	s := planScope(t, cfg, VarOptions{Env: []string{"TF_VAR_db_password=s3cret"}})
	s.Resources["google_sql_database_instance.airflow_db"] = cty.ObjectVal(map[string]cty.Value{"public_ip_address": cty.StringVal("192.0.2.7")})
	s.Resources["google_storage_bucket.dr_backups"] = cty.EmptyTupleVal
	ctx, err := s.EvalContext()
	if err != nil {
		t.Fatal(err)
	}
	conn, diags := cfg.Outputs["db_connection"].Value.Value(ctx)
	if diags.HasErrors() || !IsSensitive(conn) {
		t.Fatalf("db_connection = %#v %v", conn, diags)
	}
	if v, _ := conn.Unmark(); !v.RawEquals(cty.StringVal("postgresql://airflow:s3cret@192.0.2.7/airflow")) {
		t.Errorf("db_connection = %#v", v)
	}
	// The VM is unknown: its IP is known after apply.
	ip, diags := cfg.Outputs["vm_ip"].Value.Value(ctx)
	if diags.HasErrors() || ip.IsKnown() {
		t.Errorf("vm_ip = %#v %v", ip, diags)
	}
	dr, diags := cfg.Outputs["dr_bucket"].Value.Value(ctx)
	if diags.HasErrors() || !dr.IsNull() {
		t.Errorf("dr_bucket = %#v %v", dr, diags)
	}
}

func TestScopeAmbientValues(t *testing.T) {
	s := &Scope{BaseDir: "/cfg", Cwd: "/work", Workspace: "staging"}
	ctx, err := s.EvalContext()
	if err != nil {
		t.Fatal(err)
	}
	for src, want := range map[string]string{
		`path.module`:         `"."`,
		`path.root`:           `"."`,
		`path.cwd`:            `"/work"`,
		`terraform.workspace`: `"staging"`,
		`var`:                 `{}`,
		`data`:                `{}`,
	} {
		expr, _ := hclsyntax.ParseExpression([]byte(src), "t", hcl.InitialPos)
		v, diags := expr.Value(ctx)
		if diags.HasErrors() || toJSON(t, v) != want {
			t.Errorf("%s = %s %v, want %s", src, toJSON(t, v), diags, want)
		}
	}
	s = &Scope{}
	ctx, _ = s.EvalContext()
	cwd, _ := os.Getwd()
	if ws := ctx.Variables["terraform"].GetAttr("workspace"); !ws.RawEquals(cty.StringVal("default")) {
		t.Errorf("default workspace = %#v", ws)
	}
	if got := ctx.Variables["path"].GetAttr("cwd"); !got.RawEquals(cty.StringVal(cwd)) {
		t.Errorf("path.cwd = %#v", got)
	}
}

func TestScopeRejectsBadAddresses(t *testing.T) {
	for _, s := range []*Scope{
		{Resources: map[string]cty.Value{"no_dot": cty.True}},
		{Resources: map[string]cty.Value{"a.b.c": cty.True}},
		{Resources: map[string]cty.Value{"var.x": cty.True}},
		{DataSources: map[string]cty.Value{"a.b": cty.True}},
	} {
		if _, err := s.EvalContext(); err == nil {
			t.Errorf("%v %v accepted", s.Resources, s.DataSources)
		}
	}
}

func TestDynamicBlockWithUnknownForEach(t *testing.T) {
	src := "resource \"a_b\" \"c\" {\n  dynamic \"rule\" {\n    for_each = var.rules\n    content {\n      port = rule.value\n    }\n  }\n}\nvariable \"rules\" {}\n"
	cfg, diags := Load(".", map[string][]byte{"main.tf": []byte(src)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	s := &Scope{Variables: map[string]cty.Value{"rules": cty.UnknownVal(cty.List(cty.Number))}}
	ctx, _ := s.EvalContext()
	spec := &hcldec.BlockListSpec{TypeName: "rule", Nested: &hcldec.AttrSpec{Name: "port", Type: cty.Number}}
	val, diags := hcldec.Decode(ExpandBody(cfg.Resources["a_b.c"].Config, ctx), spec, ctx)
	if diags.HasErrors() || val.IsKnown() {
		t.Errorf("rules = %#v %v", val, diags)
	}
	s.Variables["rules"] = cty.ListVal([]cty.Value{cty.NumberIntVal(80), cty.NumberIntVal(443)})
	ctx, _ = s.EvalContext()
	val, diags = hcldec.Decode(ExpandBody(cfg.Resources["a_b.c"].Config, ctx), spec, ctx)
	if diags.HasErrors() || toJSON(t, val) != `[80,443]` {
		t.Errorf("rules = %#v %v", val, diags)
	}
}

func TestEvalCountErrors(t *testing.T) {
	cases := map[string]string{
		`-1`:        "greater than or equal to zero",
		`1.5`:       "whole number",
		`null`:      "is null",
		`"many"`:    "unsuitable",
		`1e12`:      "too large",
		`[1]`:       "unsuitable",
		`var.count`: "",
	}
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{"count": cty.UnknownVal(cty.Number)})}}
	for src, msg := range cases {
		expr, _ := hclsyntax.ParseExpression([]byte(src), "t", hcl.InitialPos)
		n, known, diags := EvalCount(expr, ctx)
		if msg == "" {
			if known || diags.HasErrors() {
				t.Errorf("%s: known %v diags %v", src, known, diags)
			}
			continue
		}
		if !diags.HasErrors() || !strings.Contains(diags.Error(), msg) || n != 0 {
			t.Errorf("%s: %d %v, want error with %q", src, n, diags, msg)
		}
	}
	expr, _ := hclsyntax.ParseExpression([]byte(`sensitive(3)`), "t", hcl.InitialPos)
	if n, known, diags := EvalCount(expr, &hcl.EvalContext{Functions: Functions(".")}); n != 3 || !known || diags.HasErrors() {
		t.Errorf("sensitive count: %d %v %v", n, known, diags)
	}
}

func TestEvalForEachCases(t *testing.T) {
	ctx := &hcl.EvalContext{
		Functions: Functions("."),
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{
			"unknown_map": cty.UnknownVal(cty.Map(cty.String)),
			"partial_set": cty.SetVal([]cty.Value{cty.StringVal("a"), cty.UnknownVal(cty.String)}),
			"any":         cty.DynamicVal,
		})},
	}
	good := map[string]string{
		`{ a = 1, b = "x" }`:               "a,b",
		`tomap({ a = "1" })`:               "a",
		`toset(["x", "y", "x"])`:           "x,y",
		`{ for k in ["p", "q"] : k => k }`: "p,q",
	}
	for src, keys := range good {
		expr, _ := hclsyntax.ParseExpression([]byte(src), "t", hcl.InitialPos)
		m, known, diags := EvalForEach(expr, ctx)
		if diags.HasErrors() || !known || strings.Join(sortedKeys(m), ",") != keys {
			t.Errorf("%s: %v %v %v", src, m, known, diags)
		}
	}
	for _, src := range []string{`var.unknown_map`, `var.partial_set`, `var.any`} {
		expr, _ := hclsyntax.ParseExpression([]byte(src), "t", hcl.InitialPos)
		if _, known, diags := EvalForEach(expr, ctx); known || diags.HasErrors() {
			t.Errorf("%s: known %v diags %v", src, known, diags)
		}
	}
	bad := map[string]string{
		`["a", "b"]`:              "toset()",
		`null`:                    "is null",
		`sensitive({ a = 1 })`:    "Sensitive values",
		`toset([1, 2])`:           "set containing type number",
		`"str"`:                   "of type string",
		`toset([sensitive("a")])`: "Sensitive values",
	}
	for src, msg := range bad {
		expr, _ := hclsyntax.ParseExpression([]byte(src), "t", hcl.InitialPos)
		_, _, diags := EvalForEach(expr, ctx)
		if !diags.HasErrors() || !strings.Contains(diags.Error(), msg) {
			t.Errorf("%s: %v, want %q", src, diags, msg)
		}
	}
}

func TestEvalExprConversion(t *testing.T) {
	expr, _ := hclsyntax.ParseExpression([]byte(`{ a = 1 }`), "x.tf", hcl.Pos{Line: 3, Column: 5, Byte: 20})
	_, diags := EvalExpr(expr, nil, cty.String)
	if !diags.HasErrors() || diagPos(diags[0]) != "x.tf:3:5" || diags[0].Summary != "Incorrect value type" {
		t.Errorf("diags = %v", diags)
	}
}

// attrExpr returns the expression of a top-level attribute of a body.
func attrExpr(t *testing.T, body hcl.Body, name string) hcl.Expression {
	t.Helper()
	content, _, diags := body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: name}}})
	if diags.HasErrors() || content.Attributes[name] == nil {
		t.Fatalf("no attribute %s: %v", name, diags)
	}
	return content.Attributes[name].Expr
}
