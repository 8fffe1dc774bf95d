package web

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/airctl/airctl/workflow/store"
)

// NewUser is what `aird users create` asks for.
type NewUser struct {
	Username string
	Email    string
	Role     string // Admin, Op, User or Viewer, any letter case
	// Password empty means generate one.
	Password string
	// Cost is the bcrypt cost; zero means bcrypt.DefaultCost. Tests lower it.
	Cost int
}

// minPasswordLen is enforced on chosen passwords; generated ones are 26
// random characters.
const minPasswordLen = 8

// CreateUser stores an active user with a bcrypt hash of the password. It
// returns the password it generated when none was given, so the caller
// can show it once; it is stored nowhere in clear.
func CreateUser(ctx context.Context, st store.Store, n NewUser) (store.User, string, error) {
	role, ok := ParseRole(n.Role)
	if !ok {
		return store.User{}, "", fmt.Errorf("role %q: want Admin, Op, User or Viewer", n.Role)
	}
	// Basic auth splits "user:password" at the first colon.
	if n.Username == "" || strings.ContainsAny(n.Username, ": \t\r\n") {
		return store.User{}, "", fmt.Errorf("username %q: want a non-empty name without spaces or colons", n.Username)
	}
	if !strings.Contains(n.Email, "@") {
		return store.User{}, "", fmt.Errorf("email %q: want an email address", n.Email)
	}
	generated := ""
	if n.Password == "" {
		generated = rand.Text()
		n.Password = generated
	} else if len(n.Password) < minPasswordLen {
		return store.User{}, "", fmt.Errorf("password: use at least %d characters (or omit it to have one generated)", minPasswordLen)
	}
	cost := n.Cost
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(n.Password), cost)
	if errors.Is(err, bcrypt.ErrPasswordTooLong) {
		return store.User{}, "", errors.New("password: bcrypt takes at most 72 bytes")
	}
	if err != nil {
		return store.User{}, "", fmt.Errorf("hash password: %w", err)
	}
	u, err := st.CreateUser(ctx, store.User{Username: n.Username, Email: n.Email, Role: role, PasswordHash: string(hash), Active: true})
	if errors.Is(err, store.ErrAlreadyExists) {
		return store.User{}, "", fmt.Errorf("user %q already exists", n.Username)
	}
	if err != nil {
		return store.User{}, "", fmt.Errorf("create user %s: %w", n.Username, err)
	}
	return u, generated, nil
}
