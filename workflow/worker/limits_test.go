package worker

import (
	"testing"
	"time"
)

func TestLimitsCombineTaskTimeoutAndWorkerLimits(t *testing.T) {
	cases := []struct {
		soft, hard, task, wantTimeout, wantGrace time.Duration
	}{
		{0, 0, 0, 0, 10 * time.Second},                                            // no limits at all
		{0, 0, time.Minute, time.Minute, 10 * time.Second},                        // task timeout only
		{time.Hour, 2 * time.Hour, 0, time.Hour, time.Hour},                       // worker soft/hard only
		{time.Hour, 2 * time.Hour, time.Minute, time.Minute, time.Hour},           // task is stricter
		{time.Minute, 90 * time.Second, time.Hour, time.Minute, 30 * time.Second}, // worker is stricter
	}
	for _, c := range cases {
		r := &Runner{KillGrace: 10 * time.Second, SoftTimeLimit: c.soft, HardTimeLimit: c.hard}
		timeout, grace := r.limits(c.task)
		if timeout != c.wantTimeout || grace != c.wantGrace {
			t.Errorf("soft %v hard %v task %v: got %v/%v, want %v/%v", c.soft, c.hard, c.task, timeout, grace, c.wantTimeout, c.wantGrace)
		}
	}
}
