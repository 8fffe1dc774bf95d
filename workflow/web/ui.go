package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

// The UI is server-rendered from embedded templates and assets, so the
// binary needs no build step and no files beside it. Pages work without
// JavaScript; static/aird.js only adds auto-refresh, live logs and
// confirm dialogs. Nothing is inline: the CSP forbids inline script and
// style.
var (
	//go:embed templates/*.html
	templateFS embed.FS
	//go:embed static
	staticFS embed.FS
)

// uiPage is what every page template gets: the layout's needs (user,
// CSRF token, navigation, what the user may do) and the page's own Data.
type uiPage struct {
	Title   string
	Nav     string // the active navigation entry
	User    string
	Role    string
	CSRF    string
	TZ      string
	CanEdit bool // dags.edit: trigger, clear, mark, pause
	CanVars bool
	CanPool bool // pools.edit
	CanUser bool
	Data    any
}

// uiTemplates parses each page together with the layout. Every page
// defines "title" and "content"; the layout wraps them.
func (s *Server) uiTemplates() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"u":          s.uiURL,
		"static":     s.staticURL(),
		"time":       s.uiTime,
		"shortTime":  s.uiShortTime,
		"dur":        uiDuration,
		"stateClass": stateClass,
		"fields":     strings.Fields,
		"inc":        func(n int) int { return n + 1 },
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	pages, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, p := range pages {
		name := strings.TrimSuffix(strings.TrimPrefix(p, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, p)
		if err != nil {
			return nil, err
		}
		out[name] = t
	}
	return out, nil
}

// uiURL joins path segments under the base URL, escaping each one: run
// IDs hold ':' and '+', and no ID may smuggle in a '/' or '?'.
func (s *Server) uiURL(segments ...string) string {
	var b strings.Builder
	b.WriteString(s.base)
	for _, seg := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(seg))
	}
	if len(segments) == 0 {
		b.WriteByte('/')
	}
	return b.String()
}

// staticURL names assets with a content hash in the query, so browsers
// may cache them for long and still see a new version at once.
func (s *Server) staticURL() func(string) string {
	h := sha256.New()
	_ = fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(staticFS, p)
			h.Write(b)
		}
		return nil
	})
	v := hex.EncodeToString(h.Sum(nil))[:12]
	return func(name string) string { return s.base + "/static/" + name + "?v=" + v }
}

// uiTime shows a time (time.Time or the API's apiTime) in the configured
// UI timezone; the zero time is a dash.
func (s *Server) uiTime(v any) string {
	var t time.Time
	switch tv := v.(type) {
	case time.Time:
		t = tv
	case apiTime:
		t = time.Time(tv)
	}
	if t.IsZero() {
		return "–"
	}
	return t.In(s.uiTZ).Format("2006-01-02 15:04:05 MST")
}

// uiShortTime is month, day and minute in the UI timezone, for the grid's
// narrow run headers (the full time is in the tooltip).
func (s *Server) uiShortTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.In(s.uiTZ).Format("01-02 15:04")
}

func uiDuration(d time.Duration) string {
	if d <= 0 {
		return "–"
	}
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// stateClass is the CSS class that colours a state (a TIState, RunState
// or string); Airflow's colours.
func stateClass(v any) string {
	state := fmt.Sprint(v)
	if state == "" {
		state = "none"
	}
	return "state-" + strings.ReplaceAll(state, "_", "-")
}

// render runs a page template into a buffer first, so a template error
// becomes a clean 500 rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, pg uiPage) {
	t := s.pages[name]
	if t == nil {
		s.log.Error("no such page template", "page", name)
		http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
		return
	}
	p := principalFrom(r)
	pg.User, pg.Role, pg.CSRF, pg.TZ = p.user.Username, string(p.user.Role), CSRFToken(r), s.uiTZ.String()
	pg.CanEdit = s.allowed(p.user.Role, PermDAGEdit)
	pg.CanVars = s.allowed(p.user.Role, PermVariableRead)
	pg.CanPool = s.allowed(p.user.Role, PermPoolEdit)
	pg.CanUser = s.allowed(p.user.Role, PermUserRead)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", pg); err != nil {
		s.log.Error("render page", "page", name, "err", err)
		http.Error(w, "500 Internal Server Error: the page failed to render; the error is in the webserver log.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// Pages show live state and carry the CSRF token: never cache them.
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// uiError is the error page's data.
type uiError struct {
	Status  int
	Title   string
	Message string
	Back    string
}

// uiFail answers a page request that failed: the same statuses and
// messages as the API, as a page with a way back.
func (s *Server) uiFail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	e := uiError{Status: http.StatusInternalServerError, Title: "Something went wrong",
		Message: "The server failed to answer; the error is in the webserver log.", Back: r.Referer()}
	switch {
	case errors.As(err, &ae):
		e.Status, e.Title, e.Message = ae.status, ae.title, ae.detail
	case errors.Is(err, store.ErrNotFound):
		e.Status, e.Title, e.Message = http.StatusNotFound, "Not found", err.Error()
	default:
		s.log.Error("web page failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if !strings.HasPrefix(e.Back, "/") && !sameOrigin(r, e.Back) {
		e.Back = s.uiURL()
	}
	s.render(w, r, e.Status, "error", uiPage{Title: e.Title, Data: e})
}

// sameOrigin reports whether a Referer points at this server, the only
// place an error page links back to.
func sameOrigin(r *http.Request, ref string) bool {
	u, err := url.Parse(ref)
	return err == nil && u.Host == r.Host && (u.Scheme == "http" || u.Scheme == "https")
}

// redirectBack answers a successful form post with 303 to the page the
// action belongs to (Post/Redirect/Get: a reload does not repeat it).
func (s *Server) redirectBack(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// parseUIForm reads a small urlencoded form; a 400 names the problem.
func parseUIForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read: %v.", err)
	}
	return nil
}

// serveStatic serves the embedded assets. Directories are not listed.
func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, s.base+"/static/")
	if name == "" || strings.HasSuffix(name, "/") || !fs.ValidPath(name) {
		http.NotFound(w, r)
		return
	}
	sub, _ := fs.Sub(staticFS, "static")
	if st, err := fs.Stat(sub, name); err != nil || st.IsDir() {
		http.NotFound(w, r)
		return
	}
	// URLs carry a content hash (staticURL), so a day of caching is safe.
	w.Header().Set("Cache-Control", "public, max-age=86400")
	http.ServeFileFS(w, r, sub, name)
}
