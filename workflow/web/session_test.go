package web

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

const testSecretKey = "test-secret-key-0123456789abcdef"

func withKey(key string) envOption { return func(o *Options) { o.SecretKey = key } }

// TestSessionSurvivesRestartWithSameKey: a new server on the same store
// and secret_key (a restart, or another webserver process) accepts the
// session; one with another key does not, and clears the cookie.
func TestSessionSurvivesRestartWithSameKey(t *testing.T) {
	e := newEnv(t, withKey(testSecretKey))
	b := newBrowser(t, e)
	if resp := b.login("op", testPasswords["op"]); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	restarted := b.to(e.newServer(withKey(testSecretKey)))
	if resp := restarted.do("GET", "/api/v1/variables", nil); resp.StatusCode != 200 {
		t.Fatalf("after a restart with the same key: %d", resp.StatusCode)
	}
	// The session's CSRF token travels with it: a form from the first
	// process posts to the restarted one.
	token := csrfField.FindStringSubmatch(readBody(t, b.do("GET", "/variables", nil)))
	if token == nil {
		t.Fatal("no csrf_token on the variables page")
	}
	resp := restarted.do("POST", "/variables", url.Values{"csrf_token": {token[1]}, "key": {"k1"}, "value": {"v1"}})
	if resp.StatusCode >= 400 {
		t.Fatalf("form post to the restarted server: %d %s", resp.StatusCode, readBody(t, resp))
	}
	if v, err := e.st.GetVariable(t.Context(), "k1"); err != nil || v.Value != "v1" {
		t.Fatalf("variable after the form post: %+v %v", v, err)
	}

	otherKey := b.to(e.newServer(withKey("another-secret-key-0123456789")))
	resp = otherKey.do("GET", "/api/v1/variables", nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("with another key: %d", resp.StatusCode)
	}
	if c := cookieNamed(t, resp.Cookies(), sessionCookie); c.MaxAge >= 0 {
		t.Fatalf("the unreadable session cookie was not cleared: %+v", c)
	}
}

// TestLogoutRevokesSessionInEveryProcess: a copy of the cookie kept from
// before logout is refused by every process sharing the store, and by the
// one that signed out.
func TestLogoutRevokesSessionInEveryProcess(t *testing.T) {
	e := newEnv(t, withKey(testSecretKey))
	first := newBrowser(t, e)
	first.login("user", testPasswords["user"])
	second := first.to(e.newServer(withKey(testSecretKey)))
	if resp := second.do("GET", "/api/v1/dags", nil); resp.StatusCode != 200 {
		t.Fatalf("second process before logout: %d", resp.StatusCode)
	}
	stolen := sessionCookieOf(t, first)

	if resp := first.do("POST", "/logout", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	for name, h := range map[string]http.Handler{"first": e.srv, "second": second.ts.Config.Handler} {
		r := req("GET", "/api/v1/dags", nil)
		r.AddCookie(stolen)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("%s process accepted the cookie after logout: %d", name, w.Code)
		}
	}
	if len(e.events("logout")) != 1 {
		t.Fatal("no logout event")
	}
	// Signing in again works, with a fresh cookie.
	if resp := first.login("user", testPasswords["user"]); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login after logout: %d", resp.StatusCode)
	}
	if resp := second.do("GET", "/api/v1/dags", nil); resp.StatusCode != 200 {
		t.Fatalf("new session in the second process: %d", resp.StatusCode)
	}
}

// TestSessionCookieIsSealed: the cookie shows nothing of the session and
// any change to it is refused.
func TestSessionCookieIsSealed(t *testing.T) {
	e := newEnv(t, withKey(testSecretKey))
	b := newBrowser(t, e)
	b.login("admin", testPasswords["admin"])
	c := sessionCookieOf(t, b)
	if strings.Contains(c.Value, "admin") {
		t.Fatalf("cookie shows the username: %q", c.Value)
	}
	for i := range len(c.Value) {
		tampered := []byte(c.Value)
		tampered[i] ^= 1
		r := req("GET", "/api/v1/dags", nil)
		r.AddCookie(&http.Cookie{Name: sessionCookie, Value: string(tampered)})
		if w := e.serve(r); w.Code != http.StatusUnauthorized {
			t.Fatalf("cookie with byte %d changed: %d", i, w.Code)
		}
	}
}

// TestSessionIdleAndLifetime: an idle session ends; an active one is kept
// alive by refreshed cookies until its absolute lifetime.
func TestSessionIdleAndLifetime(t *testing.T) {
	e := newEnv(t, withKey(testSecretKey), func(o *Options) { o.SessionLifetime = 4 * time.Hour })
	now := time.Now()
	e.srv.now = func() time.Time { return now }
	b := newBrowser(t, e)
	b.login("viewer", testPasswords["viewer"])
	idle := sessionCookieOf(t, b)
	// Active every 25 minutes: well past the 1 h idle timeout, until the
	// 4 h lifetime ends the session however active it is.
	start := now
	for range 11 {
		now = now.Add(25 * time.Minute)
		want := http.StatusOK
		if now.Sub(start) > 4*time.Hour {
			want = http.StatusUnauthorized
		}
		if resp := b.do("GET", "/api/v1/dags", nil); resp.StatusCode != want {
			t.Fatalf("session active for %s: %d, want %d", now.Sub(start), resp.StatusCode, want)
		}
		if now.Sub(start) == 100*time.Minute {
			r := req("GET", "/api/v1/dags", nil)
			r.AddCookie(idle) // the cookie as it was before any refresh
			expect(t, e.serve(r), http.StatusUnauthorized)
		}
	}
}

func sessionCookieOf(t *testing.T, b *browser) *http.Cookie {
	t.Helper()
	u, err := url.Parse(b.ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	return cookieNamed(t, b.client.Jar.Cookies(u), sessionCookie)
}

// TestMissingSecretKeyWarns: without secret_key the server still works,
// on a random key of its own, and says sessions will not survive.
func TestMissingSecretKeyWarns(t *testing.T) {
	var logs strings.Builder
	e := newEnv(t, func(o *Options) { o.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	if !strings.Contains(logs.String(), "secret_key is not set") || !strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("no warning about the missing key: %q", logs.String())
	}
	b := newBrowser(t, e)
	b.login("viewer", testPasswords["viewer"])
	if resp := b.do("GET", "/api/v1/dags", nil); resp.StatusCode != 200 {
		t.Fatalf("session on a generated key: %d", resp.StatusCode)
	}
	// Another server without a key has another one: a restart signs out.
	if resp := b.to(e.newServer()).do("GET", "/api/v1/dags", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("session after a restart without secret_key: %d", resp.StatusCode)
	}
}
