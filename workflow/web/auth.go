package web

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/airctl/airctl/workflow/store"
)

// principal is the signed-in user of a request and how they signed in.
type principal struct {
	user    store.User
	session *session // nil for Basic auth
}

type principalKey struct{}

func withPrincipal(ctx context.Context, p principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// principalFrom returns the request's user; ServeHTTP guarantees one for
// every non-public route.
func principalFrom(r *http.Request) principal {
	p, _ := r.Context().Value(principalKey{}).(principal)
	return p
}

// CSRFToken is the session's token for forms and X-CSRF-Token, or "" for
// a request without a session (Basic auth, public pages).
func CSRFToken(r *http.Request) string {
	if p := principalFrom(r); p.session != nil {
		return p.session.CSRF
	}
	return ""
}

// authenticate finds the request's user from a Basic Authorization header
// or else the session cookie. On failure it has answered the request: 429
// when rate limited, else 401 with a Basic challenge for the API or a
// redirect to the login page for a browser.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (principal, bool) {
	if username, password, ok := r.BasicAuth(); ok {
		u, err := s.checkPassword(r, username, password)
		if err == nil {
			return principal{user: u}, true
		}
		s.authFailed(w, r, err)
		return principal{}, false
	}
	if sess := s.sessionOf(r); sess != nil {
		u, err := s.store.GetUser(r.Context(), sess.Username)
		// A deleted or deactivated user, or a logout since (a newer
		// generation), ends the session.
		if err == nil && u.Active && u.SessionGen == sess.Gen {
			s.touchSession(w, r, sess)
			return principal{user: u, session: sess}, true
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.fail(w, r, err)
			return principal{}, false
		}
	}
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		// Expired, revoked, or sealed under another secret_key: drop it.
		http.SetCookie(w, s.cookie(r, sessionCookie, "", -1))
	}
	s.authFailed(w, r, errNoCredentials)
	return principal{}, false
}

var (
	errNoCredentials  = errors.New("no credentials")
	errBadCredentials = errors.New("invalid username or password")
)

// rateLimitedError carries how long a client must wait.
type rateLimitedError struct{ retryAfter time.Duration }

func (e *rateLimitedError) Error() string {
	return fmt.Sprintf("too many failed logins; try again in %s", e.retryAfter.Round(time.Second))
}

func (s *Server) authFailed(w http.ResponseWriter, r *http.Request, err error) {
	var rl *rateLimitedError
	switch {
	case errors.As(err, &rl):
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(rl.retryAfter.Seconds()+0.5))))
		if s.isAPI(r) {
			writeProblem(w, http.StatusTooManyRequests, "Too Many Requests", rl.Error())
			return
		}
		http.Error(w, "429 Too Many Requests: "+rl.Error(), http.StatusTooManyRequests)
	case !errors.Is(err, errNoCredentials) && !errors.Is(err, errBadCredentials):
		s.fail(w, r, err)
	case s.isAPI(r):
		w.Header().Set("WWW-Authenticate", `Basic realm="aird", charset="UTF-8"`)
		detail := "Sign in with HTTP Basic authentication or a session cookie from /login."
		if errors.Is(err, errBadCredentials) {
			detail = "Invalid username or password."
		}
		writeProblem(w, http.StatusUnauthorized, "Unauthorized", detail)
	case safeMethod(r.Method):
		http.Redirect(w, r, s.path("/login")+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
	default:
		http.Error(w, "401 Unauthorized: sign in at "+s.path("/login"), http.StatusUnauthorized)
	}
}

// checkPassword verifies a username and password under the login rate
// limit: a client past the limit is refused before any check, and every
// failure counts against it. Success does not count, so scripts using
// Basic auth on every call are never throttled; credentials verified in
// the last few minutes skip the limiter (and bcrypt) altogether, since
// only someone who knows the password can present them.
func (s *Server) checkPassword(r *http.Request, username, password string) (store.User, error) {
	ctx := r.Context()
	u, err := s.store.GetUser(ctx, username)
	known := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.User{}, err
	}
	if known && u.Active && s.creds.ok(u.Username, password, u.PasswordHash) {
		return u, nil
	}
	key := limiterKey(r, username)
	ok, wait, err := s.limiter.Allowed(ctx, key)
	if err != nil {
		// Failing open keeps sign-in working when Redis is down; bcrypt
		// still makes guessing slow.
		s.log.Warn("login rate limiter unavailable; allowing the attempt", "err", err)
	} else if !ok {
		return store.User{}, &rateLimitedError{retryAfter: wait}
	}
	if !s.passwordMatches(u, known, password) {
		if lerr := s.limiter.Failed(ctx, key); lerr != nil {
			s.log.Warn("login rate limiter unavailable; failure not counted", "err", lerr)
		}
		s.log.Info("failed login", "username", username, "remote", clientIP(r))
		return store.User{}, errBadCredentials
	}
	s.creds.add(u.Username, password, u.PasswordHash)
	return u, nil
}

// passwordMatches runs bcrypt even for an unknown user, against a dummy
// hash, so the answer takes as long and does not tell which users exist.
func (s *Server) passwordMatches(u store.User, known bool, password string) bool {
	if !known {
		_ = bcrypt.CompareHashAndPassword(s.dummyHash(), []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) == nil && u.Active
}

// setDummyCost prepares the dummy hash at the cost real hashes have. It
// is made on first use: at the default cost it takes a noticeable moment,
// which servers that never see an unknown user need not spend.
func (s *Server) setDummyCost(cost int) {
	s.dummyHash = sync.OnceValue(func() []byte {
		h, err := bcrypt.GenerateFromPassword([]byte("aird dummy password"), cost)
		if err != nil {
			panic(fmt.Sprintf("web: bcrypt cost %d: %v", cost, err)) // only an invalid constant cost gets here
		}
		return h
	})
}

// limiterKey is client IP and username: one client guessing one user's
// password is throttled without locking that user out everywhere.
func limiterKey(r *http.Request, username string) string {
	return clientIP(r) + "|" + strings.ToLower(username)
}

// clientIP is the peer address. X-Forwarded-For is not trusted: anyone can
// send it, and honouring it would let a client pick a fresh rate-limit key
// per attempt. Behind a load balancer the key degrades to per-username.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
