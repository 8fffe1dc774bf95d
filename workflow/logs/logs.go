// Package logs lays out task logs: one file per try at the reference
// deployment's path, written while the task runs so it can be tailed live.
package logs

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

// TSFormat is Airflow's {{ ts }}: the logical date with a numeric offset.
const TSFormat = "2006-01-02T15:04:05-07:00"

// RelPath is {dag_id}/{task_id}/{ts}/{try}.log, the layout of the GCS bucket.
func RelPath(k store.TIKey, logicalDate time.Time, try int) string {
	ts := logicalDate.UTC().Format(TSFormat)
	return filepath.Join(k.DagID, k.TaskID, ts, fmt.Sprintf("%d.log", try))
}

// Create opens a fresh log file for a try under base, making directories.
func Create(base string, k store.TIKey, logicalDate time.Time, try int) (*os.File, error) {
	p := filepath.Join(base, RelPath(k, logicalDate, try))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, fmt.Errorf("create log directory for %s: %w", p, err)
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create task log: %w", err)
	}
	return f, nil
}
