package web

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// sessionCookie holds the sealed session; csrfCookie the login form's
// token before there is a session.
const (
	sessionCookie = "aird_session"
	csrfCookie    = "aird_csrf"
)

// Sessions are cookies sealed with AES-256-GCM under a key derived from
// webserver.secret_key, so any webserver process holding the key — a
// restarted one, or another worker — accepts them without shared memory.
// Revocation is a per-user generation in the store (store.User.SessionGen)
// rather than a session table: authentication reads the user row on every
// request anyway, so checking the generation costs nothing more, and there
// is no table to grow and prune. The price is that logout ends all of the
// user's sessions, not just this browser's, which errs on the safe side.

// session is a signed-in browser: the cookie's sealed content.
type session struct {
	Username string `json:"u"`
	Gen      int64  `json:"g"` // the user's SessionGen at sign-in
	CSRF     string `json:"c"` // the token forms and X-CSRF-Token must carry
	Created  int64  `json:"t"` // Unix seconds: for the absolute lifetime
	Seen     int64  `json:"s"` // Unix seconds of the last refresh: for the idle timeout
}

// sessionCodec seals and opens session cookies and applies their
// lifetimes.
type sessionCodec struct {
	aead     cipher.AEAD
	lifetime time.Duration // absolute
	idle     time.Duration
	refresh  time.Duration // how stale Seen may get before the cookie is re-sealed
}

// minSecretKeyLen is what a secret_key needs to resist offline guessing
// from a captured cookie.
const minSecretKeyLen = 16

func newSessionCodec(secretKey string, lifetime, idle time.Duration) (*sessionCodec, error) {
	// HKDF turns a passphrase of any length into the AES key, bound to this
	// use so the same secret can key other things without reuse.
	key, err := hkdf.Key(sha256.New, []byte(secretKey), nil, "aird webserver session cookie v1", 32)
	if err != nil {
		return nil, fmt.Errorf("web: derive session key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("web: session cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("web: session cipher: %w", err)
	}
	return &sessionCodec{aead: aead, lifetime: lifetime, idle: idle, refresh: min(idle/4, time.Minute)}, nil
}

// seal encrypts the session into a cookie value. The cookie name is
// authenticated too, so a value cannot be replayed under another cookie.
func (c *sessionCodec) seal(sess session) (string, error) {
	plain, err := json.Marshal(sess)
	if err != nil {
		return "", fmt.Errorf("web: encode session: %w", err)
	}
	nonce := make([]byte, c.aead.NonceSize(), c.aead.NonceSize()+len(plain)+c.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("web: session nonce: %w", err)
	}
	return cookieEncoding.EncodeToString(c.aead.Seal(nonce, nonce, plain, []byte(sessionCookie))), nil
}

// cookieEncoding is strict, so that no two cookie values open alike.
var cookieEncoding = base64.RawURLEncoding.Strict()

var errBadSession = errors.New("session cookie invalid or expired")

// open decrypts a cookie value and checks its lifetimes; a cookie sealed
// under another key, altered, or expired is errBadSession.
func (c *sessionCodec) open(value string, now time.Time) (session, error) {
	raw, err := cookieEncoding.DecodeString(value)
	if err != nil || len(raw) < c.aead.NonceSize() {
		return session{}, errBadSession
	}
	nonce, sealed := raw[:c.aead.NonceSize()], raw[c.aead.NonceSize():]
	plain, err := c.aead.Open(nil, nonce, sealed, []byte(sessionCookie))
	if err != nil {
		return session{}, errBadSession
	}
	var sess session
	if err := json.Unmarshal(plain, &sess); err != nil || sess.Username == "" || sess.CSRF == "" {
		return session{}, errBadSession
	}
	if now.Sub(time.Unix(sess.Created, 0)) > c.lifetime || now.Sub(time.Unix(sess.Seen, 0)) > c.idle {
		return session{}, errBadSession
	}
	return sess, nil
}

// newSession starts a session for a user at their current generation.
// Every sign-in gets a fresh CSRF token, so a token seen before sign-in is
// worthless after.
func newSession(username string, gen int64, now time.Time) session {
	return session{Username: username, Gen: gen, CSRF: rand.Text(), Created: now.Unix(), Seen: now.Unix()}
}

// sessionOf returns the request's session if its cookie opens and has
// not expired. Whether it was revoked needs the user row: authenticate
// checks that.
func (s *Server) sessionOf(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	sess, err := s.sessions.open(c.Value, s.now())
	if err != nil {
		return nil
	}
	return &sess
}

// setSession writes the session cookie. It has no Max-Age: the cookie
// ends with the browser, and the server ends the session after its
// lifetime or idle time anyway.
func (s *Server) setSession(w http.ResponseWriter, r *http.Request, sess session) error {
	value, err := s.sessions.seal(sess)
	if err != nil {
		return err
	}
	http.SetCookie(w, s.cookie(r, sessionCookie, value, 0))
	return nil
}

// touchSession re-seals a session whose Seen time is getting stale, so an
// active user is not signed out by the idle timeout. Doing it only every
// so often keeps most answers free of Set-Cookie.
func (s *Server) touchSession(w http.ResponseWriter, r *http.Request, sess *session) {
	now := s.now()
	if now.Sub(time.Unix(sess.Seen, 0)) < s.sessions.refresh {
		return
	}
	sess.Seen = now.Unix()
	if err := s.setSession(w, r, *sess); err != nil {
		s.log.Warn("refresh session cookie", "user", sess.Username, "err", err)
	}
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
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) == 1
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
