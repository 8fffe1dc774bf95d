package web

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/airctl/airctl/workflow/store"
)

// parseTemplates parses the UI pages; the login page is one of them,
// defined as "login" so that it renders without the signed-in layout.
func (s *Server) parseTemplates() error {
	pages, err := s.uiTemplates()
	if err != nil {
		return fmt.Errorf("web: templates: %w", err)
	}
	s.pages = pages
	if s.loginPage = pages["login"].Lookup("login"); s.loginPage == nil {
		return errors.New("web: templates: no login page")
	}
	return nil
}

type loginView struct {
	Action, CSRF, Next, Username, Error string
}

// getLogin shows the form with a fresh double-submit CSRF token: the same
// random value in an HttpOnly cookie and a hidden field. A forged form
// from another site cannot read the cookie to copy it.
func (s *Server) getLogin(w http.ResponseWriter, r *http.Request) {
	if sess := s.sessionOf(r); sess != nil {
		http.Redirect(w, r, s.nextURL(r.URL.Query().Get("next")), http.StatusFound)
		return
	}
	s.renderLogin(w, r, http.StatusOK, loginView{Next: r.URL.Query().Get("next")})
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, v loginView) {
	v.CSRF = rand.Text()
	// Reuse the browser's token if it has one: a second load of the login
	// page (another tab, or a browser following the redirect for
	// /favicon.ico) must not invalidate the form already shown.
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == len(v.CSRF) {
		v.CSRF = c.Value
	}
	v.Action = s.path("/login")
	http.SetCookie(w, s.cookie(r, csrfCookie, v.CSRF, 3600))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := s.loginPage.Execute(w, v); err != nil {
		s.log.Error("render login page", "err", err)
	}
}

// postLogin signs a user in: CSRF token, rate limit, password; then a new
// session ID in a fresh cookie.
func (s *Server) postLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "400 Bad Request: unreadable form", http.StatusBadRequest)
		return
	}
	c, err := r.Cookie(csrfCookie)
	token := r.PostForm.Get("csrf_token")
	if err != nil || token == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(token)) != 1 {
		s.forbidden(w, r, "CSRF token missing or invalid: reload the login page and try again.")
		return
	}
	username, password := strings.TrimSpace(r.PostForm.Get("username")), r.PostForm.Get("password")
	view := loginView{Next: r.PostForm.Get("next"), Username: username}
	u, err := s.checkPassword(r, username, password)
	var rl *rateLimitedError
	switch {
	case errors.As(err, &rl):
		s.authFailed(w, r, err)
		return
	case errors.Is(err, errBadCredentials):
		s.audit(r, store.Event{Event: "login.failed", Owner: username, Extra: "remote=" + clientIP(r)})
		view.Error = "Invalid username or password."
		s.renderLogin(w, r, http.StatusUnauthorized, view)
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	if old := s.sessionOf(r); old != nil {
		s.sessions.delete(old.id)
	}
	sessionID, _ := s.sessions.create(u.Username)
	// No Max-Age: the cookie ends with the browser; the server ends the
	// session after its lifetime or idle time anyway.
	http.SetCookie(w, s.cookie(r, sessionCookie, sessionID, 0))
	http.SetCookie(w, s.cookie(r, csrfCookie, "", -1))
	u.LastLogin = s.now()
	if err := s.store.UpdateUser(r.Context(), u); err != nil {
		s.log.Warn("record last login", "user", u.Username, "err", err)
	}
	s.audit(r, store.Event{Event: "login", Owner: u.Username, Extra: "remote=" + clientIP(r)})
	http.Redirect(w, r, s.nextURL(view.Next), http.StatusSeeOther)
}

// logout ends the session. It is public so that a stale cookie can always
// be cleared; it changes nothing but the caller's own session.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if sess := s.sessionOf(r); sess != nil {
		s.sessions.delete(sess.id)
		s.audit(r, store.Event{Event: "logout", Owner: sess.username})
	}
	http.SetCookie(w, s.cookie(r, sessionCookie, "", -1))
	http.Redirect(w, r, s.path("/login"), http.StatusSeeOther)
}

// nextURL accepts only a path on this server as the place to go after
// signing in, so the login page cannot be used as an open redirect.
func (s *Server) nextURL(next string) string {
	home := s.path("/")
	if next == "" || !strings.HasPrefix(next, s.base+"/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return home
	}
	return next
}
