package web

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

type componentHealth struct {
	Status string `json:"status"`
}

type schedulerHealth struct {
	Status                   string  `json:"status"`
	LatestSchedulerHeartbeat apiTime `json:"latest_scheduler_heartbeat"`
}

// healthJSON is exactly what Airflow's /health returns.
type healthJSON struct {
	Metadatabase componentHealth `json:"metadatabase"`
	Scheduler    schedulerHealth `json:"scheduler"`
}

const (
	healthy   = "healthy"
	unhealthy = "unhealthy"
)

// getHealth is /health and /api/v1/health, unauthenticated. Like Airflow
// it always answers 200 and reports problems in the body: the metadata
// database is unhealthy when the store does not answer, the scheduler
// when no running scheduler job has heartbeaten within the threshold. A
// load balancer health check that only looks at the status code therefore
// checks that the webserver is up; the deploy health gate reads the body.
func (s *Server) getHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	h := healthJSON{Metadatabase: componentHealth{Status: healthy}, Scheduler: schedulerHealth{Status: unhealthy}}
	job, err := s.store.LatestJob(ctx, "scheduler")
	switch {
	case err == nil:
		h.Scheduler.LatestSchedulerHeartbeat = apiTime(job.LatestHeartbeat)
		if job.State == "running" && s.now().Sub(job.LatestHeartbeat) <= s.healthAge {
			h.Scheduler.Status = healthy
		}
	case errors.Is(err, store.ErrNotFound):
		// No scheduler has ever run: the database answered.
	default:
		s.log.Warn("health: metadata database check failed", "err", err)
		h.Metadatabase.Status = unhealthy
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, h)
}
