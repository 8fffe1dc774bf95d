package web

import (
	"cmp"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/airctl/airctl/workflow/secrets"
	"github.com/airctl/airctl/workflow/store"
)

// variableJSON is Airflow's Variable plus is_secret: a secret variable's
// value is never shown, only "***".
type variableJSON struct {
	Key         string  `json:"key"`
	Value       string  `json:"value"`
	Description *string `json:"description"`
	IsSecret    bool    `json:"is_secret"`
}

func newVariableJSON(v store.Variable) variableJSON {
	value := v.Value
	if v.Secret {
		value = secrets.Mask
	}
	return variableJSON{Key: v.Key, Value: value, Description: strPtr(v.Description), IsSecret: v.Secret}
}

// variableBody has pointers so PATCH can tell absent from empty.
type variableBody struct {
	Key         *string `json:"key"`
	Value       *string `json:"value"`
	Description *string `json:"description"`
	IsSecret    *bool   `json:"is_secret"`
}

// setSecretValue applies a new value and secret flag to a variable read
// from the store. A secret's value is only ever shown as "***", so "***"
// sent back means "unchanged", and making a secret plain needs a new value:
// otherwise the API would reveal the old one.
func setSecretValue(v *store.Variable, value *string, secret *bool) error {
	wasSecret := v.Secret
	if value != nil && !(wasSecret && *value == secrets.Mask) {
		v.Value = *value
	} else {
		value = nil
	}
	if secret != nil {
		v.Secret = *secret
	}
	if wasSecret && !v.Secret && value == nil {
		return badRequest("Variable %s is secret: send a new value to make it plain, as its value is never shown.", v.Key)
	}
	return nil
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
	v, err := s.store.GetVariable(r.Context(), *body.Key)
	if errors.Is(err, store.ErrNotFound) {
		v, err = store.Variable{Key: *body.Key}, nil
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// POST overwrites, so an absent is_secret means plain.
	if err := setSecretValue(&v, body.Value, cmp.Or(body.IsSecret, new(bool))); err != nil {
		s.fail(w, r, err)
		return
	}
	v.Description = derefOr(body.Description, "")
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
	mask, err := updateMask(r, "value", "description", "is_secret")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.variable(r, key)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !mask("value") {
		body.Value = nil
	}
	if !mask("is_secret") {
		body.IsSecret = nil
	}
	if err := setSecretValue(&v, body.Value, body.IsSecret); err != nil {
		s.fail(w, r, err)
		return
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
