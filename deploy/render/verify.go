package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// ErrNoSystemdAnalyze is returned by Verify when systemd-analyze is not
// installed (Debian: package systemd).
var ErrNoSystemdAnalyze = errors.New("systemd-analyze not found (install the systemd package)")

// Verify checks the units among files with `systemd-analyze verify`, as the
// host would load them, without needing systemd as PID 1 or root.
//
// The units are placed in a scratch root (--root) at etc/systemd/system, so
// they are loaded by name exactly as on the host, and template units are
// checked through an instance (aird-worker@1.service). systemd refuses a
// unit whose ExecStart= binary is missing; the scratch root therefore gets
// an executable stub at s.BinPath() (the release's aird, which the deployer
// uploads) and at any other Exec path that exists on this machine (system
// tools, present on the host too). Any other Exec path stays missing and
// fails, which catches a mistyped binary path in an override.
//
// systemd-analyze reports unknown directives and unparsable values as
// "ignoring" warnings and, depending on version and flags, exits 0 anyway;
// a unit systemd would half-ignore is a broken unit, so any output at all
// fails verification.
func Verify(ctx context.Context, s Settings, files []File) error {
	bin, err := exec.LookPath("systemd-analyze")
	if err != nil {
		return fmt.Errorf("render: verify: %w", ErrNoSystemdAnalyze)
	}
	units := unitFiles(files)
	if len(units) == 0 {
		return errors.New("render: verify: no unit files")
	}
	root, err := os.MkdirTemp("", "airctl-verify-")
	if err != nil {
		return fmt.Errorf("render: verify: %w", err)
	}
	defer os.RemoveAll(root)
	names, err := stageUnits(root, s, units)
	if err != nil {
		return fmt.Errorf("render: verify: %w", err)
	}
	// --recursive-errors=no: check our units, not the (absent) rest of a
	// system such as sysinit.target; --man=no: no man pages to look up.
	args := append([]string{"verify", "--no-pager", "--man=no", "--generators=no", "--recursive-errors=no", "--root=" + root}, names...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_COLOR=0", "SYSTEMD_PAGER=", "LC_ALL=C")
	out, runErr := cmd.CombinedOutput()
	msg := strings.TrimSpace(strings.ReplaceAll(string(out), root, ""))
	if runErr != nil || msg != "" {
		if msg == "" {
			msg = "(no output)"
		}
		return fmt.Errorf("render: systemd-analyze verify %s: %s", strings.Join(names, " "), joinErr(msg, runErr))
	}
	return nil
}

func joinErr(msg string, err error) string {
	if err == nil {
		return msg
	}
	return msg + " (" + err.Error() + ")"
}

// stageUnits writes units and executable stubs under root and returns the
// unit names to verify.
func stageUnits(root string, s Settings, units []File) ([]string, error) {
	unitDir := filepath.Join(root, "etc", "systemd", "system")
	if err := os.MkdirAll(unitDir, 0o755); err != nil {
		return nil, err
	}
	stubs := map[string]bool{s.BinPath(): true}
	var names []string
	for _, u := range units {
		name := path.Base(u.Path)
		if err := os.WriteFile(filepath.Join(unitDir, name), u.Content, 0o644); err != nil {
			return nil, err
		}
		for _, p := range execPaths(u.Content) {
			if onHost(p) {
				stubs[p] = true
			}
		}
		names = append(names, instanceName(name))
	}
	for p := range stubs {
		if err := writeStub(root, p); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// instanceName turns a template unit (a@.service) into an instance
// (a@1.service): templates cannot be verified on their own.
func instanceName(name string) string {
	return strings.Replace(name, "@.", "@1.", 1)
}

// execPaths are the absolute programs of a unit's Exec*= lines, without
// systemd's prefixes (-, @, :, +, !).
func execPaths(unit []byte) []string {
	var paths []string
	for _, line := range bytes.Split(unit, []byte("\n")) {
		key, val, ok := strings.Cut(strings.TrimSpace(string(line)), "=")
		if !ok || !strings.HasPrefix(key, "Exec") {
			continue
		}
		fields := strings.Fields(strings.TrimLeft(strings.TrimSpace(val), "-@:+!"))
		if len(fields) > 0 && path.IsAbs(fields[0]) {
			paths = append(paths, fields[0])
		}
	}
	return paths
}

func onHost(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

func writeStub(root, p string) error {
	target := filepath.Join(root, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	return os.WriteFile(target, []byte("#!/bin/sh\nexit 0\n"), 0o755)
}
