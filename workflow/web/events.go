package web

import (
	"context"
	"net/http"

	"github.com/airctl/airctl/workflow/store"
)

// audit appends e to the event log, with the signed-in user as owner
// unless e names one. Event names follow Airflow's API action log
// ("api.post_dag_run", …). The change it records has already happened, so
// a failure to record it is logged rather than turned into an error the
// client would retry.
func (s *Server) audit(r *http.Request, e store.Event) {
	if e.Owner == "" {
		e.Owner = principalFrom(r).user.Username
	}
	// The client hanging up must not lose the record.
	if err := s.store.AddEvent(context.WithoutCancel(r.Context()), e); err != nil {
		s.log.Error("record event", "event", e.Event, "dag", e.DagID, "err", err)
	}
}
