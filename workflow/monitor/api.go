package monitor

import (
	"encoding/json"
	"net/http"
)

func (s *Server) apiWorkers(w http.ResponseWriter, r *http.Request) {
	ws, err := s.workers(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, map[string]any{"workers": ws})
}

func (s *Server) apiQueues(w http.ResponseWriter, r *http.Request) {
	qs, err := s.queues(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, qs)
}

func (s *Server) apiTasks(w http.ResponseWriter, r *http.Request) {
	f, err := taskQuery(r.URL.Query())
	if err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	ts, err := s.tasks(r.Context(), f)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, map[string]any{"tasks": ts})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

// fail logs the cause and tells the client only that it failed: store
// errors can carry connection details.
func (s *Server) fail(w http.ResponseWriter, err error) {
	s.log.Error("flower request", "err", err)
	http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
}
