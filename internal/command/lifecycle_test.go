package command

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision/provider/testprovider"
)

const twoThings = `
variable "size" {
  type    = number
  default = 1
}

resource "test_thing" "a" {
  name = "a"
  size = var.size
  tags = { team = "data" }
}

resource "test_thing" "b" {
  name = "b-${test_thing.a.id}"
}

resource "random_integer" "port" {
  min = 8000
  max = 8999
}

output "a_id" { value = test_thing.a.id }
output "port" { value = random_integer.port.result }
output "secret" {
  value     = "s3cret-${test_thing.a.id}"
  sensitive = true
}
`

func TestInitPlanApplyPlanAgain(t *testing.T) {
	c := newCLI(t)
	c.write("main.tf", twoThings)
	r := c.must(0, "init")
	contains(t, r, "stdout", "airctl has been successfully initialized!", "- Using built-in provider test", "- Using built-in provider random")

	r = c.must(exitChanges, "plan", "-detailed-exitcode")
	contains(t, r, "stdout",
		"# test_thing.a will be created", `+ resource "test_thing" "a" {`, "+ id     = (known after apply)",
		`+ name   = "a"`, "+ secret = (sensitive value)", "Plan: 3 to add, 0 to change, 0 to destroy.")

	r = c.must(0, "apply", "-auto-approve")
	contains(t, r, "stdout",
		"test_thing.a: Creating...", "test_thing.a: Creation complete after 0s [id=test_thing-1]",
		"test_thing.b: Creation complete after", "Apply complete! Resources: 3 added, 0 changed, 0 destroyed.",
		"Outputs:", `a_id = "test_thing-1"`, "secret = <sensitive>")
	if strings.Contains(r.stdout, "s3cret") {
		t.Error("apply printed a sensitive output")
	}
	if i, j := strings.Index(r.stdout, "test_thing.a: Creation complete"), strings.Index(r.stdout, "test_thing.b: Creating..."); i < 0 || j < i {
		t.Errorf("b must start after a completed:\n%s", r.stdout)
	}

	r = c.must(0, "plan", "-detailed-exitcode")
	contains(t, r, "stdout", "test_thing.a: Refreshing state... [id=test_thing-1]", "No changes. Your infrastructure matches the configuration.")

	r = c.must(exitChanges, "plan", "-detailed-exitcode", "-var", "size=3")
	contains(t, r, "stdout", "# test_thing.a will be updated in-place", "~ size = 1 -> 3", "Plan: 0 to add, 1 to change, 0 to destroy.")

	r = c.must(0, "apply", "-auto-approve", "-var", "size=3")
	contains(t, r, "stdout", "test_thing.a: Modifying...", "Modifications complete after", "0 added, 1 changed, 0 destroyed")
	c.must(0, "plan", "-detailed-exitcode", "-var", "size=3")

	// apply with nothing to do changes nothing, not even the serial
	serial := c.state().Serial
	r = c.must(0, "apply", "-auto-approve", "-var", "size=3")
	contains(t, r, "stdout", "No changes.", "Apply complete! Resources: 0 added, 0 changed, 0 destroyed.")
	if got := c.state().Serial; got != serial {
		t.Errorf("a no-op apply moved the serial from %d to %d", serial, got)
	}
	if n := c.tp.World().Len(); n != 2 {
		t.Errorf("world has %d objects, want 2", n)
	}
}

func TestOutputCommand(t *testing.T) {
	c := newCLI(t)
	c.write("main.tf", twoThings+`
output "list" { value = ["x", "y"] }
`)
	r := c.must(0, "output")
	contains(t, r, "stderr", "No outputs found")
	c.must(0, "apply", "-auto-approve")

	r = c.must(0, "output")
	contains(t, r, "stdout", `a_id = "test_thing-1"`, "secret = <sensitive>", "list = [\n  \"x\",\n  \"y\",\n]")

	r = c.must(0, "output", "a_id")
	if r.stdout != "\"test_thing-1\"\n" {
		t.Errorf("output a_id = %q", r.stdout)
	}
	r = c.must(0, "output", "secret")
	if r.stdout != "<sensitive>\n" {
		t.Errorf("output secret = %q, want <sensitive>", r.stdout)
	}
	r = c.must(0, "output", "-raw", "secret")
	if r.stdout != "s3cret-test_thing-1" {
		t.Errorf("output -raw secret = %q", r.stdout)
	}
	r = c.must(0, "output", "-json", "list")
	if r.stdout != "[\"x\",\"y\"]\n" {
		t.Errorf("output -json list = %q", r.stdout)
	}
	r = c.must(0, "output", "-json")
	var all map[string]struct {
		Sensitive bool            `json:"sensitive"`
		Type      json.RawMessage `json:"type"`
		Value     json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &all); err != nil {
		t.Fatalf("output -json: %v\n%s", err, r.stdout)
	}
	if !all["secret"].Sensitive || string(all["a_id"].Value) != `"test_thing-1"` || string(all["port"].Type) != `"number"` {
		t.Errorf("output -json = %s", r.stdout)
	}
	r = c.must(1, "output", "-raw", "list")
	contains(t, r, "stderr", "-raw prints only strings, numbers and bools")
	r = c.must(1, "output", "nope")
	contains(t, r, "stderr", `output "nope" not found`)
}

func TestDestroy(t *testing.T) {
	c := newCLI(t)
	c.write("main.tf", twoThings)
	c.must(0, "apply", "-auto-approve")
	r := c.must(exitChanges, "plan", "-destroy", "-detailed-exitcode")
	contains(t, r, "stdout", "# test_thing.b will be destroyed", "- resource \"test_thing\" \"b\" {", "Plan: 0 to add, 0 to change, 3 to destroy.")

	r = c.must(1, "destroy")
	contains(t, r, "stderr", "destroy needs confirmation", "-auto-approve")

	r = c.must(0, "destroy", "-auto-approve")
	contains(t, r, "stdout", "test_thing.a: Destroying...", "Destruction complete after", "Destroy complete! Resources: 3 destroyed.")
	if i, j := strings.Index(r.stdout, "test_thing.b: Destruction complete"), strings.Index(r.stdout, "test_thing.a: Destroying..."); i < 0 || j < i {
		t.Errorf("a (a dependency of b) must be destroyed after b:\n%s", r.stdout)
	}
	if n := c.tp.World().Len(); n != 0 {
		t.Errorf("world still has %d objects", n)
	}
	if addrs := c.addresses(); len(addrs) != 0 {
		t.Errorf("state still lists %v", addrs)
	}
	if len(c.state().Outputs) != 0 {
		t.Errorf("outputs left after destroy: %v", c.state().Outputs)
	}
	r = c.must(0, "destroy", "-auto-approve")
	contains(t, r, "stdout", "No changes. No objects need to be destroyed.")
}

func TestApplyConfirmation(t *testing.T) {
	c := newCLI(t)
	c.write("main.tf", `resource "test_thing" "a" { name = "a" }`)

	r := c.must(1, "apply")
	contains(t, r, "stderr", "apply needs confirmation, but stdin is not a terminal", "-auto-approve", "airctl plan -out=FILE")
	if c.tp.CountOps(testprovider.OpPlan) != 0 {
		t.Error("the refusal should come before any planning")
	}

	c.stdinTTY = true
	c.stdin = "no\n"
	r = c.must(1, "apply")
	contains(t, r, "stdout", "Do you want to perform these actions?", "Enter a value:")
	contains(t, r, "stderr", "Apply cancelled.")
	if c.tp.World().Len() != 0 {
		t.Fatal("a cancelled apply created something")
	}

	c.stdin = "yes\n"
	r = c.must(0, "apply")
	contains(t, r, "stdout", "Apply complete! Resources: 1 added")

	r = c.must(1, "apply", "-json")
	contains(t, r, "stderr", "-json needs -auto-approve")
}

func TestMissingVariables(t *testing.T) {
	c := newCLI(t)
	c.write("main.tf", `
variable "region" {
  type        = string
  description = "Where to put things."
}
variable "zone" { type = string }
resource "test_thing" "a" { name = "${var.region}-${var.zone}" }
`)
	r := c.must(1, "plan")
	contains(t, r, "stderr", "No value for required variable", "main.tf:2:1",
		"no value for required variable(s): region, zone", "-var 'region=VALUE'", "TF_VAR_zone", "terraform.tfvars",
		"only when stdin is a terminal")

	c.environ = []string{"TF_VAR_zone=b"}
	c.stdinTTY = true
	c.stdin = "eu\n"
	r = c.must(0, "plan")
	contains(t, r, "stdout", "var.region", "Where to put things.", "Enter a value:", `+ name   = "eu-b"`)

	r = c.must(1, "plan", "-input=false")
	contains(t, r, "stderr", "no value for required variable(s): region")

	c.write("terraform.tfvars", `region = "us"`)
	r = c.must(0, "plan")
	contains(t, r, "stdout", `+ name   = "us-b"`)
}

func TestValidate(t *testing.T) {
	c := newCLI(t)
	c.write("main.tf", `resource "test_thing" "a" {
  name = "a"
  size = "big"
  colour = "red"
}

resource "test_thing" "b" {
  size = 2
}

resource "test_thing" "d" {
  name = "d"
  id   = "x"
}

resource "test_nope" "c" {}
`)
	r := c.must(1, "validate")
	contains(t, r, "stderr",
		`on main.tf:3:10, in resource "test_thing" "a"`, "Incorrect attribute value type", "3:   size = \"big\"",
		"on main.tf:4:3", `An argument named "colour" is not expected here.`,
		"on main.tf:7:", `The argument "name" is required`,
		"on main.tf:13:3", "cannot set id: its value is decided by the provider",
		"on main.tf:16:10", `no resource type "test_nope"`)

	r = c.must(1, "validate", "-json")
	var out struct {
		Valid       bool `json:"valid"`
		ErrorCount  int  `json:"error_count"`
		Diagnostics []struct {
			Summary string `json:"summary"`
			Range   struct {
				Filename string `json:"filename"`
				Start    struct{ Line, Column int }
			} `json:"range"`
		} `json:"diagnostics"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("validate -json: %v\n%s", err, r.stdout)
	}
	if out.Valid || out.ErrorCount != 5 || out.Diagnostics[0].Range.Filename != "main.tf" || out.Diagnostics[0].Range.Start.Line != 3 {
		t.Errorf("validate -json = %+v", out)
	}

	c.write("main.tf", `
variable "n" { type = number }
resource "test_thing" "a" {
  count = var.n
  name  = "a-${count.index}"
  size  = var.n
}
`)
	r = c.must(0, "validate")
	contains(t, r, "stdout", "Success! The configuration is valid.")
	c.must(0, "validate", "-json")

	c.write("main.tf", "resource \"test_thing\" \"a\" {\n  name = \n}\n")
	r = c.must(1, "validate")
	contains(t, r, "stderr", "main.tf:2:")
	r = c.must(1, "plan")
	contains(t, r, "stderr", "main.tf:2:")
}

func TestFmt(t *testing.T) {
	c := newCLI(t)
	ugly := "resource \"test_thing\" \"a\" {\nname=\"a\"\n  size    = 2\n}\n"
	pretty := "resource \"test_thing\" \"a\" {\n  name = \"a\"\n  size = 2\n}\n"
	c.write("main.tf", ugly)
	c.write("ok.tf", pretty)

	r := c.must(exitUnformatted, "fmt", "-check")
	if r.stdout != "main.tf\n" {
		t.Errorf("fmt -check listed %q", r.stdout)
	}
	if c.read("main.tf") != ugly {
		t.Error("fmt -check rewrote the file")
	}
	r = c.must(exitUnformatted, "fmt", "-check", "-diff")
	contains(t, r, "stdout", "--- old/main.tf", "+++ new/main.tf", "-name=\"a\"", "+  name = \"a\"")

	r = c.must(0, "fmt")
	if r.stdout != "main.tf\n" || c.read("main.tf") != pretty {
		t.Errorf("fmt: listed %q, file now %q", r.stdout, c.read("main.tf"))
	}
	r = c.must(0, "fmt", "-check")
	if r.stdout != "" {
		t.Errorf("fmt -check after fmt listed %q", r.stdout)
	}

	c.write("broken.tf", "resource \"x\" {\n  a = \n")
	r = c.must(1, "fmt", "-check")
	contains(t, r, "stderr", "broken.tf:")

	c.stdin = ugly
	r = c.must(0, "fmt", "-")
	if r.stdout != pretty {
		t.Errorf("fmt - printed %q", r.stdout)
	}
}

func TestGraph(t *testing.T) {
	c := newCLI(t)
	c.write("main.tf", twoThings+`
locals { b_name = test_thing.b.name }
resource "test_thing" "c" { name = local.b_name }
`)
	want := `digraph {
	"random_integer.port";
	"test_thing.a";
	"test_thing.b";
	"test_thing.c";
	"test_thing.b" -> "test_thing.a";
	"test_thing.c" -> "test_thing.b";
}
`
	for range 3 {
		if r := c.must(0, "graph"); r.stdout != want {
			t.Fatalf("graph =\n%s\nwant\n%s", r.stdout, want)
		}
	}
	r := c.must(0, "graph", "-full")
	contains(t, r, "stdout", `"test_thing.c" -> "local.b_name";`, `"local.b_name" -> "test_thing.b";`, `"test_thing.a" -> "var.size";`, `"output.a_id" -> "test_thing.a";`)

	c.write("main.tf", `
resource "test_thing" "x" { name = test_thing.y.id }
resource "test_thing" "y" { name = test_thing.x.id }
`)
	r = c.must(1, "graph")
	contains(t, r, "stderr", "cycle", "test_thing.x", "test_thing.y")
}

func TestHelpAndUsage(t *testing.T) {
	c := newCLI(t)
	for name := range commands() {
		r := c.must(0, name, "-help")
		if !strings.HasPrefix(r.stdout, "Usage: airctl [global options] "+name) {
			t.Errorf("%s -help starts %q", name, firstLine(r.stdout))
		}
	}
	for name := range stateCommands() {
		r := c.must(0, "state", name, "-help")
		if !strings.HasPrefix(r.stdout, "Usage: airctl [global options] state "+name) {
			t.Errorf("state %s -help starts %q", name, firstLine(r.stdout))
		}
	}
	r := c.must(0, "-help")
	contains(t, r, "stdout", "Usage: airctl [global options] <command>", "force-unlock", "-chdir=DIR")
	r = c.must(0, "help", "plan")
	contains(t, r, "stdout", "-detailed-exitcode")
	r = c.must(1, "plan", "-bogus")
	contains(t, r, "stderr", "flag provided but not defined: -bogus", `airctl plan -help`)
	r = c.must(1, "nope")
	contains(t, r, "stderr", `unknown command "nope"`)
	r = c.must(1, "state", "nope")
	contains(t, r, "stderr", `unknown state subcommand "nope"`)
	r = c.must(0, "version")
	if !strings.HasPrefix(r.stdout, "airctl test\non ") || !strings.Contains(r.stdout, "+ provider test") {
		t.Errorf("version = %q", r.stdout)
	}
	r = c.must(0, "-version")
	contains(t, r, "stdout", "airctl test")
	r = c.must(0, "version", "-json")
	contains(t, r, "stdout", `"airctl_version": "test"`)
	if r := c.run("-chdir=/does/not/exist", "plan"); r.code != 1 || !strings.Contains(r.stderr, "not a directory") {
		t.Errorf("bad -chdir: %s", r)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func TestColourOnlyOnTerminal(t *testing.T) {
	c := newCLI(t)
	c.write("main.tf", `resource "test_thing" "a" { name = "a" }`)
	r := c.must(0, "plan")
	if strings.Contains(r.stdout+r.stderr, "\x1b[") {
		t.Error("colour without a terminal")
	}
	// The harness's Env has no TTY; colour needs StdoutTTY, which only
	// main sets. Checked through Run directly.
	out := newSyncBuffer()
	code := Run(t.Context(), []string{"-chdir=" + c.dir, "plan"}, Env{Stdin: strings.NewReader(""), Stdout: out, Stderr: out, StdoutTTY: true, Providers: c.providers()})
	if code != 0 || !strings.Contains(out.String(), "\x1b[32m+\x1b[0m") {
		t.Errorf("no colour on a terminal: %d %q", code, out.String())
	}
	out = newSyncBuffer()
	Run(t.Context(), []string{"-chdir=" + c.dir, "plan", "-no-color"}, Env{Stdin: strings.NewReader(""), Stdout: out, Stderr: out, StdoutTTY: true, Providers: c.providers()})
	if strings.Contains(out.String(), "\x1b[") {
		t.Error("colour despite -no-color")
	}
	out = newSyncBuffer()
	Run(t.Context(), []string{"-chdir=" + c.dir, "plan"}, Env{Stdin: strings.NewReader(""), Stdout: out, Stderr: out, StdoutTTY: true, Environ: []string{"NO_COLOR=1"}, Providers: c.providers()})
	if strings.Contains(out.String(), "\x1b[") {
		t.Error("colour despite NO_COLOR")
	}
}

func TestJSONUI(t *testing.T) {
	c := newCLI(t)
	c.write("main.tf", twoThings)
	r := c.must(0, "plan", "-json")
	types := jsonTypes(t, r.stdout)
	if types[0] != "version" || !slices.Contains(types, "planned_change") || types[len(types)-1] != "change_summary" {
		t.Errorf("plan -json message types %v", types)
	}
	r = c.must(0, "apply", "-json", "-auto-approve")
	types = jsonTypes(t, r.stdout)
	for _, want := range []string{"version", "planned_change", "apply_start", "apply_complete", "change_summary", "outputs"} {
		if !slices.Contains(types, want) {
			t.Errorf("apply -json lacks %s: %v", want, types)
		}
	}
	if strings.Contains(r.stdout, "s3cret") {
		t.Error("apply -json printed a sensitive output")
	}
	c.tp.MutateOutside(c.objectID("a"), map[string]cty.Value{"size": cty.NumberIntVal(9)})
	r = c.must(exitChanges, "plan", "-json", "-detailed-exitcode")
	types = jsonTypes(t, r.stdout)
	for _, want := range []string{"refresh_start", "refresh_complete", "resource_drift", "planned_change"} {
		if !slices.Contains(types, want) {
			t.Errorf("plan -json after drift lacks %s: %v", want, types)
		}
	}
	c.write("bad.tf", `resource "test_thing" "z" { nope = 1 }`)
	r = c.must(1, "plan", "-json")
	types = jsonTypes(t, r.stdout)
	if types[len(types)-1] != "diagnostic" || !strings.Contains(r.stdout, `"filename":"bad.tf"`) {
		t.Errorf("plan -json with a bad config: %s", r.stdout)
	}
}

func jsonTypes(t *testing.T, out string) []string {
	t.Helper()
	var types []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m struct {
			Type      string `json:"type"`
			Level     string `json:"@level"`
			Message   string `json:"@message"`
			Timestamp string `json:"@timestamp"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", line, err)
		}
		if m.Type == "" || m.Level == "" || m.Timestamp == "" {
			t.Errorf("incomplete message %s", line)
		}
		types = append(types, m.Type)
	}
	return types
}

// TestTerraformDataRoundTrip applies terraform_data, whose attributes are
// dynamically typed, and plans again: the state must read them back.
func TestTerraformDataRoundTrip(t *testing.T) {
	c := newCLI(t)
	c.write("main.tf", `
resource "terraform_data" "m" {
  input = { a = 1 }
}
output "m" { value = terraform_data.m.output.a }
`)
	c.must(0, "apply", "-auto-approve")
	r := c.run("plan", "-detailed-exitcode")
	if r.code != 0 {
		t.Fatalf("plan after apply: %s", r)
	}
	if got := c.must(0, "output", "m").stdout; got != "1\n" {
		t.Errorf("output m = %q", got)
	}
}
