package render

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/airctl/airctl/templates"
)

// needSystemdAnalyze skips without systemd-analyze, except under CI, where
// `make deps` installs it and its absence is a failure.
func needSystemdAnalyze(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("systemd-analyze"); err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("systemd-analyze not found (Debian package systemd) and CI is set")
	}
	t.Skip("systemd-analyze not found; install the systemd package (make deps)")
}

func TestVerifyRenderedUnits(t *testing.T) {
	needSystemdAnalyze(t)
	variants := map[string]func(*Settings){
		"reference": func(*Settings) {},
		"custom paths, privileged flower, more workers": func(s *Settings) {
			s.ReleaseRoot, s.ConfigDir, s.StateDir, s.LogDir = "/srv/airctl", "/srv/aird/etc", "/srv/aird/state", "/srv/aird/log"
			s.User, s.Group = "airflow", "airflow"
			s.FlowerPort, s.WebserverPort = 555, 8080
			s.WorkerInstances = 3
		},
	}
	for name, mutate := range variants {
		t.Run(name, func(t *testing.T) {
			s := testSettings()
			mutate(&s)
			if err := Verify(context.Background(), s, mustRender(t, s, nil)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestVerifyCatchesBrokenUnits proves the verification is not a rubber
// stamp: each embedded unit, broken one way, must fail it.
func TestVerifyCatchesBrokenUnits(t *testing.T) {
	needSystemdAnalyze(t)
	for _, tc := range []struct {
		name, tmpl, old, new, want string
	}{
		{"typo in a directive", "aird-scheduler.service.tmpl", "RestartSec=", "RestartSek=", "Unknown key 'RestartSek'"},
		{"bad value", "aird-worker@.service.tmpl", "KillMode=mixed", "KillMode=mixd", "Failed to parse kill mode"},
		{"typo in socket", "aird-webserver.socket.tmpl", "ListenStream=", "ListenStrem=", "Unknown key 'ListenStrem'"},
		{"misspelt section", "aird-flower.service.tmpl", "[Service]", "[Servise]", "Unknown section 'Servise'"},
		{"missing binary", "aird-webserver.service.tmpl", "{{.BinPath}}", "/opt/airctl/curent/bin/aird", "is not executable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text, err := fs.ReadFile(templates.FS, tc.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(text), tc.old) {
				t.Fatalf("%s has no %q to break", tc.tmpl, tc.old)
			}
			broken := strings.Replace(string(text), tc.old, tc.new, 1)
			s := testSettings()
			err = Verify(context.Background(), s, mustRender(t, s, fstest.MapFS{tc.tmpl: {Data: []byte(broken)}}))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Verify = %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "airctl-verify-") {
				t.Errorf("error shows the scratch root: %v", err)
			}
		})
	}
}

func TestVerifyWithoutSystemdAnalyze(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	s := testSettings()
	if err := Verify(context.Background(), s, mustRender(t, s, nil)); !errors.Is(err, ErrNoSystemdAnalyze) {
		t.Errorf("Verify without systemd-analyze = %v", err)
	}
}
