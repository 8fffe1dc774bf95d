package monitor

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/airctl/airctl/workflow/store"
)

// The webserver's authentication lives unexported inside workflow/web,
// tied to its sessions and rate limiter; flower needs only HTTP Basic
// against the same users, so it checks the store's bcrypt hashes itself.
// Any active user may look: flower only reads.

// protect answers 401 with a Basic challenge unless the request carries
// an active user's credentials.
func (s *Server) protect(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if ok {
			err := s.auth.check(r.Context(), user, pass)
			if err == nil {
				h(w, r)
				return
			}
			if !errors.Is(err, errBadCredentials) {
				s.log.Error("flower: check credentials", "err", err)
				http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
				return
			}
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="aird flower", charset="UTF-8"`)
		http.Error(w, "401 Unauthorized: sign in with an aird user (aird users create)", http.StatusUnauthorized)
	})
}

var errBadCredentials = errors.New("invalid username or password")

// authenticator verifies Basic credentials. The page refreshes itself
// and API clients send credentials on every call, so credentials verified
// recently are remembered (as a hash with the stored bcrypt hash: a
// password change or a new user invalidates them) to spare a bcrypt per
// request.
type authenticator struct {
	st  store.Store
	log *slog.Logger

	mu    sync.Mutex
	known map[[sha256.Size]byte]time.Time
	// dummy is compared against for unknown users so the answer takes as
	// long as for a known one and does not reveal which users exist; its
	// cost follows the last real hash seen (DefaultCost until then).
	dummy     []byte
	dummyCost int
}

const (
	credTTL     = 5 * time.Minute
	credMaxKeep = 1024
)

func newAuthenticator(st store.Store, log *slog.Logger) *authenticator {
	return &authenticator{
		st: st, log: log, known: map[[sha256.Size]byte]time.Time{}, dummyCost: bcrypt.DefaultCost,
	}
}

func (a *authenticator) check(ctx context.Context, username, password string) error {
	u, err := a.st.GetUser(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		_ = bcrypt.CompareHashAndPassword(a.dummyHash(), []byte(password))
		return errBadCredentials
	}
	if err != nil {
		return err
	}
	if !u.Active {
		return errBadCredentials
	}
	a.seenCost(u.PasswordHash)
	key := sha256.Sum256([]byte(u.Username + "\x00" + password + "\x00" + u.PasswordHash))
	if a.remembered(key) {
		return nil
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
		a.log.Info("flower: failed login", "username", username)
		return errBadCredentials
	}
	a.remember(key)
	return nil
}

func (a *authenticator) remembered(key [sha256.Size]byte) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	at, ok := a.known[key]
	if ok && time.Since(at) > credTTL {
		delete(a.known, key)
		return false
	}
	return ok
}

func (a *authenticator) remember(key [sha256.Size]byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.known) >= credMaxKeep {
		clear(a.known)
	}
	a.known[key] = time.Now()
}

func (a *authenticator) seenCost(hash string) {
	cost, err := bcrypt.Cost([]byte(hash))
	if err != nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if cost != a.dummyCost {
		a.dummyCost, a.dummy = cost, nil
	}
}

func (a *authenticator) dummyHash() []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.dummy == nil {
		// Generated under the lock: rare (once per cost), and concurrent
		// unknown-user requests then wait rather than each hashing.
		a.dummy, _ = bcrypt.GenerateFromPassword([]byte("aird flower dummy"), a.dummyCost)
	}
	return a.dummy
}
