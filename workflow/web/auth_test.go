package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// samplePath fills a route's wildcards with values that exist in the test
// environment, so an authorised request would reach the handler; a
// wildcard it does not know (a route added since) gets "x", which still
// reaches the handler.
func samplePath(p string) string {
	p = strings.NewReplacer(
		"{dag_id}", "example", "{dag_run_id}", "run1", "{task_id}", "extract", "{task_try_number}", "1",
		"{variable_key}", "k", "{pool_name}", "default_pool", "{username}", "admin", "{import_error_id}", "1",
		"{$}", "",
	).Replace(p)
	return anyWildcard.ReplaceAllString(p, "x")
}

var anyWildcard = regexp.MustCompile(`\{[^}]*\}`)

// publicPaths are the only routes that may answer without signing in.
var publicPaths = map[string]bool{"/health": true, "/api/v1/health": true, "/login": true, "/logout": true, "/static/": true}

// TestRouteTableRequiresAuth enumerates every registered route — the
// route table is the only way onto the mux (newServer registers it, and
// ServeHTTP refuses any pattern outside it), so routes added later are
// covered without editing this test: only the public ones are PermPublic,
// and no other answers 2xx without credentials or with bad ones.
func TestRouteTableRequiresAuth(t *testing.T) {
	// Many bad-password requests below; the limit is not what is tested.
	e := newEnv(t, func(o *Options) { o.RateLimiter = NewMemoryLimiter(1000, time.Second) })
	e.trigger("example", map[string]any{"dag_run_id": "run1"})
	if len(e.srv.routes) < 30 {
		t.Fatalf("only %d routes registered", len(e.srv.routes))
	}
	for _, rt := range e.srv.routes {
		pattern := rt.method + " " + rt.path
		if got := e.srv.perms[rt.method+" "+e.srv.base+rt.path]; got != rt.perm || rt.perm == "" {
			t.Errorf("%s: permission table has %q, route says %q", pattern, got, rt.perm)
		}
		if rt.perm == PermPublic {
			if !publicPaths[rt.path] {
				t.Errorf("%s is public but not in the allowed public set", pattern)
			}
			continue
		}
		for _, creds := range []string{"none", "bad"} {
			r := req(rt.method, samplePath(rt.path), "{}")
			if creds == "bad" {
				r.SetBasicAuth("admin", "wrong-password")
			}
			w := e.serve(r)
			if w.Code < 300 {
				t.Errorf("%s with %s credentials answered %d", pattern, creds, w.Code)
			}
			if strings.HasPrefix(rt.path, "/api/") && w.Code != http.StatusUnauthorized {
				t.Errorf("%s with %s credentials: %d, want 401", pattern, creds, w.Code)
			}
		}
		// And with valid credentials it is served (the route is real):
		// only "not authorised" answers would be suspicious here.
		w := e.as("admin", rt.method, samplePath(rt.path), nil)
		if w.Code == http.StatusUnauthorized || w.Code == http.StatusForbidden {
			t.Errorf("%s as admin: %d %s", pattern, w.Code, w.Body)
		}
	}
	// A handler put on the mux behind the route table's back is refused,
	// even to an admin: it has no permission to check.
	e.srv.mux.HandleFunc("GET /sneaky", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) })
	expect(t, e.as("admin", "GET", "/sneaky", nil), http.StatusForbidden)
	expect(t, e.as("", "GET", "/sneaky", nil), http.StatusForbidden)
	// Paths that match no route also need auth before saying 404.
	expect(t, e.as("", "GET", "/api/v1/nope", nil), http.StatusUnauthorized)
	expect(t, e.as("admin", "GET", "/api/v1/nope", nil), http.StatusNotFound)
	expect(t, e.as("", "PUT", "/api/v1/dags", nil), http.StatusUnauthorized)
	expect(t, e.as("admin", "PUT", "/api/v1/dags", nil), http.StatusMethodNotAllowed)
}

func TestUnauthenticatedAPIAnswers401WithBasicChallenge(t *testing.T) {
	e := newEnv(t)
	w := e.as("", "GET", "/api/v1/dags", nil)
	expectProblem(t, w, http.StatusUnauthorized, "Basic")
	if !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Basic ") {
		t.Fatalf("WWW-Authenticate %q", w.Header().Get("WWW-Authenticate"))
	}
	// A browser page redirects to the login page instead, keeping the target.
	w = e.as("", "GET", "/", nil)
	expect(t, w, http.StatusFound)
	if loc := w.Header().Get("Location"); loc != "/login?next=%2F" {
		t.Fatalf("Location %q", loc)
	}
}

// TestRoleDenials walks the permission table through the API: each role
// can do its own work and not the next role's.
func TestRoleDenials(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		user, method, path string
		body               any
		want               int
	}{
		{"viewer", "GET", "/api/v1/dags", nil, 200},
		{"viewer", "GET", "/api/v1/pools", nil, 200},
		{"viewer", "POST", "/api/v1/dags/example/dagRuns", map[string]any{}, 403},
		{"viewer", "PATCH", "/api/v1/dags/example", map[string]any{"is_paused": true}, 403},
		{"viewer", "POST", "/api/v1/dags/example/clearTaskInstances", map[string]any{}, 403},
		{"viewer", "GET", "/api/v1/variables", nil, 403},
		{"user", "POST", "/api/v1/dags/example/dagRuns", map[string]any{}, 200},
		{"user", "PATCH", "/api/v1/dags/example", map[string]any{"is_paused": false}, 200},
		{"user", "POST", "/api/v1/pools", map[string]any{"name": "p", "slots": 1}, 403},
		{"user", "POST", "/api/v1/variables", map[string]any{"key": "k", "value": "v"}, 403},
		{"user", "GET", "/api/v1/variables", nil, 403},
		{"op", "POST", "/api/v1/pools", map[string]any{"name": "p", "slots": 1}, 200},
		{"op", "POST", "/api/v1/variables", map[string]any{"key": "k", "value": "v"}, 200},
		{"op", "GET", "/api/v1/users", nil, 403},
		{"user", "GET", "/api/v1/users", nil, 403},
		{"viewer", "GET", "/api/v1/users/admin", nil, 403},
		{"admin", "GET", "/api/v1/users", nil, 200},
	}
	for _, c := range cases {
		w := e.as(c.user, c.method, c.path, c.body)
		if w.Code != c.want {
			t.Errorf("%s %s %s: %d, want %d (%s)", c.user, c.method, c.path, w.Code, c.want, w.Body)
		}
		if c.want == 403 {
			expectProblem(t, w, 403, "lacks the")
		}
	}
}

func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	e := newEnv(t)
	for _, w := range []*httptest.ResponseRecorder{
		e.as("", "GET", "/health", nil), e.as("", "GET", "/api/v1/dags", nil), e.as("admin", "GET", "/api/v1/dags", nil), e.as("", "GET", "/login", nil),
	} {
		h := w.Header()
		if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("X-Frame-Options") != "DENY" ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
			t.Fatalf("missing security headers: %v", h)
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Fatal("HSTS over plain HTTP")
		}
	}
	r := req("GET", "/health", nil)
	r.Header.Set("X-Forwarded-Proto", "https")
	if e.serve(r).Header().Get("Strict-Transport-Security") == "" {
		t.Fatal("no HSTS behind an HTTPS load balancer")
	}
}

// browser is a cookie-keeping client of a real HTTP server.
type browser struct {
	t      *testing.T
	ts     *httptest.Server
	client *http.Client
	header http.Header // added to every request
}

func newBrowser(t *testing.T, e *env) *browser {
	jar := newJar(t)
	return (&browser{t: t, header: http.Header{}, client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}).to(e.srv)
}

// to returns the same browser (cookies included) talking to another
// server: a restarted one or another webserver process. Cookies are kept
// per host, not per port, so they go along.
func (b *browser) to(h http.Handler) *browser {
	ts := httptest.NewServer(h)
	b.t.Cleanup(ts.Close)
	c := *b
	c.ts = ts
	return &c
}

func (b *browser) do(method, path string, form url.Values, hdr ...string) *http.Response {
	b.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	r, err := http.NewRequest(method, b.ts.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.header {
		r.Header[k] = v
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := b.client.Do(r)
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// loginForm fetches the login page and returns its CSRF token.
func (b *browser) loginForm() string {
	b.t.Helper()
	resp := b.do("GET", "/login", nil)
	if resp.StatusCode != 200 {
		b.t.Fatalf("GET /login: %d", resp.StatusCode)
	}
	m := csrfField.FindStringSubmatch(readBody(b.t, resp))
	if m == nil {
		b.t.Fatal("no csrf_token in the login form")
	}
	return m[1]
}

func (b *browser) login(user, password string) *http.Response {
	b.t.Helper()
	token := b.loginForm()
	return b.do("POST", "/login", url.Values{"csrf_token": {token}, "username": {user}, "password": {password}, "next": {"/api/v1/dags"}})
}

func TestSessionLoginLogout(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, e)
	resp := b.login("viewer", testPasswords["viewer"])
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/api/v1/dags" {
		t.Fatalf("login: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := b.do("GET", "/api/v1/dags", nil); resp.StatusCode != 200 {
		t.Fatalf("API with the session cookie: %d", resp.StatusCode)
	}
	if resp := b.do("GET", "/", nil); resp.StatusCode != 200 || !strings.Contains(readBody(t, resp), "viewer") {
		t.Fatalf("home page: %d", resp.StatusCode)
	}
	// Permissions apply to sessions as to Basic auth.
	if resp := b.do("GET", "/api/v1/variables", nil); resp.StatusCode != 403 {
		t.Fatalf("viewer reading variables through a session: %d", resp.StatusCode)
	}
	if len(e.events("login")) != 1 {
		t.Fatal("no login event")
	}
	if u, _ := e.st.GetUser(t.Context(), "viewer"); u.LastLogin.IsZero() {
		t.Fatal("last_login not recorded")
	}
	if resp := b.do("GET", "/logout", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if resp := b.do("GET", "/api/v1/dags", nil); resp.StatusCode != 401 {
		t.Fatalf("API after logout: %d", resp.StatusCode)
	}
}

func TestLoginRejectsBadPasswordAndOpenRedirect(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, e)
	token := b.loginForm()
	resp := b.do("POST", "/login", url.Values{"csrf_token": {token}, "username": {"admin"}, "password": {"nope"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(readBody(t, resp), "Invalid username or password") {
		t.Fatalf("bad password: %d", resp.StatusCode)
	}
	if len(e.events("login.failed")) != 1 {
		t.Fatal("no login.failed event")
	}
	token = b.loginForm()
	resp = b.do("POST", "/login", url.Values{"csrf_token": {token}, "username": {"admin"}, "password": {testPasswords["admin"]}, "next": {"//evil.example/"}})
	if resp.Header.Get("Location") != "/" {
		t.Fatalf("next=//evil.example/ redirected to %q", resp.Header.Get("Location"))
	}
}

func TestLoginNeedsCSRFToken(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, e)
	b.loginForm() // sets the cookie
	resp := b.do("POST", "/login", url.Values{"csrf_token": {"forged"}, "username": {"admin"}, "password": {testPasswords["admin"]}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login with a forged token: %d", resp.StatusCode)
	}
	fresh := newBrowser(t, e) // no cookie at all
	resp = fresh.do("POST", "/login", url.Values{"csrf_token": {"x"}, "username": {"admin"}, "password": {testPasswords["admin"]}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login without the cookie: %d", resp.StatusCode)
	}
}

// TestCrossOriginPostWithSessionRefused: a form on another site posting
// with the victim's session cookie is refused, by Sec-Fetch-Site and by
// Origin; the same request from our own page passes.
func TestCrossOriginPostWithSessionRefused(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, e)
	b.login("admin", testPasswords["admin"])
	body := url.Values{"is_paused": {"true"}}
	for _, hdr := range [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Origin", "https://evil.example"},
	} {
		resp := b.do("POST", "/api/v1/dags/example/dagRuns", body, hdr...)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(readBody(t, resp), "Cross-origin") {
			t.Fatalf("cross-origin POST (%v): %d", hdr, resp.StatusCode)
		}
	}
	// Same-origin, but without the session's CSRF token: still refused.
	resp := b.do("POST", "/api/v1/dags/example/dagRuns", nil, "Sec-Fetch-Site", "same-origin", "Content-Type", "application/json")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(readBody(t, resp), "CSRF token") {
		t.Fatalf("session POST without token: %d", resp.StatusCode)
	}
	if n := len(e.events("api.post_dag_run")); n != 0 {
		t.Fatalf("%d runs triggered by refused requests", n)
	}
	// Basic-auth API clients send no cookies and need no token.
	if w := e.as("admin", "POST", "/api/v1/dags/example/dagRuns", map[string]any{}); w.Code != 200 {
		t.Fatalf("Basic-auth POST: %d", w.Code)
	}
}

func TestSessionPostWithCSRFTokenHeader(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, e)
	b.login("user", testPasswords["user"])
	home := readBody(t, b.do("GET", "/", nil))
	m := csrfField.FindStringSubmatch(home)
	if m == nil {
		t.Fatal("no csrf token on the home page")
	}
	r, _ := http.NewRequest("POST", b.ts.URL+"/api/v1/dags/example/dagRuns", strings.NewReader(`{"dag_run_id":"from_session"}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-CSRF-Token", m[1])
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.client.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("session POST with token: %d %s", resp.StatusCode, readBody(t, resp))
	}
	if ev := e.events("api.post_dag_run"); len(ev) != 1 || ev[0].Owner != "user" || ev[0].RunID != "from_session" {
		t.Fatalf("events %+v", ev)
	}
}

// TestCookieAttributes: HttpOnly and SameSite always; Secure when the load
// balancer says the client used HTTPS, and not on plain HTTP. (A cookie
// jar would not send Secure cookies back over the test's plain HTTP, so
// cookies are carried by hand.)
func TestCookieAttributes(t *testing.T) {
	e := newEnv(t)
	for _, proto := range []string{"", "https"} {
		get := req("GET", "/login", nil)
		get.Header.Set("X-Forwarded-Proto", proto)
		w := e.serve(get)
		expect(t, w, 200)
		csrf := cookieNamed(t, w.Result().Cookies(), csrfCookie)
		token := csrfField.FindStringSubmatch(w.Body.String())[1]
		post := req("POST", "/login", url.Values{"csrf_token": {token}, "username": {"admin"}, "password": {testPasswords["admin"]}}.Encode())
		post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		post.Header.Set("X-Forwarded-Proto", proto)
		post.AddCookie(csrf)
		w = e.serve(post)
		expect(t, w, http.StatusSeeOther)
		for _, c := range []*http.Cookie{csrf, cookieNamed(t, w.Result().Cookies(), sessionCookie)} {
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
				t.Fatalf("cookie %+v", c)
			}
			if c.Secure != (proto == "https") {
				t.Fatalf("X-Forwarded-Proto %q: %s Secure=%v", proto, c.Name, c.Secure)
			}
		}
	}
	// An https base_url makes cookies Secure whatever the request says.
	e2 := newEnv(t, func(o *Options) { o.BaseURL = "https://airflow.example.com/" })
	w := e2.as("", "GET", "/login", nil)
	if c := cookieNamed(t, w.Result().Cookies(), csrfCookie); !c.Secure {
		t.Fatalf("cookie with an https base_url: %+v", c)
	}
}

func cookieNamed(t *testing.T, cs []*http.Cookie, name string) *http.Cookie {
	t.Helper()
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", name, cs)
	return nil
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.RateLimiter = NewMemoryLimiter(3, time.Hour) })
	b := newBrowser(t, e)
	for i := range 3 {
		token := b.loginForm()
		resp := b.do("POST", "/login", url.Values{"csrf_token": {token}, "username": {"admin"}, "password": {"guess"}})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, resp.StatusCode)
		}
	}
	// The right password no longer helps from this client…
	token := b.loginForm()
	resp := b.do("POST", "/login", url.Values{"csrf_token": {token}, "username": {"admin"}, "password": {testPasswords["admin"]}})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("4th attempt: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// …nor through Basic auth from the same address, which shares the
	// limit…
	r := req("GET", "/api/v1/dags", nil)
	r.RemoteAddr = "127.0.0.1:40000"
	r.SetBasicAuth("admin", testPasswords["admin"])
	expectProblem(t, e.serve(r), http.StatusTooManyRequests, "too many failed logins")
	// …while another user from the same client, and the same user from
	// another address, are unaffected.
	r.SetBasicAuth("viewer", testPasswords["viewer"])
	expect(t, e.serve(r), 200)
	expect(t, e.as("admin", "GET", "/api/v1/dags", nil), 200)
}

func TestBasicAuthFailuresAreRateLimitedButSuccessesNot(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.RateLimiter = NewMemoryLimiter(2, time.Hour) })
	for range 10 {
		expect(t, e.as("op", "GET", "/api/v1/pools", nil), 200)
	}
	r := req("GET", "/api/v1/pools", nil)
	r.SetBasicAuth("op", "wrong")
	expect(t, e.serve(r), 401)
	expect(t, e.serve(r), 401)
	expect(t, e.serve(r), 429)
}

func TestInactiveOrDeletedUserIsSignedOut(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, e)
	b.login("op", testPasswords["op"])
	u, err := e.st.GetUser(t.Context(), "op")
	if err != nil {
		t.Fatal(err)
	}
	u.Active = false
	if err := e.st.UpdateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if resp := b.do("GET", "/api/v1/pools", nil); resp.StatusCode != 401 {
		t.Fatalf("deactivated user's session: %d", resp.StatusCode)
	}
	expect(t, e.as("op", "GET", "/api/v1/pools", nil), 401)
}

func TestBaseURLPrefixesRoutes(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.BaseURL = "http://example.com/airflow" })
	expect(t, e.as("", "GET", "/airflow/health", nil), 200)
	expect(t, e.as("viewer", "GET", "/airflow/api/v1/dags", nil), 200)
	expect(t, e.as("viewer", "GET", "/api/v1/dags", nil), 404)
	w := e.as("", "GET", "/airflow/", nil)
	if loc := w.Header().Get("Location"); !strings.HasPrefix(loc, "/airflow/login?next=") {
		t.Fatalf("redirect to %q", loc)
	}
}
