package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/airctl/airctl/workflow/store"
)

type importErrorJSON struct {
	ImportErrorID int     `json:"import_error_id"`
	Timestamp     apiTime `json:"timestamp"`
	Filename      string  `json:"filename"`
	StackTrace    string  `json:"stack_trace"`
}

// importErrors lists the errors by file name and numbers them from 1. The
// store keeps no IDs, so an ID is only stable until the set of failing
// files changes.
func (s *Server) importErrors(r *http.Request) ([]importErrorJSON, error) {
	errs, err := s.store.ListImportErrors(r.Context())
	if err != nil {
		return nil, err
	}
	slices.SortFunc(errs, func(a, b store.ImportError) int { return strings.Compare(a.Filename, b.Filename) })
	out := make([]importErrorJSON, 0, len(errs))
	for i, e := range errs {
		out = append(out, importErrorJSON{ImportErrorID: i + 1, Timestamp: apiTime(e.Timestamp), Filename: e.Filename, StackTrace: e.Message})
	}
	return out, nil
}

// listImportErrors is GET /api/v1/importErrors: DAG files that failed to
// load, with file:line:column in the stack_trace.
func (s *Server) listImportErrors(w http.ResponseWriter, r *http.Request) {
	pg, err := pageOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	all, err := s.importErrors(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"import_errors": slicePage(all, pg), "total_entries": len(all)})
}

// getImportError is GET /api/v1/importErrors/{import_error_id}.
func (s *Server) getImportError(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("import_error_id")
	id, err := strconv.Atoi(raw)
	if err != nil {
		s.fail(w, r, badRequest("import_error_id %q: want a whole number.", raw))
		return
	}
	all, err := s.importErrors(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if id < 1 || id > len(all) {
		s.fail(w, r, notFound("Import error not found", "The ImportError with import_error_id: `%d` was not found", id))
		return
	}
	writeJSON(w, http.StatusOK, all[id-1])
}

// getVersion is GET /api/v1/version.
func (s *Server) getVersion(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"version": s.version, "git_version": nil})
}

// userJSON is Airflow's User object. aird keeps no names or login counts;
// those fields are present for scripts that read them.
type userJSON struct {
	FirstName        string     `json:"first_name"`
	LastName         string     `json:"last_name"`
	Username         string     `json:"username"`
	Email            string     `json:"email"`
	Active           bool       `json:"active"`
	LastLogin        apiTime    `json:"last_login"`
	LoginCount       *int       `json:"login_count"`
	FailedLoginCount *int       `json:"failed_login_count"`
	Roles            []roleJSON `json:"roles"`
	CreatedOn        apiTime    `json:"created_on"`
	ChangedOn        apiTime    `json:"changed_on"`
}

type roleJSON struct {
	Name string `json:"name"`
}

func newUserJSON(u store.User) userJSON {
	return userJSON{
		Username: u.Username, Email: u.Email, Active: u.Active, LastLogin: apiTime(u.LastLogin),
		Roles: []roleJSON{{Name: string(u.Role)}}, CreatedOn: apiTime(u.CreatedAt), ChangedOn: apiTime(u.CreatedAt),
	}
}

// listUsers is GET /api/v1/users (Admin only), by username.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	pg, err := pageOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	all, err := s.store.ListUsers(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items := []userJSON{}
	for _, u := range slicePage(all, pg) {
		items = append(items, newUserJSON(u))
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": items, "total_entries": len(all)})
}

// getUser is GET /api/v1/users/{username} (Admin only).
func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("username")
	u, err := s.store.GetUser(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		err = notFound("User not found", "The User with username `%s` was not found", name)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newUserJSON(u))
}
