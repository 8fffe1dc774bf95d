package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/airctl/airctl/workflow/store"
)

type variableJSON struct {
	Key         string  `json:"key"`
	Value       string  `json:"value"`
	Description *string `json:"description"`
}

func newVariableJSON(v store.Variable) variableJSON {
	return variableJSON{Key: v.Key, Value: v.Value, Description: strPtr(v.Description)}
}

// variableBody has pointers so PATCH can tell absent from empty.
type variableBody struct {
	Key         *string `json:"key"`
	Value       *string `json:"value"`
	Description *string `json:"description"`
}

func (s *Server) variable(r *http.Request, key string) (store.Variable, error) {
	v, err := s.store.GetVariable(r.Context(), key)
	if errors.Is(err, store.ErrNotFound) {
		return v, notFound("Variable not found", "Variable with key: '%s' not found", key)
	}
	return v, err
}

// listVariables is GET /api/v1/variables, by key.
func (s *Server) listVariables(w http.ResponseWriter, r *http.Request) {
	pg, err := pageOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	all, err := s.store.ListVariables(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	slices.SortFunc(all, func(a, b store.Variable) int { return strings.Compare(a.Key, b.Key) })
	items := []variableJSON{}
	for _, v := range slicePage(all, pg) {
		items = append(items, newVariableJSON(v))
	}
	writeJSON(w, http.StatusOK, map[string]any{"variables": items, "total_entries": len(all)})
}

// getVariable is GET /api/v1/variables/{variable_key}.
func (s *Server) getVariable(w http.ResponseWriter, r *http.Request) {
	v, err := s.variable(r, r.PathValue("variable_key"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newVariableJSON(v))
}

// postVariable is POST /api/v1/variables; like Airflow's it creates or
// overwrites.
func (s *Server) postVariable(w http.ResponseWriter, r *http.Request) {
	var body variableBody
	if err := decodeJSON(w, r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	if body.Key == nil || strings.TrimSpace(*body.Key) == "" || body.Value == nil {
		s.fail(w, r, badRequest("Fields key (non-empty) and value are required."))
		return
	}
	v := store.Variable{Key: *body.Key, Value: *body.Value, Description: derefOr(body.Description, "")}
	if err := s.store.SetVariable(r.Context(), v); err != nil {
		s.fail(w, r, err)
		return
	}
	// The value is not logged: variables often hold secrets.
	s.audit(r, store.Event{Event: "api.post_variables", Extra: "key=" + v.Key})
	writeJSON(w, http.StatusOK, newVariableJSON(v))
}

// patchVariable is PATCH /api/v1/variables/{variable_key}; update_mask
// limits the change to value and/or description.
func (s *Server) patchVariable(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("variable_key")
	var body variableBody
	if err := decodeJSON(w, r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	if body.Key != nil && *body.Key != key {
		s.fail(w, r, badRequest("Invalid body: key from request body doesn't match uri parameter."))
		return
	}
	mask, err := updateMask(r, "value", "description")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.variable(r, key)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if mask("value") && body.Value != nil {
		v.Value = *body.Value
	}
	if mask("description") && body.Description != nil {
		v.Description = *body.Description
	}
	if err := s.store.SetVariable(r.Context(), v); err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, store.Event{Event: "api.patch_variable", Extra: "key=" + key})
	writeJSON(w, http.StatusOK, newVariableJSON(v))
}

// deleteVariable is DELETE /api/v1/variables/{variable_key}.
func (s *Server) deleteVariable(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("variable_key")
	err := s.store.DeleteVariable(r.Context(), key)
	if errors.Is(err, store.ErrNotFound) {
		err = notFound("Variable not found", "Variable with key: '%s' not found", key)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, store.Event{Event: "api.delete_variable", Extra: "key=" + key})
	w.WriteHeader(http.StatusNoContent)
}

// updateMask reads update_mask (repeated or comma-separated) and returns a
// test for whether a field may change; without a mask every field may.
func updateMask(r *http.Request, allowed ...string) (func(string) bool, error) {
	fields := splitMask(r.URL.Query()["update_mask"])
	for _, f := range fields {
		if !slices.Contains(allowed, f) {
			return nil, badRequest("update_mask: unknown field %q; fields that can change: %s.", f, strings.Join(allowed, ", "))
		}
	}
	return func(f string) bool { return len(fields) == 0 || slices.Contains(fields, f) }, nil
}
