package operator

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/airctl/airctl/workflow/connections"
)

// SQL runs a statement (or a file of statements) against a Postgres
// connection; its output is the first cell of the first row returned.
type SQL struct {
	ConnID    string
	Statement string
	File      string // read instead of Statement; relative to the DAG folder
	// Parameters fill $1, $2, ... in Statement.
	Parameters []any
	// Check, when set, runs afterwards; its first cell must be truthy.
	Check string
}

// Run executes the statement and the check in one session.
func (s *SQL) Run(ctx context.Context, env *Env) (Result, error) {
	stmt, err := s.statement(env)
	if err != nil {
		return Result{}, err
	}
	conn, err := connectPostgres(ctx, env, s.ConnID)
	if err != nil {
		return Result{}, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	env.logf("running SQL on connection %s:\n%s", s.ConnID, stmt)
	out, _, err := firstCell(ctx, conn, stmt, s.Parameters)
	if err != nil {
		return Result{}, fmt.Errorf("sql on connection %s: %w", s.ConnID, err)
	}
	if s.Check != "" {
		cell, found, err := firstCell(ctx, conn, s.Check, nil)
		if err != nil {
			return Result{}, fmt.Errorf("sql check on connection %s: %w", s.ConnID, err)
		}
		if !found || !truthy(cell) {
			return Result{}, fmt.Errorf("sql check failed: %q returned %q, not a true value", s.Check, cell)
		}
		env.logf("check passed: %s", cell)
	}
	return Result{Output: out}, nil
}

func (s *SQL) statement(env *Env) (string, error) {
	if s.File == "" {
		return s.Statement, nil
	}
	path := s.File
	if !filepath.IsAbs(path) {
		path = filepath.Join(env.BaseDir, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read sql file: %w", err)
	}
	return string(data), nil
}

// firstCell runs sql and returns the first cell of the first row in its
// text form, and whether there was one. The simple protocol allows files
// of several statements and gives text values; pgx still escapes the
// parameters client-side.
func firstCell(ctx context.Context, conn *pgx.Conn, sql string, params []any) (string, bool, error) {
	args := append([]any{pgx.QueryExecModeSimpleProtocol}, params...)
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		return "", false, err
	}
	defer rows.Close()
	var cell string
	found := false
	if rows.Next() {
		raw := rows.RawValues()
		found = len(raw) > 0
		if found && raw[0] != nil { // NULL reads as ""
			cell = string(raw[0])
		}
	}
	rows.Close()
	return cell, found, rows.Err()
}

// connectPostgres opens a session on a postgres connection: host, port,
// login, password, schema (the database) and extra libpq parameters such
// as {"sslmode": "require"}.
func connectPostgres(ctx context.Context, env *Env, connID string) (*pgx.Conn, error) {
	c, err := env.conn(ctx, connID)
	if err != nil {
		return nil, err
	}
	if c.ConnType != "postgres" && c.ConnType != "postgresql" {
		return nil, fmt.Errorf("connection %s has type %q; sql tasks need a postgres connection", connID, c.ConnType)
	}
	dsn, err := postgresDSN(c)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("connect to %s (%s:%d): %w", connID, c.Host, c.Port, err)
	}
	return conn, nil
}

func postgresDSN(c connections.Connection) (string, error) {
	port := c.Port
	if port == 0 {
		port = 5432
	}
	u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(c.Host, strconv.Itoa(port)), Path: "/" + c.Schema}
	if c.Login != "" {
		u.User = url.UserPassword(c.Login, c.Password)
	}
	q := url.Values{}
	if c.Extra != "" {
		var extra map[string]any
		if err := json.Unmarshal([]byte(c.Extra), &extra); err != nil {
			return "", fmt.Errorf("connection %s: extra must be a JSON object of libpq parameters: %w", c.ConnID, err)
		}
		for k, v := range extra {
			q.Set(k, fmt.Sprint(v))
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// SQLPoker is the sql sensor: met when the first cell is truthy.
type SQLPoker struct {
	ConnID     string
	Statement  string
	Parameters []any
}

// Poke runs the statement once.
func (p *SQLPoker) Poke(ctx context.Context, env *Env) (bool, error) {
	conn, err := connectPostgres(ctx, env, p.ConnID)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	cell, found, err := firstCell(ctx, conn, p.Statement, p.Parameters)
	if err != nil {
		return false, fmt.Errorf("sql sensor on connection %s: %w", p.ConnID, err)
	}
	if !found || !truthy(cell) {
		env.logf("not yet: %q returned %q", p.Statement, cell)
		return false, nil
	}
	return true, nil
}
