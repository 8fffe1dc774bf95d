package sqlite

import (
	"context"
	"fmt"

	"github.com/airctl/airctl/workflow/store"
)

func scanVariable(sc scanner) (store.Variable, error) {
	var v store.Variable
	err := sc.Scan(&v.Key, &v.Value, &v.Description, &v.Secret)
	return v, err
}

func (s *Store) GetVariable(ctx context.Context, key string) (store.Variable, error) {
	v, err := scanVariable(s.r.QueryRowContext(ctx, `SELECT key, val, description, is_secret FROM variable WHERE key = ?`, key))
	if err != nil {
		return store.Variable{}, fmt.Errorf("get variable %s: %w", key, dbErr(err))
	}
	return v, nil
}

// SetVariable creates or replaces the variable.
func (s *Store) SetVariable(ctx context.Context, v store.Variable) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO variable (key, val, description, is_secret) VALUES (?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET val = excluded.val, description = excluded.description,
			is_secret = excluded.is_secret`,
		v.Key, v.Value, v.Description, v.Secret)
	if err != nil {
		return fmt.Errorf("set variable %s: %w", v.Key, err)
	}
	return nil
}

func (s *Store) DeleteVariable(ctx context.Context, key string) error {
	if err := s.exec(ctx, `DELETE FROM variable WHERE key = ?`, key); err != nil {
		return fmt.Errorf("delete variable %s: %w", key, err)
	}
	return nil
}

func (s *Store) ListVariables(ctx context.Context) ([]store.Variable, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT key, val, description, is_secret FROM variable ORDER BY key`)
	vs, err := scanAll(rows, err, scanVariable)
	if err != nil {
		return nil, fmt.Errorf("list variables: %w", err)
	}
	return vs, nil
}

func scanPool(sc scanner) (store.Pool, error) {
	var p store.Pool
	err := sc.Scan(&p.Name, &p.Slots, &p.Description)
	return p, err
}

func (s *Store) GetPool(ctx context.Context, name string) (store.Pool, error) {
	p, err := scanPool(s.r.QueryRowContext(ctx, `SELECT pool, slots, description FROM slot_pool WHERE pool = ?`, name))
	if err != nil {
		return store.Pool{}, fmt.Errorf("get pool %s: %w", name, dbErr(err))
	}
	return p, nil
}

// SetPool creates or replaces the pool.
func (s *Store) SetPool(ctx context.Context, p store.Pool) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO slot_pool (pool, slots, description) VALUES (?, ?, ?)
		ON CONFLICT (pool) DO UPDATE SET slots = excluded.slots, description = excluded.description`,
		p.Name, p.Slots, p.Description)
	if err != nil {
		return fmt.Errorf("set pool %s: %w", p.Name, err)
	}
	return nil
}

// DeletePool refuses the default pool, as Airflow does: tasks without a
// pool rely on it.
func (s *Store) DeletePool(ctx context.Context, name string) error {
	if name == store.DefaultPool {
		return fmt.Errorf("delete pool %s: the default pool cannot be deleted", name)
	}
	if err := s.exec(ctx, `DELETE FROM slot_pool WHERE pool = ?`, name); err != nil {
		return fmt.Errorf("delete pool %s: %w", name, err)
	}
	return nil
}

func (s *Store) ListPools(ctx context.Context) ([]store.Pool, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT pool, slots, description FROM slot_pool ORDER BY pool`)
	ps, err := scanAll(rows, err, scanPool)
	if err != nil {
		return nil, fmt.Errorf("list pools: %w", err)
	}
	return ps, nil
}

const userCols = `id, username, email, role, password, active, created_on, last_login, session_gen`

func scanUser(sc scanner) (store.User, error) {
	var u store.User
	err := sc.Scan(&u.ID, &u.Username, &u.Email, &u.Role, &u.PasswordHash, &u.Active,
		timeCol{&u.CreatedAt}, timeCol{&u.LastLogin}, &u.SessionGen)
	return u, err
}

// CreateUser inserts u and returns it with its ID; a zero CreatedAt
// becomes now.
func (s *Store) CreateUser(ctx context.Context, u store.User) (store.User, error) {
	if u.CreatedAt.IsZero() {
		u.CreatedAt = now()
	}
	u.CreatedAt, u.LastLogin = utc(u.CreatedAt), utc(u.LastLogin)
	res, err := s.w.ExecContext(ctx, `INSERT INTO users (username, email, role, password, active,
		created_on, last_login, session_gen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, u.Username, u.Email, u.Role,
		u.PasswordHash, u.Active, dbTime(u.CreatedAt), dbTime(u.LastLogin), u.SessionGen)
	if err == nil {
		u.ID, err = res.LastInsertId()
	}
	if err != nil {
		return store.User{}, fmt.Errorf("create user %s: %w", u.Username, dbErr(err))
	}
	return u, nil
}

func (s *Store) GetUser(ctx context.Context, username string) (store.User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE username = ?`, username))
	if err != nil {
		return store.User{}, fmt.Errorf("get user %s: %w", username, dbErr(err))
	}
	return u, nil
}

// UpdateUser writes the user named u.Username; its ID and CreatedAt are
// kept, and SessionGen never goes down (a stale read must not revive
// revoked sessions).
func (s *Store) UpdateUser(ctx context.Context, u store.User) error {
	err := s.exec(ctx, `UPDATE users SET email = ?, role = ?, password = ?, active = ?, last_login = ?,
		session_gen = MAX(session_gen, ?) WHERE username = ?`, u.Email, u.Role, u.PasswordHash, u.Active, dbTime(u.LastLogin), u.SessionGen, u.Username)
	if err != nil {
		return fmt.Errorf("update user %s: %w", u.Username, err)
	}
	return nil
}

func (s *Store) DeleteUser(ctx context.Context, username string) error {
	if err := s.exec(ctx, `DELETE FROM users WHERE username = ?`, username); err != nil {
		return fmt.Errorf("delete user %s: %w", username, err)
	}
	return nil
}

func (s *Store) ListUsers(ctx context.Context) ([]store.User, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY username`)
	us, err := scanAll(rows, err, scanUser)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}
