package web

import (
	"errors"
	"net/http"

	"github.com/airctl/airctl/workflow/connections"
	"github.com/airctl/airctl/workflow/secrets"
	"github.com/airctl/airctl/workflow/store"
)

// connectionItemJSON is Airflow's ConnectionCollectionItem: no password,
// ever, and no extra in lists.
type connectionItemJSON struct {
	ConnectionID string  `json:"connection_id"`
	ConnType     string  `json:"conn_type"`
	Description  *string `json:"description"`
	Host         *string `json:"host"`
	Login        *string `json:"login"`
	Schema       *string `json:"schema"`
	Port         *int    `json:"port"`
}

// connectionJSON is Airflow's Connection: the item plus the extra, with
// its sensitive fields redacted.
type connectionJSON struct {
	connectionItemJSON
	Extra *string `json:"extra"`
}

func newConnectionItemJSON(c connections.Connection) connectionItemJSON {
	var port *int
	if c.Port != 0 {
		port = &c.Port
	}
	return connectionItemJSON{ConnectionID: c.ConnID, ConnType: c.ConnType, Description: strPtr(c.Description),
		Host: strPtr(c.Host), Login: strPtr(c.Login), Schema: strPtr(c.Schema), Port: port}
}

func newConnectionJSON(c connections.Connection) connectionJSON {
	return connectionJSON{newConnectionItemJSON(c), strPtr(connections.RedactExtra(c.Extra))}
}

// connectionBody has pointers so PATCH can tell absent from empty;
// password is write-only.
type connectionBody struct {
	ConnectionID *string `json:"connection_id"`
	ConnType     *string `json:"conn_type"`
	Description  *string `json:"description"`
	Host         *string `json:"host"`
	Login        *string `json:"login"`
	Schema       *string `json:"schema"`
	Port         *int    `json:"port"`
	Password     *string `json:"password"`
	Extra        *string `json:"extra"`
}

// connectionFields are the fields update_mask may name.
var connectionFields = []string{"conn_type", "description", "host", "login", "schema", "port", "password", "extra"}

// apply copies the fields present in b, and allowed by mask, onto c. An
// extra sent back with redacted fields keeps their stored values.
func (b connectionBody) apply(c *connections.Connection, mask func(string) bool) {
	set := func(field string, dst *string, src *string) {
		if src != nil && mask(field) {
			*dst = *src
		}
	}
	set("conn_type", &c.ConnType, b.ConnType)
	set("description", &c.Description, b.Description)
	set("host", &c.Host, b.Host)
	set("login", &c.Login, b.Login)
	set("schema", &c.Schema, b.Schema)
	set("password", &c.Password, b.Password)
	if b.Port != nil && mask("port") {
		c.Port = *b.Port
	}
	if b.Extra != nil && mask("extra") {
		c.Extra = connections.UnredactExtra(*b.Extra, c.Extra)
	}
}

// connErr turns the repo's errors into answers: a missing or wrong
// AIRD_ENCRYPTION_KEY is the operator's to fix, so it is named, not hidden
// behind a 500; a validation error is the client's.
func connErr(err error, id string) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFound("Connection not found", "The Connection with connection_id: `%s` was not found", id)
	case errors.Is(err, secrets.ErrNoKey), errors.Is(err, secrets.ErrWrongKey):
		return &apiError{http.StatusServiceUnavailable, "Service Unavailable", err.Error()}
	}
	return err
}

// listConnections is GET /api/v1/connections, by ID.
func (s *Server) listConnections(w http.ResponseWriter, r *http.Request) {
	pg, err := pageOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	all, err := s.conns.List(r.Context())
	if err != nil {
		s.fail(w, r, connErr(err, ""))
		return
	}
	items := []connectionItemJSON{}
	for _, c := range slicePage(all, pg) {
		items = append(items, newConnectionItemJSON(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"connections": items, "total_entries": len(all)})
}

// getConnection is GET /api/v1/connections/{connection_id}.
func (s *Server) getConnection(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("connection_id")
	c, err := s.conns.Get(r.Context(), id)
	if err != nil {
		s.fail(w, r, connErr(err, id))
		return
	}
	writeJSON(w, http.StatusOK, newConnectionJSON(c))
}

// postConnection is POST /api/v1/connections; unlike variables, an
// existing ID is a conflict, as in Airflow.
func (s *Server) postConnection(w http.ResponseWriter, r *http.Request) {
	var body connectionBody
	if err := decodeJSON(w, r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	if body.ConnectionID == nil || *body.ConnectionID == "" || body.ConnType == nil || *body.ConnType == "" {
		s.fail(w, r, badRequest("Fields connection_id and conn_type are required."))
		return
	}
	id := *body.ConnectionID
	_, err := s.conns.Get(r.Context(), id)
	switch {
	case err == nil:
		s.fail(w, r, conflict("Connection already exist. ID: %s", id))
		return
	case !errors.Is(err, store.ErrNotFound):
		s.fail(w, r, connErr(err, id))
		return
	}
	c := connections.Connection{ConnID: id}
	body.apply(&c, func(string) bool { return true })
	s.saveConnection(w, r, c, "api.post_connection")
}

// patchConnection is PATCH /api/v1/connections/{connection_id};
// update_mask limits the change to the fields it names.
func (s *Server) patchConnection(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("connection_id")
	var body connectionBody
	if err := decodeJSON(w, r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	if body.ConnectionID != nil && *body.ConnectionID != id {
		s.fail(w, r, badRequest("The connection_id cannot be updated."))
		return
	}
	mask, err := updateMask(r, connectionFields...)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.conns.Get(r.Context(), id)
	if err != nil {
		s.fail(w, r, connErr(err, id))
		return
	}
	body.apply(&c, mask)
	s.saveConnection(w, r, c, "api.patch_connection")
}

// saveConnection validates and stores c, records the event (without any
// value) and answers with c as GET would.
func (s *Server) saveConnection(w http.ResponseWriter, r *http.Request, c connections.Connection, event string) {
	if err := c.Validate(); err != nil {
		s.fail(w, r, badRequest("%v", err))
		return
	}
	if err := s.conns.Set(r.Context(), c); err != nil {
		s.fail(w, r, connErr(err, c.ConnID))
		return
	}
	s.audit(r, store.Event{Event: event, Extra: "connection_id=" + c.ConnID})
	writeJSON(w, http.StatusOK, newConnectionJSON(c))
}

// deleteConnection is DELETE /api/v1/connections/{connection_id}; it
// needs no key.
func (s *Server) deleteConnection(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("connection_id")
	if err := s.conns.Delete(r.Context(), id); err != nil {
		s.fail(w, r, connErr(err, id))
		return
	}
	s.audit(r, store.Event{Event: "api.delete_connection", Extra: "connection_id=" + id})
	w.WriteHeader(http.StatusNoContent)
}
