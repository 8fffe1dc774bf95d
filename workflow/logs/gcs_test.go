package logs_test

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/airctl/airctl/internal/gcpfake"
	"github.com/airctl/airctl/workflow/logs"
)

const content = "[2024-05-06T07:08:10Z] aird: try 1 of 1 on test: echo hi\nhi ünï\n[2024-05-06T07:08:11Z] aird: task ended: exit status 0 → success\n"

func TestShipUploadsToReferenceLayout(t *testing.T) {
	for _, deleteLocal := range []bool{true, false} {
		b := newBucket(t)
		base := t.TempDir()
		local, rel := writeLog(t, base, content)
		g := b.shipper(filepath.Join(base, ".upload-pending"), deleteLocal)
		if err := g.Ship(t.Context(), local, rel); err != nil {
			t.Fatal(err)
		}
		// logs/{dag_id}/{task_id}/{ts}/{try}.log
		name := "logs/etl/extract/2024-05-06T07:08:09+00:00/1.log"
		if g.ObjectName(rel) != name {
			t.Fatalf("object name %q, want %q", g.ObjectName(rel), name)
		}
		got, ok := b.object(name)
		if !ok || got != content {
			t.Fatalf("delete_local_logs=%v: object %q (present %v)", deleteLocal, got, ok)
		}
		if exists(t, local) == deleteLocal {
			t.Errorf("delete_local_logs=%v: local file present = %v", deleteLocal, !deleteLocal)
		}
		if p, err := g.Pending(); err != nil || len(p) != 0 {
			t.Errorf("spool after a good upload: %v %v", p, err)
		}
	}
}

// A transient error on the upload is absorbed by the client's retries
// (RetryAlways: uploads have no precondition).
func TestShipRetriesTransientUploadError(t *testing.T) {
	b := newBucket(t)
	b.fake.InjectFault(gcpfake.Fault{Method: "POST", Path: "/upload/", Times: 1, Status: 503})
	base := t.TempDir()
	local, rel := writeLog(t, base, content)
	g := b.shipper(filepath.Join(base, ".upload-pending"), true)
	if err := g.Ship(t.Context(), local, rel); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.object(g.ObjectName(rel)); got != content || exists(t, local) {
		t.Fatalf("object %q, local kept %v", got, exists(t, local))
	}
}

// An outage outlasting every retry keeps the log and owes the upload; a
// later Retry, here by a new process on the same folder, delivers it.
func TestFailedUploadIsKeptAndRetried(t *testing.T) {
	b := newBucket(t)
	base := t.TempDir()
	spool := filepath.Join(base, ".upload-pending")
	local, rel := writeLog(t, base, content)
	b.down.Store(true)
	g := b.shipper(spool, true)
	if err := g.Ship(t.Context(), local, rel); err == nil {
		t.Fatal("Ship succeeded during an outage")
	}
	if b.failed.Load() < 2 {
		t.Errorf("%d upload requests during the outage, want the retries", b.failed.Load())
	}
	if !exists(t, local) {
		t.Fatal("the log was lost with the upload")
	}
	if p, err := g.Pending(); err != nil || len(p) != 1 || p[0] != local {
		t.Fatalf("pending %v %v, want [%s]", p, err, local)
	}
	if err := g.Retry(t.Context()); err == nil {
		t.Fatal("Retry succeeded during the outage")
	}
	if !exists(t, local) {
		t.Fatal("a failed Retry lost the log")
	}

	b.down.Store(false)
	restarted := b.shipper(spool, true)
	if err := restarted.Retry(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, ok := b.object(g.ObjectName(rel)); !ok || got != content {
		t.Fatalf("object after retry %q (present %v)", got, ok)
	}
	if exists(t, local) {
		t.Error("local copy kept after a verified upload with delete_local_logs")
	}
	if p, _ := restarted.Pending(); len(p) != 0 {
		t.Errorf("still pending: %v", p)
	}
	// A further pass has nothing to do.
	if err := restarted.Retry(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// A marker whose log is already gone (an earlier delivery verified and
// deleted it, then died) is cleared, not retried forever.
func TestRetryClearsMarkerOfDeliveredLog(t *testing.T) {
	b := newBucket(t)
	base := t.TempDir()
	spool := filepath.Join(base, ".upload-pending")
	local, rel := writeLog(t, base, content)
	b.down.Store(true)
	g := b.shipper(spool, true)
	_ = g.Ship(t.Context(), local, rel)
	b.down.Store(false)
	if err := g.Ship(t.Context(), local, rel); err != nil { // delivered, marker cleared
		t.Fatal(err)
	}
	if err := g.Retry(t.Context()); err != nil {
		t.Fatal(err)
	}
	if p, _ := g.Pending(); len(p) != 0 {
		t.Errorf("pending %v", p)
	}
}

func TestOpenReadsShippedCopy(t *testing.T) {
	b := newBucket(t)
	base := t.TempDir()
	local, rel := writeLog(t, base, content)
	g := b.shipper(filepath.Join(base, ".upload-pending"), true)
	if err := g.Ship(t.Context(), local, rel); err != nil {
		t.Fatal(err)
	}
	rc, err := g.Open(t.Context(), rel)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(got) != content {
		t.Fatalf("Open: %q %v", got, err)
	}
	if _, err := g.Open(t.Context(), "etl/extract/none/1.log"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing object: %v, want fs.ErrNotExist", err)
	}
	if _, err := (logs.Local{}).Open(t.Context(), rel); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Local.Open: %v", err)
	}
}

func TestParseRemote(t *testing.T) {
	for raw, want := range map[string][2]string{
		"gs://airflow-logs/logs":  {"airflow-logs", "logs"},
		"gs://airflow-logs/a/b/":  {"airflow-logs", "a/b"},
		"gs://airflow-logs":       {"airflow-logs", ""},
		"s3://airflow-logs/logs":  {},
		"/var/log/aird":           {},
		"gs:///no-bucket/logs":    {},
		"gs://airflow-logs/x?y=1": {},
	} {
		b, p, err := logs.ParseRemote(raw)
		if (want == [2]string{}) != (err != nil) || b != want[0] || p != want[1] {
			t.Errorf("ParseRemote(%q) = %q %q %v, want %q", raw, b, p, err, want)
		}
	}
}

// A marker half-written by a process killed between write and rename is
// finished by the next Retry once it is clearly abandoned, so its log is
// still shipped.
func TestRetryRecoversAbandonedMarker(t *testing.T) {
	b := newBucket(t)
	base := t.TempDir()
	spool := filepath.Join(base, ".upload-pending")
	local, rel := writeLog(t, base, content)
	if err := os.MkdirAll(spool, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(spool, ".tmp-123")
	marker, _ := json.Marshal(map[string]string{"local": local, "rel": rel})
	if err := os.WriteFile(tmp, marker, 0o600); err != nil {
		t.Fatal(err)
	}
	g := b.shipper(spool, false)
	if err := g.Retry(t.Context()); err != nil { // too fresh: may be a live Ship's
		t.Fatal(err)
	}
	if _, ok := b.object(g.ObjectName(rel)); ok || !exists(t, tmp) {
		t.Fatal("a fresh temporary marker was taken over")
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(tmp, old, old); err != nil {
		t.Fatal(err)
	}
	if err := g.Retry(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, ok := b.object(g.ObjectName(rel)); !ok || got != content || exists(t, tmp) {
		t.Fatalf("abandoned marker: object %q present %v; temp left %v", got, ok, exists(t, tmp))
	}
}
