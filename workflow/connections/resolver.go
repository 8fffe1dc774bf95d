package connections

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/airctl/airctl/workflow/secrets"
	"github.com/airctl/airctl/workflow/store"
)

// EnvPrefix + upper-cased ID names the environment variable that defines a
// connection, overriding the store.
const EnvPrefix = "AIRD_CONN_"

// EnvName is the environment variable that overrides connection id.
func EnvName(id string) string { return EnvPrefix + strings.ToUpper(id) }

// Repo reads and writes connections in the metadata store, encrypted with
// a keyring.
type Repo struct {
	st   store.Store
	keys *secrets.Keyring
}

// NewRepo returns a repo on st; keys may be nil, and then every method
// explains that AIRD_ENCRYPTION_KEY is needed.
func NewRepo(st store.Store, keys *secrets.Keyring) *Repo { return &Repo{st: st, keys: keys} }

func (r *Repo) keyring() (*secrets.Keyring, error) {
	if r.keys == nil {
		return nil, fmt.Errorf("stored connections are encrypted and %w: add it to the env file of every aird process (generate one with `aird connections generate-key`)", secrets.ErrNoKey)
	}
	return r.keys, nil
}

// Set validates, encrypts and stores c, replacing a connection of the
// same ID.
func (r *Repo) Set(ctx context.Context, c Connection) error {
	if err := c.Validate(); err != nil {
		return err
	}
	keys, err := r.keyring()
	if err != nil {
		return err
	}
	return r.st.SetConnection(ctx, seal(keys, c))
}

func seal(keys *secrets.Keyring, c Connection) store.Connection {
	plain, _ := c.MarshalJSON() // plain fields and a validated JSON extra always marshal
	return store.Connection{ConnID: c.ConnID, ConnType: c.ConnType, Description: c.Description,
		Ciphertext: keys.Encrypt(plain, []byte(c.ConnID))}
}

func open(keys *secrets.Keyring, sc store.Connection) (Connection, error) {
	plain, err := keys.Decrypt(sc.Ciphertext, []byte(sc.ConnID))
	if err != nil {
		return Connection{}, fmt.Errorf("connection %s: %w", sc.ConnID, err)
	}
	return ParseJSON(sc.ConnID, plain)
}

// Get reads and decrypts one stored connection.
func (r *Repo) Get(ctx context.Context, id string) (Connection, error) {
	keys, err := r.keyring()
	if err != nil {
		return Connection{}, err
	}
	sc, err := r.st.GetConnection(ctx, id)
	if err != nil {
		return Connection{}, err
	}
	return open(keys, sc)
}

// List reads and decrypts every stored connection, ordered by ID.
func (r *Repo) List(ctx context.Context) ([]Connection, error) {
	keys, err := r.keyring()
	if err != nil {
		return nil, err
	}
	scs, err := r.st.ListConnections(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Connection, 0, len(scs))
	for _, sc := range scs {
		c, err := open(keys, sc)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Delete removes a stored connection.
func (r *Repo) Delete(ctx context.Context, id string) error { return r.st.DeleteConnection(ctx, id) }

// Rotate re-encrypts with the keyring's first key every connection sealed
// with another one, and returns how many it rewrote. Once it succeeds the
// old keys can be removed from AIRD_ENCRYPTION_KEY. It stops at the first
// connection no key opens, naming it.
func (r *Repo) Rotate(ctx context.Context) (int, error) {
	keys, err := r.keyring()
	if err != nil {
		return 0, err
	}
	scs, err := r.st.ListConnections(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sc := range scs {
		if keys.IsPrimary(sc.Ciphertext) {
			continue
		}
		c, err := open(keys, sc)
		if err != nil {
			return n, err
		}
		if err := r.st.SetConnection(ctx, seal(keys, c)); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Resolver finds connections for tasks: AIRD_CONN_<ID> first, then the
// store.
type Resolver struct {
	repo   *Repo
	getenv func(string) string
}

// NewResolver reads the environment through getenv (os.Getenv in
// production) and the store through a Repo with keys, which may be nil
// when only environment connections are used.
func NewResolver(st store.Store, keys *secrets.Keyring, getenv func(string) string) *Resolver {
	return &Resolver{repo: NewRepo(st, keys), getenv: getenv}
}

// Get returns connection id. When neither the environment nor the store
// has it, the error wraps store.ErrNotFound and says how to add it.
func (r *Resolver) Get(ctx context.Context, id string) (Connection, error) {
	if v := strings.TrimSpace(r.getenv(EnvName(id))); v != "" {
		if strings.HasPrefix(v, "{") {
			return ParseJSON(id, []byte(v))
		}
		return ParseURI(id, v)
	}
	c, err := r.repo.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Connection{}, fmt.Errorf("connection %q is not defined: add it with `aird connections add %s --conn-uri ...`, the REST API, or the environment variable %s: %w",
			id, id, EnvName(id), err)
	}
	return c, err
}
