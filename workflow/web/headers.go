package web

import (
	"mime"
	"net/http"
	"strings"
)

// contentSecurityPolicy allows only the server's own scripts, styles and
// images: no inline script, no framing, forms post only back here.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// setSecurityHeaders sets the headers every answer carries.
func setSecurityHeaders(w http.ResponseWriter, secure bool) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if secure {
		// Only over HTTPS: on plain HTTP the header is ignored anyway, and a
		// local or test server must stay reachable over http.
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
}

// isSecure reports whether the client talks HTTPS to us or to the load
// balancer in front of us, which says so in X-Forwarded-Proto.
func (s *Server) isSecure(r *http.Request) bool {
	if s.secure || r.TLS != nil {
		return true
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}

// hasMediaType compares a Content-Type header's media type, ignoring
// parameters such as charset.
func hasMediaType(header, want string) bool {
	mt, _, err := mime.ParseMediaType(header)
	return err == nil && mt == want
}
