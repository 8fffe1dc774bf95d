package command

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/airctl/airctl/provision/state"
)

const countedThings = `
resource "test_thing" "a" {
  count = 2
  name  = "a${count.index}"
}
resource "test_thing" "b" {
  name = "b"
  tags = { env = "prod" }
}
`

func TestStateListShowRmMv(t *testing.T) {
	c := newCLI(t)
	c.write("main.tf", countedThings)
	c.must(0, "apply", "-auto-approve")

	r := c.must(0, "state", "list")
	if r.stdout != "test_thing.a[0]\ntest_thing.a[1]\ntest_thing.b\n" {
		t.Errorf("state list = %q", r.stdout)
	}
	r = c.must(0, "state", "list", "test_thing.a")
	if r.stdout != "test_thing.a[0]\ntest_thing.a[1]\n" {
		t.Errorf("state list test_thing.a = %q", r.stdout)
	}
	r = c.must(0, "state", "list", "-id="+c.objectID("b"))
	if r.stdout != "test_thing.b\n" {
		t.Errorf("state list -id = %q", r.stdout)
	}

	r = c.must(0, "state", "show", "test_thing.b")
	contains(t, r, "stdout", "# test_thing.b:", `resource "test_thing" "b" {`, `    name   = "b"`, `        "env" = "prod"`)
	r = c.must(1, "state", "show", "test_thing.a")
	contains(t, r, "stderr", "no instance test_thing.a in the state; the resource has: test_thing.a[0], test_thing.a[1]")

	r = c.must(0, "state", "mv", "test_thing.b", "test_thing.c")
	contains(t, r, "stdout", `Move "test_thing.b" to "test_thing.c"`)
	r = c.must(0, "state", "mv", "test_thing.a[1]", "test_thing.a[5]")
	if got := c.addresses(); !slices.Equal(got, []string{"test_thing.a[0]", "test_thing.a[5]", "test_thing.c"}) {
		t.Errorf("after mv the state has %v", got)
	}
	c.must(1, "state", "mv", "test_thing.a[0]", "test_thing.c")
	r = c.must(1, "state", "mv", "test_thing.c", "random_id.c")
	contains(t, r, "stderr", "resource type")

	r = c.must(0, "state", "rm", "test_thing.a")
	contains(t, r, "stdout", "Removed test_thing.a", "Successfully removed 2 resource instance(s).")
	if got := c.addresses(); !slices.Equal(got, []string{"test_thing.c"}) {
		t.Errorf("after rm the state has %v", got)
	}
	r = c.must(1, "state", "rm", "test_thing.nope")
	contains(t, r, "stderr", "no instance test_thing.nope")
	if n := c.tp.World().Len(); n != 3 {
		t.Errorf("state rm must not delete objects; the world has %d", n)
	}
	if _, err := os.Stat(filepath.Join(c.dir, "airctl.tfstate.backup")); err != nil {
		t.Errorf("no backup of the previous state: %v", err)
	}
}

func TestStatePullPush(t *testing.T) {
	c := newCLI(t)
	c.write("main.tf", countedThings)
	c.must(0, "apply", "-auto-approve")
	pulled := c.must(0, "state", "pull").stdout
	st, err := state.Decode([]byte(pulled))
	if err != nil {
		t.Fatalf("state pull is not a state: %v\n%s", err, pulled)
	}

	// an older copy is refused: someone wrote newer state since
	c.must(0, "state", "rm", "test_thing.b")
	c.write("old.tfstate", pulled)
	r := c.must(1, "state", "push", "old.tfstate")
	contains(t, r, "stderr", "stored state is newer")
	c.must(0, "state", "push", "-force", "old.tfstate")
	if got := c.addresses(); len(got) != 3 {
		t.Errorf("after push -force the state has %v", got)
	}

	// another configuration's state is refused
	other := st.DeepCopy()
	other.Lineage = "someone-else"
	b, _ := state.Encode(other)
	c.stdin = string(b)
	r = c.must(1, "state", "push", "-")
	contains(t, r, "stderr", "lineage")
	c.must(0, "plan", "-detailed-exitcode")
}

func TestImport(t *testing.T) {
	c := newCLI(t)
	c.write("main.tf", `resource "test_thing" "x" {
  name = "x"
  size = 4
}`)
	c.must(0, "apply", "-auto-approve")
	id := c.objectID("x")
	c.must(0, "state", "rm", "test_thing.x")

	r := c.must(0, "import", "test_thing.x", id)
	contains(t, r, "stdout", `test_thing.x: Importing from ID "`+id+`"...`, "Import successful!")
	c.must(0, "plan", "-detailed-exitcode")

	r = c.must(1, "import", "test_thing.x", id)
	contains(t, r, "stderr", "resource already managed by airctl", "airctl state rm test_thing.x")
	r = c.must(1, "import", "test_thing.y", id)
	contains(t, r, "stderr", `resource address "test_thing.y" does not exist in the configuration`)
	c.must(0, "state", "rm", "test_thing.x")
	r = c.must(1, "import", "test_thing.x", "nope")
	contains(t, r, "stderr", "not found")
	r = c.must(1, "import", "test_thing.x[0]", id)
	contains(t, r, "stderr", "neither count nor for_each")
	if got := len(c.state().Resources); got != 0 {
		t.Errorf("failed imports left %d resources in state", got)
	}
	if n := c.tp.CountOps("create"); n != 1 {
		t.Errorf("import created objects: %d creates", n)
	}
}

func TestImportRefusesWhileLocked(t *testing.T) {
	c := newCLI(t)
	c.write("main.tf", `resource "test_thing" "x" { name = "x" }`)
	c.write("airctl.tfstate", "")
	lockHolder := holdLocalLock(t, c)
	defer lockHolder()
	r := c.must(1, "import", "test_thing.x", "whatever")
	contains(t, r, "stderr", "state is locked by", "held-by-test")
	if strings.Contains(r.stderr, "Importing") {
		t.Error("import ran without the lock")
	}
}
