package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseVMVars(t *testing.T) {
	out := []byte("VM_SSH_PORT=2223\nVM_SSH_USER=deploy\nnoise line\nVM_RUN_DIR=/var/cache/x/run-2223\nOTHER=1\n")
	got := parseVMVars(out)
	want := map[string]string{"VM_SSH_PORT": "2223", "VM_SSH_USER": "deploy", "VM_RUN_DIR": "/var/cache/x/run-2223"}
	if len(got) != len(want) {
		t.Fatalf("parsed %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

// The scripts are found beside the module root unless the Makefile's
// variable says otherwise.
func TestVMScriptsDir(t *testing.T) {
	t.Setenv(vmScriptsEnv, "")
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(filepath.Dir(wd)) // internal/testenv -> module root
	if got, want := vmScriptsDir(), filepath.Join(filepath.Dir(root), "shared", "vm"); got != want {
		t.Errorf("vmScriptsDir() = %q, want %q", got, want)
	}
	t.Setenv(vmScriptsEnv, "/opt/vm")
	if got := vmScriptsDir(); got != "/opt/vm" {
		t.Errorf("with %s set: %q", vmScriptsEnv, got)
	}
}

// Without the image the VM test is skipped, or fails when required; the
// skip path is what `go test` outside make e2e meets.
func TestVMSkipsWithoutImage(t *testing.T) {
	t.Setenv(vmDirEnv, t.TempDir())
	t.Setenv(e2eRequireEnv, "")
	var skipped bool
	t.Run("inner", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		VM(t)
	})
	if !skipped {
		t.Fatal("VM did not skip without an image")
	}
}
