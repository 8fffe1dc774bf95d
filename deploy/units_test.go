package deploy

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airctl/airctl/deploy/release"
)

func TestRestartOrder(t *testing.T) {
	units := []string{"aird-flower.service", "aird-webserver.socket", "aird-worker@2.service", "aird-webserver.service", "aird-scheduler.service", "aird-worker@1.service", "other.service"}
	want := []string{"aird-scheduler.service", "aird-worker@2.service", "aird-worker@1.service", "aird-webserver.service", "aird-flower.service", "other.service"}
	if got := restartOrder(units); !slices.Equal(got, want) {
		t.Fatalf("restartOrder = %q; want %q (never the socket)", got, want)
	}
}

func TestUnitChanges(t *testing.T) {
	from := &release.Manifest{Units: []string{"a.service", "w@1.service", "w@2.service"}}
	to := &release.Manifest{Units: []string{"a.service", "w@1.service", "b.service"}}
	enable, disable := unitChanges(from, to)
	if !slices.Equal(enable, []string{"b.service"}) || !slices.Equal(disable, []string{"w@2.service"}) {
		t.Fatalf("enable %q, disable %q", enable, disable)
	}
	if enable, disable := unitChanges(nil, to); !slices.Equal(enable, to.Units) || disable != nil {
		t.Fatalf("first deploy: enable %q, disable %q", enable, disable)
	}
}

func TestJudgeHealth(t *testing.T) {
	restart := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	body := func(db, sched, beat string) []byte {
		hb := "null"
		if beat != "" {
			hb = `"` + beat + `"`
		}
		return []byte(`{"metadatabase":{"status":"` + db + `"},"scheduler":{"status":"` + sched + `","latest_scheduler_heartbeat":` + hb + `}}`)
	}
	for _, tc := range []struct {
		name string
		body []byte
		want string // "" = healthy
	}{
		{"fresh", body("healthy", "healthy", "2025-01-02T03:04:06.5+00:00"), ""},
		{"before restart", body("healthy", "healthy", "2025-01-02T03:04:04.999999+00:00"), "predates the restart"},
		{"no heartbeat", body("healthy", "unhealthy", ""), "scheduler"},
		{"database down", body("unhealthy", "healthy", "2025-01-02T03:04:06+00:00"), "metadata database"},
		{"not json", []byte("<html>"), "not JSON"},
	} {
		err := judge(tc.body, restart)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, errUnhealthy)) {
			t.Errorf("%s: judge = %v; want %q", tc.name, err, tc.want)
		}
	}
}

func TestSecretsScrubbed(t *testing.T) {
	s := secrets{"hunter2"}
	err := s.scrub(errors.New("dial postgres://u:hunter2@db: refused"))
	if strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "(sensitive value)") {
		t.Fatalf("scrub = %v", err)
	}
	plain := errors.New("nothing secret")
	if s.scrub(plain) != plain {
		t.Fatal("an error without secrets must keep its chain")
	}
}

func TestLockedErrorNamesHolder(t *testing.T) {
	err := &LockedError{Host: "vm1", Holder: LockInfo{Who: "alice@laptop", Machine: "laptop", PID: 42, Commit: "abc", Since: time.Now().Add(-time.Minute)}}
	for _, want := range []string{"vm1", "alice@laptop", "pid 42", "abc", "--force-unlock"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	if !errors.Is(err, ErrLocked) {
		t.Error("LockedError is not ErrLocked")
	}
}
