package logs

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

func TestLocalPathKeepsARunsLogsInOneDirectory(t *testing.T) {
	date := time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC)
	rel := RelPath(store.TIKey{DagID: "etl", RunID: "r", TaskID: "load"}, date, 2)
	if want := filepath.Join("etl", "load", "2024-03-10T00:00:00+00:00", "2.log"); rel != want {
		t.Fatalf("RelPath = %q, want the bucket layout %q", rel, want)
	}
	if got, want := LocalPath("/logs", rel), "/logs/etl/2024-03-10T00:00:00+00:00/load.2.log"; got != want {
		t.Errorf("LocalPath = %q, want %q", got, want)
	}
	if got, want := LocalPath("/logs", "odd/name.log"), "/logs/odd/name.log"; got != want {
		t.Errorf("LocalPath of a foreign path = %q, want %q", got, want)
	}
}
