package operator_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/airctl/airctl/internal/testenv"
	"github.com/airctl/airctl/workflow/connections"
	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/operator"
)

// warehouse is a fresh Postgres database as connection "warehouse", with
// a direct session for the test's own checks.
func warehouse(t *testing.T) (connections.Connection, *pgx.Conn) {
	t.Helper()
	pg := testenv.Postgres(t)
	dsn := pg.CreateDatabase(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	conn := connections.Connection{
		ConnID: "warehouse", ConnType: "postgres", Host: u.Hostname(), Port: port,
		Login: u.User.Username(), Schema: strings.TrimPrefix(u.Path, "/"), Extra: `{"sslmode": "disable"}`,
	}
	db, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	if _, err := db.Exec(t.Context(), `CREATE TABLE events (day date, n int)`); err != nil {
		t.Fatal(err)
	}
	return conn, db
}

func TestSQLOperator(t *testing.T) {
	conn, db := warehouse(t)
	env := &operator.Env{Conns: conns{"warehouse": conn}, BaseDir: t.TempDir()}
	rc := dag.RunContext{LogicalDate: time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC), Params: nil}

	insert := build(t, `
    sql {
      conn_id    = "warehouse"
      statement  = "INSERT INTO events VALUES ($1, $2), ($1, $3) RETURNING n * 10"
      parameters = [run.ds, 4, 5]
      check      = "SELECT count(*) = 2 FROM events"
    }`, rc)
	res, err := insert.Run(t.Context(), env)
	if err != nil {
		t.Fatal(err)
	}
	if res.Output != "40" {
		t.Errorf("output = %q, want the first cell 40", res.Output)
	}
	var day time.Time
	if err := db.QueryRow(t.Context(), `SELECT min(day) FROM events`).Scan(&day); err != nil || !day.Equal(rc.LogicalDate) {
		t.Errorf("day = %v %v, want the run's ds", day, err)
	}

	// A file of several statements; the output is the first cell of the first result.
	if err := os.WriteFile(filepath.Join(env.BaseDir, "q.sql"), []byte("SELECT sum(n) FROM events;\nDELETE FROM events WHERE n = 4;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err = build(t, `
    sql {
      conn_id = "warehouse"
      file    = "q.sql"
    }`, rc).Run(t.Context(), env)
	if err != nil || res.Output != "9" {
		t.Errorf("file: output %q err %v, want 9", res.Output, err)
	}
	var left int
	if err := db.QueryRow(t.Context(), `SELECT count(*) FROM events`).Scan(&left); err != nil || left != 1 {
		t.Errorf("rows left = %d %v, want 1: every statement of the file ran", left, err)
	}
}

func TestSQLOperatorFailures(t *testing.T) {
	conn, _ := warehouse(t)
	web := connections.Connection{ConnID: "web", ConnType: "http", Host: "example.invalid"}
	env := &operator.Env{Conns: conns{"warehouse": conn, "web": web}}
	cases := []struct{ name, body, want string }{
		{"check fails", `sql {
      conn_id   = "warehouse"
      statement = "SELECT 1"
      check     = "SELECT count(*) FROM events"
    }`, `sql check failed: "SELECT count(*) FROM events" returned "0"`},
		{"bad sql", `sql {
      conn_id   = "warehouse"
      statement = "SELEC 1"
    }`, `syntax error at or near "SELEC"`},
		{"wrong conn type", `sql {
      conn_id   = "web"
      statement = "SELECT 1"
    }`, `connection web has type "http"; sql tasks need a postgres connection`},
		{"missing file", `sql {
      conn_id = "warehouse"
      file    = "/nonexistent/q.sql"
    }`, "read sql file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := build(t, c.body, dag.RunContext{}).Run(t.Context(), env)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want containing %q", err, c.want)
			}
		})
	}
}

func TestSQLSensor(t *testing.T) {
	conn, db := warehouse(t)
	op := build(t, `
    wait_for {
      sql {
        conn_id    = "warehouse"
        statement  = "SELECT count(*) >= $1 FROM events"
        parameters = [2]
      }
      poke_interval = "1h"
      mode          = "reschedule"
    }`, dag.RunContext{})
	env := &operator.Env{Conns: conns{"warehouse": conn}}
	res, err := op.Run(t.Context(), env)
	if err != nil || res.NextPoke.IsZero() {
		t.Fatalf("empty table: %+v %v, want rescheduled", res, err)
	}
	if _, err := db.Exec(t.Context(), `INSERT INTO events VALUES (now(), 1), (now(), 2)`); err != nil {
		t.Fatal(err)
	}
	res, err = op.Run(t.Context(), env)
	if err != nil || !res.NextPoke.IsZero() {
		t.Errorf("filled table: %+v %v, want condition met", res, err)
	}
}
