package web

import (
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/airctl/airctl/workflow/connections"
	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/secrets"
	"github.com/airctl/airctl/workflow/store"
)

// Options configure the webserver. Only Store is required.
type Options struct {
	Store store.Store
	// DAGs returns the current DAG definitions (the webserver's own
	// reloading view of the DAG folder); nil or a nil Bag means none are
	// loaded, and triggering or clearing answers 404.
	DAGs func() *dag.Bag
	// LogDir is logging.base_log_folder, where task logs are read.
	LogDir string
	// RemoteLogs reads a log whose local file is gone (shipped to GCS and
	// deleted); nil: none.
	RemoteLogs RemoteLogs
	// UITimezone is the timezone pages show times in (the API always
	// answers in UTC, as Airflow does). Nil means UTC.
	UITimezone *time.Location
	// BaseURL is webserver.base_url. Its path, if any, prefixes every
	// route; an https URL makes every cookie Secure, and its origin is
	// trusted for cross-origin checks (a proxy may rewrite Host).
	BaseURL string
	// SecureCookies forces the Secure attribute on cookies. Without it,
	// cookies are Secure when the request came over TLS or a load balancer
	// says so with X-Forwarded-Proto: https.
	SecureCookies bool
	// RateLimiter limits failed logins per client IP and username; nil
	// means an in-memory limiter with Airflow's default of 5 per 40 s.
	RateLimiter RateLimiter
	Logger      *slog.Logger
	// Version is reported by /api/v1/version.
	Version string
	// SchedulerHealthThreshold is how old the scheduler's heartbeat may
	// be for /health to call it healthy; zero means Airflow's 30 s.
	SchedulerHealthThreshold time.Duration
	// SecretKey is webserver.secret_key: it keys the session cookies, so
	// every webserver process sharing it (workers, a restarted server)
	// accepts the same sessions. Empty means a random key for this process
	// only: a warning is logged, and a restart signs everyone out.
	SecretKey string
	// SecretKeys decrypts and encrypts stored connections (AIRD_ENCRYPTION_KEY);
	// nil: the connections API explains that the key is missing.
	SecretKeys *secrets.Keyring
	// SessionLifetime bounds a browser session; zero means 12 hours.
	// Sessions idle for a quarter of it (at least 30 minutes) end earlier.
	SessionLifetime time.Duration
}

// Server is the webserver's http.Handler.
type Server struct {
	store     store.Store
	dags      func() *dag.Bag
	logDir    string
	remote    RemoteLogs
	uiTZ      *time.Location // for the UI pages; the API answers in UTC
	base      string         // URL path prefix from BaseURL: "" or "/prefix"
	secure    bool           // always set Secure on cookies
	limiter   RateLimiter
	log       *slog.Logger
	version   string
	healthAge time.Duration
	now       func() time.Time
	mux       *http.ServeMux
	perms     map[string]Permission // mux pattern → permission
	routes    []route
	roles     map[store.Role]map[Permission]bool
	sessions  *sessionCodec
	creds     *credCache
	crossOrig *http.CrossOriginProtection
	loginPage *template.Template
	pages     map[string]*template.Template // UI pages by name (ui.go)
	dummyHash func() []byte                 // compared against for unknown users, so timing does not tell
	conns     *connections.Repo
}

// New builds the webserver. It fails only on invalid options.
func New(o Options) (http.Handler, error) {
	return newServer(o)
}

func newServer(o Options) (*Server, error) {
	if o.Store == nil {
		return nil, errors.New("web: Options.Store is required")
	}
	s := &Server{
		store:     o.Store,
		dags:      o.DAGs,
		logDir:    o.LogDir,
		remote:    o.RemoteLogs,
		uiTZ:      o.UITimezone,
		secure:    o.SecureCookies,
		limiter:   o.RateLimiter,
		log:       o.Logger,
		version:   o.Version,
		healthAge: o.SchedulerHealthThreshold,
		now:       time.Now,
		mux:       http.NewServeMux(),
		perms:     map[string]Permission{},
		roles:     permissionTable(),
		creds:     newCredCache(4096, 5*time.Minute),
		crossOrig: http.NewCrossOriginProtection(),
		conns:     connections.NewRepo(o.Store, o.SecretKeys),
	}
	if s.dags == nil {
		s.dags = func() *dag.Bag { return nil }
	}
	if s.uiTZ == nil {
		s.uiTZ = time.UTC
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.limiter == nil {
		s.limiter = NewMemoryLimiter(5, 40*time.Second)
	}
	if s.healthAge <= 0 {
		s.healthAge = 30 * time.Second
	}
	if s.version == "" {
		s.version = "dev"
	}
	var err error
	lifetime := o.SessionLifetime
	if lifetime <= 0 {
		lifetime = 12 * time.Hour
	}
	if s.sessions, err = newSessionCodec(s.secretKey(o.SecretKey), lifetime, max(lifetime/4, 30*time.Minute)); err != nil {
		return nil, err
	}
	if err = s.applyBaseURL(o.BaseURL); err != nil {
		return nil, err
	}
	if err = s.parseTemplates(); err != nil {
		return nil, err
	}
	s.setDummyCost(bcrypt.DefaultCost)
	s.routes = s.routeTable()
	for _, rt := range s.routes {
		pattern := rt.method + " " + s.base + rt.path
		s.mux.Handle(pattern, rt.handler)
		s.perms[pattern] = rt.perm
	}
	return s, nil
}

// secretKey returns the configured key, or a random one with a warning.
func (s *Server) secretKey(configured string) string {
	switch {
	case configured == "":
		s.log.Warn("webserver.secret_key is not set: using a random key, so sessions will not survive a restart " +
			"nor be shared between webserver processes; set it (AIRD_WEBSERVER_SECRET_KEY) to a long random string")
		return rand.Text()
	case len(configured) < minSecretKeyLen:
		s.log.Warn("webserver.secret_key is short: a captured session cookie lets an attacker guess it offline; "+
			"use a long random string such as the output of `openssl rand -hex 32`", "min_length", minSecretKeyLen)
	}
	return configured
}

// applyBaseURL takes the route prefix and cookie policy from base_url.
func (s *Server) applyBaseURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("web: base_url %q: want an absolute http(s) URL such as https://airflow.example.com", raw)
	}
	s.base = strings.TrimSuffix(u.Path, "/")
	if u.Scheme == "https" {
		s.secure = true
	}
	if err := s.crossOrig.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
		return fmt.Errorf("web: base_url: %w", err)
	}
	return nil
}

// ServeHTTP is the one gate every request passes: security headers,
// cross-origin check, authentication, CSRF token and the permission the
// route table names for the matched pattern.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w, s.isSecure(r))
	if s.isAPI(r) {
		// API answers carry credentials-dependent data; no cache keeps them.
		w.Header().Set("Cache-Control", "no-store")
	}
	if err := s.crossOrig.Check(r); err != nil {
		s.forbidden(w, r, "Cross-origin request refused: a form or script on another site may not act on aird.")
		return
	}
	_, pattern := s.mux.Handler(r)
	perm, known := s.perms[pattern]
	if pattern != "" && !known {
		// A handler registered on the mux outside the route table would
		// have no permission: refuse it rather than serve it to anyone.
		s.log.Error("route not in the route table; add it to routeTable with its permission", "pattern", pattern)
		s.forbidden(w, r, "This route has no permission assigned.")
		return
	}
	if known && perm == PermPublic {
		s.mux.ServeHTTP(w, r)
		return
	}
	p, ok := s.authenticate(w, r)
	if !ok {
		return // authenticate answered 401, 429 or a redirect to /login
	}
	if p.session != nil && !safeMethod(r.Method) && !s.validCSRF(r, p.session) {
		s.forbidden(w, r, "CSRF token missing or invalid: send the token of your session in the X-CSRF-Token header or the csrf_token form field.")
		return
	}
	// An unknown pattern (404, 405, a redirect to the clean path) only
	// needs a signed-in user: it serves nothing of its own.
	if known && !s.allowed(p.user.Role, perm) {
		s.forbidden(w, r, fmt.Sprintf("Role %s lacks the %s permission.", p.user.Role, perm))
		return
	}
	s.mux.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), p)))
}

// isAPI tells API requests (problem JSON, Basic challenge) from browser
// ones (HTML, redirect to the login page).
func (s *Server) isAPI(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, s.base+"/api/")
}

// path prefixes an absolute app path with the base URL's path.
func (s *Server) path(p string) string { return s.base + p }

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}
