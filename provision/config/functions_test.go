package config

import (
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// functionCases are evaluated as HCL expressions in a context whose
// functions resolve files in testdata/reference; want is the JSON encoding
// of the result.
func functionCases() []functionCase {
	return []functionCase{
		// numbers
		{`abs(-3)`, `3`},
		{`ceil(1.2)`, `2`},
		{`floor(1.8)`, `1`},
		{`log(8, 2)`, `3`},
		{`max(1, 5, 3)`, `5`},
		{`min(1, 5, 3)`, `1`},
		{`parseint("ff", 16)`, `255`},
		{`pow(2, 10)`, `1024`},
		{`signum(-7)`, `-1`},
		{`sum([1, 2, 3.5])`, `6.5`},
		{`sum(toset([1, 2]))`, `3`},
		// strings
		{`chomp("a\n")`, `"a"`},
		{`endswith("airflow", "flow")`, `true`},
		{`format("%s-%03d", "vm", 7)`, `"vm-007"`},
		{`formatdate("YYYY-MM-DD hh:mm", "2024-03-05T10:04:00Z")`, `"2024-03-05 10:04"`},
		{`formatlist("%s.example.com", ["a", "b"])`, `["a.example.com","b.example.com"]`},
		{`indent(2, "a\nb")`, `"a\n  b"`},
		{`join(",", ["a", "b"], ["c"])`, `"a,b,c"`},
		{`lower("AbC")`, `"abc"`},
		{`regex("^(\\w+)-(\\d+)$", "vm-42")`, `["vm","42"]`},
		{`regex("^(?P<name>\\w+)-", "vm-42")`, `{"name":"vm"}`},
		{`regexall("\\d", "a1b2")`, `["1","2"]`},
		{`replace("a-b-c", "-", "_")`, `"a_b_c"`},
		{`replace("vm-42", "/(\\w+)-(\\d+)/", "$2-$1")`, `"42-vm"`},
		{`split(",", "a,b")`, `["a","b"]`},
		{`startswith("airflow", "air")`, `true`},
		{`strcontains("airflow", "rfl")`, `true`},
		{`strcontains("airflow", "x")`, `false`},
		{`strrev("abc")`, `"cba"`},
		{`substr("airflow", 0, 3)`, `"air"`},
		{`timeadd("2024-01-01T00:00:00Z", "90m")`, `"2024-01-01T01:30:00Z"`},
		{`title("hello world")`, `"Hello World"`},
		{`trim("--a--", "-")`, `"a"`},
		{`trimprefix("airflow", "air")`, `"flow"`},
		{`trimspace("  a \n")`, `"a"`},
		{`trimsuffix("airflow", "flow")`, `"air"`},
		{`upper("abc")`, `"ABC"`},
		// collections
		{`alltrue([true, true])`, `true`},
		{`alltrue([])`, `true`},
		{`alltrue([true, false])`, `false`},
		{`anytrue([false, true])`, `true`},
		{`anytrue([])`, `false`},
		{`chunklist([1, 2, 3], 2)`, `[[1,2],[3]]`},
		{`coalesce("", null, "x")`, `"x"`},
		{`coalesce(1, 2)`, `1`},
		{`coalescelist([], ["a"])`, `["a"]`},
		{`compact(["a", "", null, "b"])`, `["a","b"]`},
		{`concat([1], [2, 3])`, `[1,2,3]`},
		{`contains(["a", "b"], "b")`, `true`},
		{`distinct([1, 1, 2])`, `[1,2]`},
		{`element(["a", "b"], 3)`, `"b"`},
		{`flatten([[1], [2, [3]]])`, `[1,2,3]`},
		{`index(["a", "b"], "b")`, `1`},
		{`keys({ b = 1, a = 2 })`, `["a","b"]`},
		{`length("héllo")`, `5`},
		{`length({ a = 1, b = 2 })`, `2`},
		{`length([1, 2, 3])`, `3`},
		{`length(toset(["a", "a"]))`, `1`},
		{`lookup({ a = 1 }, "b", 0)`, `0`},
		{`lookup({ a = 1 }, "a")`, `1`},
		{`merge({ a = 1 }, { b = 2 }, { a = 3 })`, `{"a":3,"b":2}`},
		{`one([])`, `null`},
		{`one(["x"])`, `"x"`},
		{`one(toset(["y"]))`, `"y"`},
		{`range(3)`, `[0,1,2]`},
		{`range(1, 7, 2)`, `[1,3,5]`},
		{`reverse([1, 2, 3])`, `[3,2,1]`},
		{`setintersection(["a", "b"], ["b", "c"])`, `["b"]`},
		{`setproduct(["a"], ["x", "y"])`, `[["a","x"],["a","y"]]`},
		{`setsubtract(["a", "b"], ["a"])`, `["b"]`},
		{`setunion(["b"], ["a"])`, `["a","b"]`},
		{`slice(["a", "b", "c"], 1, 3)`, `["b","c"]`},
		{`sort(["b", "a", "c"])`, `["a","b","c"]`},
		{`values({ a = 1, b = 2 })`, `[1,2]`},
		{`zipmap(["a", "b"], [1, 2])`, `{"a":1,"b":2}`},
		// encoding and hashing
		{`base64decode("aGk=")`, `"hi"`},
		{`base64encode("hi")`, `"aGk="`},
		{`base64sha256("hi")`, `"j0NDRmSPa5bfid2pAcUXaxCm2Dlh3TwayItZstwyeqQ="`},
		{`csvdecode("a,b\n1,2\n")`, `[{"a":"1","b":"2"}]`},
		{`jsondecode("{\"a\":[1]}")`, `{"a":[1]}`},
		{`jsonencode({ a = [1], b = "x" })`, `"{\"a\":[1],\"b\":\"x\"}"`},
		{`md5("hi")`, `"49f68a5c8493ec2c0bf489821c21fc3b"`},
		{`sha1("hi")`, `"c22b5f9178342609428d6f51b2c5af4c0bde6a42"`},
		{`sha256("hi")`, `"8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4"`},
		{`sha512("hi")`, `"150a14ed5bea6cc731cf86c41566ac427a8db48ef1b9fd626664b3bfbb99071fa4c922f33dde38719b8c8354e2b7ab9d77e0e67fc12843920a712e73d558e197"`},
		{`urlencode("a b&c")`, `"a+b%26c"`},
		// conversion
		{`tobool("true")`, `true`},
		{`tolist(["a", "b"])`, `["a","b"]`},
		{`tomap({ a = "b" })`, `{"a":"b"}`},
		{`tonumber("5")`, `5`},
		{`toset(["b", "a", "b"])`, `["a","b"]`},
		{`tostring(5)`, `"5"`},
		// networks
		{`cidrhost("10.0.0.0/24", 5)`, `"10.0.0.5"`},
		{`cidrhost("10.0.0.0/24", -2)`, `"10.0.0.254"`},
		{`cidrhost("fd00::/64", 17)`, `"fd00::11"`},
		{`cidrnetmask("10.0.0.0/12")`, `"255.240.0.0"`},
		{`cidrsubnet("10.10.0.0/16", 8, 1)`, `"10.10.1.0/24"`},
		{`cidrsubnet("10.1.2.0/24", 4, 15)`, `"10.1.2.240/28"`},
		{`cidrsubnet("fd00::/56", 8, 3)`, `"fd00:0:0:3::/64"`},
		// files (relative to testdata/reference)
		{`startswith(file("known_hosts"), "203.0.113.10 ")`, `true`},
		{`fileexists("known_hosts")`, `true`},
		{`fileexists("missing.txt")`, `false`},
		{`substr(filebase64("known_hosts"), 0, 8)`, `"MjAzLjAu"`},
		{`templatefile("templates/startup.sh.tftpl", { workers = 2, bucket = "logs" })`,
			`"#!/bin/bash\n# Rendered by templatefile(): 2 worker(s), logs in gs://logs.\nsystemctl enable aird-worker@0\nsystemctl enable aird-worker@1\n"`},
		{`templatefile("${path.module}/templates/startup.sh.tftpl", { workers = 0, bucket = upper("b") })`,
			`"#!/bin/bash\n# Rendered by templatefile(): 0 worker(s), logs in gs://B.\n"`},
		// errors as values
		{`try(tonumber("x"), 0)`, `0`},
		{`try(local.obj.missing, "fallback")`, `"fallback"`},
		{`can(tonumber("x"))`, `false`},
		{`can(regex("^a", "abc"))`, `true`},
		// sensitivity (the mark is checked separately)
		{`nonsensitive(sensitive("x"))`, `"x"`},
		{`sensitive(1)`, `1`},
	}
}

type functionCase struct{ expr, want string }

func testEvalContext() *hcl.EvalContext {
	return &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"local": cty.ObjectVal(map[string]cty.Value{"obj": cty.ObjectVal(map[string]cty.Value{"a": cty.True})}),
			"path":  cty.ObjectVal(map[string]cty.Value{"module": cty.StringVal(".")}),
			"var": cty.ObjectVal(map[string]cty.Value{
				"unknown_list": cty.UnknownVal(cty.List(cty.String)),
				"unknown_str":  cty.UnknownVal(cty.String),
				"unknown_num":  cty.UnknownVal(cty.Number),
				"unknown_bool": cty.UnknownVal(cty.Bool),
				"secret":       cty.StringVal("hunter2").Mark(Sensitive),
				"secrets":      cty.MapVal(map[string]cty.Value{"a": cty.StringVal("x").Mark(Sensitive)}),
			}),
		},
		Functions: Functions(referenceDir),
	}
}

func evalString(t *testing.T, src string) (cty.Value, hcl.Diagnostics) {
	t.Helper()
	expr, diags := hclsyntax.ParseExpression([]byte(src), "test.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("parsing %s: %s", src, diags)
	}
	return expr.Value(testEvalContext())
}

func toJSON(t *testing.T, v cty.Value) string {
	t.Helper()
	v, _ = v.UnmarkDeep()
	if v.IsNull() {
		return "null"
	}
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		t.Fatalf("marshal %#v: %s", v, err)
	}
	return string(b)
}

func TestFunctions(t *testing.T) {
	for _, tc := range functionCases() {
		t.Run(tc.expr, func(t *testing.T) {
			got, diags := evalString(t, tc.expr)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if js := toJSON(t, got); js != tc.want {
				t.Errorf("= %s, want %s", js, tc.want)
			}
		})
	}
}

// TestEveryFunctionIsTested keeps functionCases in step with the table.
func TestEveryFunctionIsTested(t *testing.T) {
	called := map[string]bool{}
	for _, tc := range functionCases() {
		expr, _ := hclsyntax.ParseExpression([]byte(tc.expr), "t", hcl.InitialPos)
		hclsyntax.VisitAll(expr, func(n hclsyntax.Node) hcl.Diagnostics {
			if c, ok := n.(*hclsyntax.FunctionCallExpr); ok {
				called[c.Name] = true
			}
			return nil
		})
	}
	var untested []string
	for name := range Functions(".") {
		if !called[name] {
			untested = append(untested, name)
		}
	}
	slices.Sort(untested)
	if len(untested) > 0 {
		t.Errorf("functions without a test case: %v", untested)
	}
}

func TestFunctionErrors(t *testing.T) {
	cases := []struct{ expr, msg string }{
		{`cidrsubnet("10.0.0.0/30", 8, 1)`, "insufficient address space to extend prefix of 30 by 8"},
		{`cidrsubnet("10.0.0.0/16", 2, 4)`, "prefix extension of 2 does not accommodate a subnet numbered 4"},
		{`cidrsubnet("10.0.0.0", 2, 1)`, "invalid CIDR expression"},
		{`cidrhost("10.0.0.0/30", 4)`, "prefix of 30 does not accommodate a host numbered 4"},
		{`cidrnetmask("fd00::/64")`, "only IPv4"},
		{`index(["a"], "z")`, "item not found"},
		{`one(["a", "b"])`, "either zero or one elements"},
		{`one(tolist(["a", "b"]))`, "either zero or one elements"},
		{`sum([])`, "cannot sum an empty list"},
		{`length(5)`, "must be a string, a collection type, or a structural type"},
		{`lookup({ a = 1 }, "b")`, "the given object has no attribute \"b\""},
		{`lookup(tomap({ a = 1 }), "b")`, "lookup failed to find key \"b\""},
		{`coalesce("", null)`, "no non-null, non-empty-string arguments"},
		{`base64decode("/w==")`, "not valid UTF-8"},
		{`replace("a", "/(/", "b")`, "invalid regular expression"},
		{`file("missing.txt")`, "no file exists at"},
		{`fileexists("templates")`, "is not a regular file"},
		{`templatefile("templates/startup.sh.tftpl", { workers = 1 })`, `vars map does not contain key "bucket"`},
		{`templatefile("templates/startup.sh.tftpl", "x")`, "vars must be a map or object"},
		{`templatefile("known_hosts", { "bad key" = 1 })`, "invalid template variable name"},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			_, diags := evalString(t, tc.expr)
			if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.msg) {
				t.Errorf("diagnostics %v lack %q", diags, tc.msg)
			}
		})
	}
}

func TestTemplateFileNoRecursion(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "self.tftpl", `${templatefile("self.tftpl", {})}`)
	expr, _ := hclsyntax.ParseExpression([]byte(`templatefile("self.tftpl", {})`), "t", hcl.InitialPos)
	_, diags := expr.Value(&hcl.EvalContext{Functions: Functions(dir)})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "cannot call templatefile from inside a template") {
		t.Errorf("diagnostics = %v", diags)
	}
}

func TestFunctionsPropagateUnknowns(t *testing.T) {
	cases := []struct {
		expr string
		want cty.Type
	}{
		{`upper(var.unknown_str)`, cty.String},
		{`length(var.unknown_list)`, cty.Number},
		{`length(var.unknown_str)`, cty.Number},
		{`sum([1, var.unknown_num])`, cty.Number},
		{`alltrue([var.unknown_bool, true])`, cty.Bool},
		{`anytrue([var.unknown_bool, false])`, cty.Bool},
		{`index(["a", var.unknown_str], "b")`, cty.Number},
		{`coalesce(var.unknown_str, "x")`, cty.String},
		{`cidrsubnet(var.unknown_str, 8, 1)`, cty.String},
		{`templatefile("templates/startup.sh.tftpl", { workers = 1, bucket = var.unknown_str })`, cty.String},
		{`"https://${var.unknown_str}/x"`, cty.String},
		{`var.unknown_bool ? "a" : "b"`, cty.String},
		{`[for s in var.unknown_list : upper(s)]`, cty.DynamicPseudoType},
		{`jsonencode({ a = var.unknown_str })`, cty.String},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			got, diags := evalString(t, tc.expr)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if got.IsWhollyKnown() {
				t.Errorf("= %#v, want unknown", got)
			}
			if tc.want != cty.DynamicPseudoType && !got.Type().Equals(tc.want) {
				t.Errorf("type = %#v, want %#v", got.Type(), tc.want)
			}
		})
	}
	// A known element can decide the result despite unknown ones.
	if got, _ := evalString(t, `alltrue([var.unknown_bool, false])`); !got.RawEquals(cty.False) {
		t.Errorf("alltrue with a false = %#v", got)
	}
	if got, _ := evalString(t, `anytrue([var.unknown_bool, true])`); !got.RawEquals(cty.True) {
		t.Errorf("anytrue with a true = %#v", got)
	}
}

func TestFunctionsPropagateSensitivity(t *testing.T) {
	for expr, want := range map[string]bool{
		`var.secret`:                         true,
		`upper(var.secret)`:                  true,
		`"pw=${var.secret}"`:                 true,
		`jsonencode({ pw = var.secret })`:    true,
		`sha256(var.secret)`:                 true,
		`length(var.secret)`:                 true,
		`sensitive("plain")`:                 true,
		`nonsensitive(var.secret)`:           false,
		`nonsensitive(upper(var.secret))`:    false,
		`nonsensitive("plain")`:              false,
		`lookup(var.secrets, "a")`:           true,
		`lookup(var.secrets, "b", "dflt")`:   false,
		`templatefile("known_hosts", {})`:    false,
		`coalesce(var.secret, "x")`:          true,
		`try(var.secret, "x")`:               true,
		`one([var.secret])`:                  true,
		`keys(var.secrets)`:                  false,
		`upper(nonsensitive(var.secret))`:    false,
		`sensitive(nonsensitive("a")) == ""`: true,
	} {
		got, diags := evalString(t, expr)
		if diags.HasErrors() {
			t.Errorf("%s: %s", expr, diags)
			continue
		}
		if IsSensitive(got) != want {
			t.Errorf("%s: sensitive = %v, want %v (%#v)", expr, IsSensitive(got), want, got)
		}
	}
}

func TestLookupDefaultKeepsMapMarks(t *testing.T) {
	got, diags := evalString(t, `lookup(sensitive({ a = "x" }), "b", "dflt")`)
	if diags.HasErrors() || !IsSensitive(got) {
		t.Errorf("lookup default from a sensitive map = %#v %v", got, diags)
	}
}
