package command

import (
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision/provider/testprovider"
)

const threeThings = `
variable "size" {
  type    = number
  default = 1
}
resource "test_thing" "a" {
  name = "a"
  size = var.size
}
resource "test_thing" "b" { name = "b-${test_thing.a.id}" }
resource "test_thing" "c" { name = "c" }
`

func TestSavedPlan(t *testing.T) {
	c := newCLI(t)
	c.write("main.tf", threeThings)
	r := c.must(0, "plan", "-out=tf.plan", "-var", "size=2")
	contains(t, r, "stdout", "Saved the plan to: tf.plan", `airctl apply "tf.plan"`)

	r = c.must(1, "apply", "-var", "size=3", "tf.plan")
	contains(t, r, "stderr", "cannot be used with a saved plan")

	// applied unchanged and without asking (stdin is not a terminal), with
	// the variables it was made with
	r = c.must(0, "apply", "tf.plan")
	contains(t, r, "stdout", "Apply complete! Resources: 3 added")
	if strings.Contains(r.stdout, "Do you want to perform") {
		t.Error("a saved plan must not ask for confirmation")
	}
	c.must(0, "plan", "-detailed-exitcode", "-var", "size=2")

	// the same plan file again: the state moved on since it was made
	r = c.must(1, "apply", "tf.plan")
	contains(t, r, "stderr", "stale")
	if n := c.tp.CountOps(testprovider.OpCreate); n != 3 {
		t.Errorf("%d creates, want 3", n)
	}

	// a plan made before someone else applied is refused too
	c.must(0, "plan", "-out=tf.plan", "-var", "size=5")
	c.must(0, "apply", "-auto-approve", "-var", "size=6")
	r = c.must(1, "apply", "tf.plan")
	contains(t, r, "stderr", "saved plan is stale", "serial")

	// and a plan whose configuration changed since
	c.must(0, "plan", "-out=tf.plan", "-var", "size=6", "-destroy")
	c.write("extra.tf", `resource "test_thing" "d" { name = "d" }`)
	r = c.must(1, "apply", "tf.plan")
	contains(t, r, "stderr", "configuration files changed")
	if c.tp.World().Len() != 3 {
		t.Errorf("refused plans changed the world: %d objects", c.tp.World().Len())
	}
}

func TestTargetReplaceRefresh(t *testing.T) {
	c := newCLI(t)
	c.write("main.tf", threeThings)
	r := c.must(0, "apply", "-auto-approve", "-target=test_thing.b")
	contains(t, r, "stdout", "test_thing.a: Creation complete", "test_thing.b: Creation complete", "2 added")
	if strings.Contains(r.stdout, "test_thing.c") {
		t.Errorf("-target=test_thing.b touched test_thing.c:\n%s", r.stdout)
	}
	r = c.must(exitChanges, "plan", "-detailed-exitcode")
	contains(t, r, "stdout", "# test_thing.c will be created", "Plan: 1 to add, 0 to change, 0 to destroy.")
	c.must(0, "apply", "-auto-approve")

	oldID := c.objectID("c")
	r = c.must(exitChanges, "plan", "-replace=test_thing.c", "-detailed-exitcode")
	contains(t, r, "stdout", "# test_thing.c must be replaced", "# (requested with -replace)", "-/+ resource", "Plan: 1 to add, 0 to change, 1 to destroy.")
	r = c.must(0, "apply", "-auto-approve", "-replace=test_thing.c")
	contains(t, r, "stdout", "test_thing.c: Destroying...", "test_thing.c: Creation complete", "1 added, 0 changed, 1 destroyed")
	if c.objectID("c") == oldID {
		t.Error("-replace kept the old object")
	}
	r = c.must(1, "plan", "-replace=not an address")
	contains(t, r, "stderr", "invalid resource address")

	// changed behind airctl's back: -refresh=false does not look
	c.tp.MutateOutside(c.objectID("c"), map[string]cty.Value{"size": cty.NumberIntVal(7)})
	reads := c.tp.CountOps(testprovider.OpRead)
	c.must(0, "plan", "-refresh=false", "-detailed-exitcode")
	if c.tp.CountOps(testprovider.OpRead) != reads {
		t.Error("-refresh=false read objects")
	}
	c.must(exitChanges, "plan", "-detailed-exitcode")
}

func TestDriftDetection(t *testing.T) {
	c := newCLI(t)
	c.write("main.tf", threeThings)
	c.must(0, "apply", "-auto-approve")
	c.tp.MutateOutside(c.objectID("a"), map[string]cty.Value{"size": cty.NumberIntVal(9)})
	if err := c.tp.DeleteOutside(c.objectID("c")); err != nil {
		t.Fatal(err)
	}
	r := c.must(exitChanges, "plan", "-detailed-exitcode")
	contains(t, r, "stdout",
		"Note: Objects have changed outside of airctl",
		"# test_thing.a has changed", "~ size = 1 -> 9",
		"# test_thing.c has been deleted",
		"# test_thing.a will be updated in-place", "~ size = 9 -> 1",
		"# test_thing.c will be created",
		"Plan: 1 to add, 1 to change, 0 to destroy.")
	c.must(0, "apply", "-auto-approve")
	c.must(0, "plan", "-detailed-exitcode")
}

func TestDetailedExitCodeOnError(t *testing.T) {
	c := newCLI(t)
	c.write("main.tf", `resource "test_thing" "a" { name = "a" }`)
	c.tp.Inject(testprovider.Fault{Kind: testprovider.OpPlan, Name: "a"})
	r := c.must(1, "plan", "-detailed-exitcode")
	contains(t, r, "stderr", "injected failure")
	c.must(exitChanges, "plan", "-detailed-exitcode")
}
