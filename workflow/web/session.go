package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"sync"
	"time"
)

// sessionCookie holds the session ID; csrfCookie the login form's token
// before there is a session.
const (
	sessionCookie = "aird_session"
	csrfCookie    = "aird_csrf"
)

// session is a signed-in browser. The cookie value is 26 random base32
// characters (130 bits); the table keeps only its SHA-256, so the table
// itself holds no usable cookie.
type session struct {
	id       [sha256.Size]byte // sha256 of the cookie value
	username string
	csrf     string // the token forms and X-CSRF-Token must carry
	created  time.Time
	lastSeen time.Time
}

// sessionStore keeps sessions in memory. A process restart signs every
// browser out, and several webserver processes behind one load balancer
// need sticky sessions; a store-backed implementation can replace this
// without touching callers.
type sessionStore struct {
	mu       sync.Mutex
	byID     map[[sha256.Size]byte]*session
	lifetime time.Duration // absolute
	idle     time.Duration
	max      int
	now      func() time.Time
}

func newSessionStore(lifetime, idle time.Duration, max int) *sessionStore {
	return &sessionStore{byID: map[[sha256.Size]byte]*session{}, lifetime: lifetime, idle: idle, max: max, now: time.Now}
}

// create starts a session for username and returns its cookie value.
// Every sign-in gets a fresh ID, so an ID planted before sign-in (session
// fixation) is worthless.
func (st *sessionStore) create(username string) (string, *session) {
	token := rand.Text()
	now := st.now()
	sess := &session{id: sha256.Sum256([]byte(token)), username: username, csrf: rand.Text(), created: now, lastSeen: now}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.byID) >= st.max {
		st.pruneLocked(now)
	}
	if len(st.byID) >= st.max {
		// Full of live sessions: drop the least recently used one rather
		// than refuse sign-ins.
		var oldest *session
		for _, s := range st.byID {
			if oldest == nil || s.lastSeen.Before(oldest.lastSeen) {
				oldest = s
			}
		}
		delete(st.byID, oldest.id)
	}
	st.byID[sess.id] = sess
	return token, sess
}

// get returns the live session for a cookie value and marks it used.
func (st *sessionStore) get(token string) *session {
	id := sha256.Sum256([]byte(token))
	now := st.now()
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.byID[id]
	if s == nil {
		return nil
	}
	if now.Sub(s.created) > st.lifetime || now.Sub(s.lastSeen) > st.idle {
		delete(st.byID, id)
		return nil
	}
	s.lastSeen = now
	// A copy: handlers read it without the lock.
	c := *s
	return &c
}

func (st *sessionStore) delete(id [sha256.Size]byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.byID, id)
}

func (st *sessionStore) pruneLocked(now time.Time) {
	for id, s := range st.byID {
		if now.Sub(s.created) > st.lifetime || now.Sub(s.lastSeen) > st.idle {
			delete(st.byID, id)
		}
	}
}

// sessionOf returns the request's live session, if any.
func (s *Server) sessionOf(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	return s.sessions.get(c.Value)
}

// validCSRF checks the session's token on a state-changing request made
// with the session cookie. CrossOriginProtection already refuses
// cross-site browser requests; the token also covers browsers that send
// neither Sec-Fetch-Site nor Origin.
func (s *Server) validCSRF(r *http.Request, sess *session) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" && isForm(r) {
		got = r.PostFormValue("csrf_token")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(sess.csrf)) == 1
}

func isForm(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	return hasMediaType(ct, "application/x-www-form-urlencoded") || hasMediaType(ct, "multipart/form-data")
}

// cookie builds a cookie with the attributes every aird cookie has:
// HttpOnly, SameSite=Lax, scoped to the base path, and Secure on HTTPS.
func (s *Server) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	path := s.base
	if path == "" {
		path = "/"
	}
	return &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.isSecure(r),
	}
}
