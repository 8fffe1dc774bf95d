package scheduler

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/store"
)

// DAGFolder loads DAG files into the scheduler and the store.
type DAGFolder struct {
	Dir string
	// PausedAtCreation is the paused flag a newly seen DAG gets.
	PausedAtCreation bool
	loader           dag.Loader
}

// NewDAGFolder returns a folder whose reloads re-parse only changed files.
func NewDAGFolder(dir string, pausedAtCreation bool) *DAGFolder {
	return &DAGFolder{Dir: dir, PausedAtCreation: pausedAtCreation}
}

// Load parses the folder and, if anything changed since the last Load,
// records DAGs and import errors in the store and makes the DAGs current
// for s.
func (f *DAGFolder) Load(ctx context.Context, s *Scheduler) (*dag.Bag, error) {
	start := time.Now()
	b, changed, err := f.loader.Load(ctx, f.Dir)
	if err != nil {
		return nil, fmt.Errorf("load DAG folder: %w", err)
	}
	s.cfg.Metrics.DagParseTime(time.Since(start))
	if !changed && s.bag.Load() != nil {
		return s.bag.Load(), nil
	}
	if err := f.sync(ctx, s.store, b); err != nil {
		return b, err
	}
	s.bag.Store(b)
	s.Notify()
	return b, nil
}

func (f *DAGFolder) sync(ctx context.Context, st store.Store, b *dag.Bag) error {
	now := time.Now()
	ids := make([]string, 0, len(b.DAGs))
	for id, d := range b.DAGs {
		ids = append(ids, id)
		if err := st.UpsertDAG(ctx, storeDAG(d, f.PausedAtCreation, now)); err != nil {
			return fmt.Errorf("record dag %s: %w", id, err)
		}
	}
	if err := st.DeactivateDAGs(ctx, ids); err != nil {
		return err
	}
	return st.ReplaceImportErrors(ctx, importErrors(b, now))
}

func storeDAG(d *dag.DAG, paused bool, now time.Time) store.DAG {
	return store.DAG{
		DagID:        d.ID,
		FileLoc:      d.File,
		Description:  d.Description,
		Schedule:     d.ScheduleExpr,
		Timezone:     d.Location.String(),
		Tags:         d.Tags,
		IsPaused:     paused,
		IsActive:     true,
		LastParsedAt: now,
	}
}

func importErrors(b *dag.Bag, now time.Time) []store.ImportError {
	files := make([]string, 0, len(b.Errors))
	for f := range b.Errors {
		files = append(files, f)
	}
	sort.Strings(files)
	out := make([]store.ImportError, 0, len(files))
	for _, f := range files {
		var msg strings.Builder
		for _, d := range b.Errors[f] {
			msg.WriteString(d.Error())
			msg.WriteByte('\n')
		}
		out = append(out, store.ImportError{Filename: f, Message: msg.String(), Timestamp: now})
	}
	return out
}

// Watch reloads the folder every interval until ctx ends.
func (f *DAGFolder) Watch(ctx context.Context, s *Scheduler, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := f.Load(ctx, s); err != nil && ctx.Err() == nil {
				s.log.Error("reload DAG folder", "dir", f.Dir, "err", err)
			}
		}
	}
}
