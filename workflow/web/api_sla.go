package web

import (
	"net/http"

	"github.com/airctl/airctl/workflow/store"
)

// slaMissJSON is Airflow's SlaMiss object; notification_sent says whether
// the sla_miss notifiers have all received it.
type slaMissJSON struct {
	DagID            string  `json:"dag_id"`
	TaskID           string  `json:"task_id"`
	DagRunID         string  `json:"dag_run_id"`
	LogicalDate      apiTime `json:"logical_date"`
	Deadline         apiTime `json:"deadline"`
	Timestamp        apiTime `json:"timestamp"`
	NotificationSent bool    `json:"notification_sent"`
}

func newSLAMissJSON(m store.SLAMiss) slaMissJSON {
	return slaMissJSON{
		DagID: m.DagID, TaskID: m.TaskID, DagRunID: m.RunID, LogicalDate: apiTime(m.LogicalDate),
		Deadline: apiTime(m.Deadline), Timestamp: apiTime(m.DetectedAt), NotificationSent: m.Notified,
	}
}

// listSLAMisses is GET /api/v1/slaMisses, newest first; ?dag_id= filters.
func (s *Server) listSLAMisses(w http.ResponseWriter, r *http.Request) {
	pg, err := pageOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	misses, total, err := s.store.ListSLAMisses(r.Context(), store.SLAMissFilter{DagID: r.URL.Query().Get("dag_id"), Limit: pg.limit, Offset: pg.offset})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items := []slaMissJSON{}
	for _, m := range misses {
		items = append(items, newSLAMissJSON(m))
	}
	writeJSON(w, http.StatusOK, map[string]any{"sla_misses": items, "total_entries": total})
}

// uiSLAMisses lists the newest SLA misses (?dag_id= filters).
func (s *Server) uiSLAMisses(w http.ResponseWriter, r *http.Request) {
	misses, _, err := s.store.ListSLAMisses(r.Context(), store.SLAMissFilter{DagID: r.URL.Query().Get("dag_id"), Limit: maxLimit})
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "sla_misses", uiPage{Title: "SLA misses", Nav: "sla-misses", Data: misses})
}
