package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/airctl/airctl/workflow/store"
)

// problem is an RFC 7807 error body, the shape Airflow's API answers
// errors in; "type" is Airflow's documentation anchor for the error kind,
// so scripts that switch on it keep working.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// apiError is an error a handler returns to answer with a problem.
type apiError struct {
	status int
	title  string
	detail string
}

func (e *apiError) Error() string { return e.title + ": " + e.detail }

func badRequest(format string, args ...any) error {
	return &apiError{http.StatusBadRequest, "Bad Request", fmt.Sprintf(format, args...)}
}

func notFound(title, format string, args ...any) error {
	return &apiError{http.StatusNotFound, title, fmt.Sprintf(format, args...)}
}

func conflict(format string, args ...any) error {
	return &apiError{http.StatusConflict, "Conflict", fmt.Sprintf(format, args...)}
}

// problemTypes maps a status to Airflow's error section name.
func problemType(status int) string {
	name := map[int]string{
		http.StatusBadRequest:            "BadRequest",
		http.StatusUnauthorized:          "Unauthenticated",
		http.StatusForbidden:             "PermissionDenied",
		http.StatusNotFound:              "NotFound",
		http.StatusMethodNotAllowed:      "MethodNotAllowed",
		http.StatusConflict:              "AlreadyExists",
		http.StatusRequestEntityTooLarge: "BadRequest",
		http.StatusTooManyRequests:       "TooManyRequests",
		http.StatusServiceUnavailable:    "ServiceUnavailable",
	}[status]
	if name == "" {
		name = "Unknown"
	}
	return "https://airflow.apache.org/docs/apache-airflow/stable/stable-rest-api-ref.html#section/Errors/" + name
}

func writeProblem(w http.ResponseWriter, status int, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problem{Type: problemType(status), Title: title, Status: status, Detail: detail})
}

// fail answers err: an apiError as itself, a store.ErrNotFound as 404, a
// store.ErrAlreadyExists as 409, anything else as a logged 500 whose
// detail does not leak internals.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		writeProblem(w, ae.status, ae.title, ae.detail)
	case errors.Is(err, store.ErrNotFound):
		writeProblem(w, http.StatusNotFound, "Not Found", err.Error())
	case errors.Is(err, store.ErrAlreadyExists):
		writeProblem(w, http.StatusConflict, "Conflict", err.Error())
	default:
		s.log.Error("web request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeProblem(w, http.StatusInternalServerError, "Internal Server Error", "The server failed to answer; the error is in the webserver log.")
	}
}

// forbidden answers 403: problem JSON for the API, text for pages.
func (s *Server) forbidden(w http.ResponseWriter, r *http.Request, detail string) {
	if s.isAPI(r) {
		writeProblem(w, http.StatusForbidden, "Forbidden", detail)
		return
	}
	http.Error(w, "403 Forbidden: "+detail, http.StatusForbidden)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// maxBody bounds request bodies: the API takes small JSON documents.
const maxBody = 1 << 20

// decodeJSON reads a JSON object into v, rejecting unknown fields as
// Airflow's schemas do, with a message that says what is wrong.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return badRequest("The request body is empty; send a JSON object.")
		case errors.As(err, &tooBig):
			return badRequest("The request body is larger than %d bytes.", maxBody)
		case errors.As(err, &syntax):
			return badRequest("The request body is not valid JSON: %v (at byte %d).", err, syntax.Offset)
		case errors.As(err, &typ):
			return badRequest("Field %q: want %s, got JSON %s.", typ.Field, typ.Type, typ.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return badRequest("Unknown field %s in the request body.", strings.TrimPrefix(err.Error(), "json: unknown field "))
		default:
			return badRequest("The request body is not valid JSON: %v.", err)
		}
	}
	if dec.More() {
		return badRequest("The request body has data after the JSON object.")
	}
	return nil
}
