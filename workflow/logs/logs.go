// Package logs lays out task logs: one file per try, written while the
// task runs so it can be tailed live, and shipped to the reference
// deployment's path in the bucket.
package logs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// LocalPath is where a worker keeps the log named rel (a RelPath) under
// base: {dag_id}/{ts}/{task_id}.{try}.log. Locally a run's logs share one
// directory instead of one per task instance as in the bucket: making that
// directory cost more CPU than the rest of a short task's bookkeeping
// (docs/benchmarks.md). A rel not shaped like RelPath's is kept as given.
func LocalPath(base, rel string) string {
	parts := strings.Split(filepath.ToSlash(rel), "/")
	if len(parts) != 4 {
		return filepath.Join(base, rel)
	}
	dag, task, ts, file := parts[0], parts[1], parts[2], parts[3]
	return filepath.Join(base, dag, ts, task+"."+file)
}

// Create opens a fresh log file for a try under base, making directories.
func Create(base string, k store.TIKey, logicalDate time.Time, try int) (*os.File, error) {
	p := LocalPath(base, RelPath(k, logicalDate, try))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, fmt.Errorf("create log directory for %s: %w", p, err)
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create task log: %w", err)
	}
	return f, nil
}
