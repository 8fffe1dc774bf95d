package sshtest

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
)

// OwnedTempDir is a temp dir that login owns and others can traverse (the
// sshd login user is not the test process's user when tests run as root;
// t.TempDir's parents are closed to it). Removed when the test ends.
func OwnedTempDir(t testing.TB, login string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "airctl-deploy-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	Chown(t, login, dir)
	return dir
}

// Chown gives path to login when running as root (otherwise it already is
// ours, and login is us).
func Chown(t testing.TB, login, path string) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	u, err := user.Lookup(login)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatal(err)
	}
}

// WriteFile creates path, and its missing parent directories, owned by
// login.
func WriteFile(t testing.TB, login, path, content string, mode os.FileMode) {
	t.Helper()
	var missing []string
	for d := filepath.Dir(path); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		missing = append([]string{d}, missing...)
	}
	for _, d := range missing {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		Chown(t, login, d)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	Chown(t, login, path)
}
