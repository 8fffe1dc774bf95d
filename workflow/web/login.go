package web

import (
	"context"
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
	// A fresh session replaces any cookie the browser had, so a session
	// planted before sign-in (fixation) is worthless.
	if err := s.setSession(w, r, newSession(u.Username, u.SessionGen, s.now())); err != nil {
		s.fail(w, r, err)
		return
	}
	http.SetCookie(w, s.cookie(r, csrfCookie, "", -1))
	u.LastLogin = s.now()
	if err := s.store.UpdateUser(r.Context(), u); err != nil {
		s.log.Warn("record last login", "user", u.Username, "err", err)
	}
	s.audit(r, store.Event{Event: "login", Owner: u.Username, Extra: "remote=" + clientIP(r)})
	http.Redirect(w, r, s.nextURL(view.Next), http.StatusSeeOther)
}

// logout ends the session. It is public so that a stale cookie can always
// be cleared. A cookie may have been copied, so deleting it is not enough:
// bumping the user's session generation in the store revokes it in every
// webserver process (and the user's other sessions with it). Only a
// cookie that is still valid can do that, so it affects only its owner.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, s.cookie(r, sessionCookie, "", -1))
	if sess := s.sessionOf(r); sess != nil {
		if err := s.revokeSessions(r.Context(), sess); err != nil {
			s.fail(w, r, err)
			return
		}
		s.audit(r, store.Event{Event: "logout", Owner: sess.Username})
	}
	http.Redirect(w, r, s.path("/login"), http.StatusSeeOther)
}

// revokeSessions moves the user past the session's generation; one
// already past it (an earlier logout) is left alone.
func (s *Server) revokeSessions(ctx context.Context, sess *session) error {
	u, err := s.store.GetUser(ctx, sess.Username)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.SessionGen != sess.Gen) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sign out %s: %w", sess.Username, err)
	}
	u.SessionGen++
	if err := s.store.UpdateUser(ctx, u); err != nil {
		return fmt.Errorf("sign out %s: %w (the session stays valid until it expires; try again)", sess.Username, err)
	}
	return nil
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
