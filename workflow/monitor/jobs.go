package monitor

import (
	"context"
	"fmt"

	"github.com/airctl/airctl/workflow/store"
)

// allJobs returns the worker and scheduler jobs, newest first per type.
func allJobs(ctx context.Context, st store.Store) ([]store.Job, error) {
	var out []store.Job
	for _, t := range []string{"worker", "scheduler"} {
		js, err := st.ListJobs(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("list %s jobs: %w", t, err)
		}
		out = append(out, js...)
	}
	return out, nil
}
