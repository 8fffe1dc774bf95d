package testenv

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgSuperuser is the bootstrap superuser created by initdb. It authenticates
// with "trust", so DSNs carry no password.
const pgSuperuser = "postgres"

// PostgresServer is a throwaway PostgreSQL cluster listening on Host:Port.
type PostgresServer struct {
	Host string // always 127.0.0.1
	Port int
	User string // superuser, no password (trust authentication)
	proc *process
}

// Postgres initialises a fresh cluster in a temporary directory, starts it
// and stops it (fast shutdown) when the test ends. The server is tuned for
// speed, not durability: fsync, synchronous_commit and full_page_writes are
// off. When running as root (CI), the server runs as the "postgres" system
// user because PostgreSQL refuses to run as root.
func Postgres(t testing.TB) *PostgresServer {
	t.Helper()
	binDir, ok := postgresBinDir()
	if !ok {
		missingBinary(t, "PostgreSQL (initdb and postgres in PATH or /usr/lib/postgresql/*/bin)")
	}
	cred, err := postgresCredential()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	dir := privateTempDir(t, "airctl-pg-")
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatalf("testenv: chown %s: %v", dir, err)
		}
	}
	opts := procOptions{logPath: filepath.Join(dir, "postgres.log"), dir: dir, cred: cred}
	dataDir := filepath.Join(dir, "data")
	if err := initdb(binDir, dataDir, opts); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	s := &PostgresServer{Host: "127.0.0.1", User: pgSuperuser}
	port, err := startOnFreePort(func(port int) error {
		s.Port = port
		return s.start(binDir, dataDir, dir, opts)
	})
	if err != nil {
		t.Fatalf("testenv: start postgres on port %d: %v", port, err)
	}
	t.Cleanup(func() {
		// SIGINT is PostgreSQL's "fast shutdown": abort sessions, exit cleanly.
		if err := s.proc.stop(os.Interrupt); err != nil {
			t.Errorf("testenv: stop postgres: %v", err)
		}
	})
	return s
}

// DSN returns a postgres:// URL for the default "postgres" database.
func (s *PostgresServer) DSN() string { return s.dsn("postgres") }

func (s *PostgresServer) dsn(database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(s.User),
		Host:     net.JoinHostPort(s.Host, strconv.Itoa(s.Port)),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// CreateDatabase creates an empty database with a unique name and returns
// its DSN, so tests can share one server yet stay isolated. The database is
// dropped (forcibly closing leftover connections) when t ends.
func (s *PostgresServer) CreateDatabase(t testing.TB) string {
	t.Helper()
	name := "test_" + randomHex(8)
	if err := s.exec("CREATE DATABASE " + pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("testenv: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// WITH (FORCE) needs PostgreSQL 13+; it ends sessions the test leaked.
		if err := s.exec("DROP DATABASE IF EXISTS " + pgx.Identifier{name}.Sanitize() + " WITH (FORCE)"); err != nil {
			t.Errorf("testenv: drop database %s: %v", name, err)
		}
	})
	return s.dsn(name)
}

// exec runs one statement on the default database over a new connection.
func (s *PostgresServer) exec(sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.DSN())
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	return nil
}

// start launches the postmaster on s.Port and waits until it accepts
// connections.
func (s *PostgresServer) start(binDir, dataDir, sockDir string, opts procOptions) error {
	p, err := startProcess(opts, filepath.Join(binDir, "postgres"),
		"-D", dataDir,
		"-p", strconv.Itoa(s.Port),
		"-k", sockDir, // keep the socket out of /var/run/postgresql
		"-c", "listen_addresses="+s.Host,
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
	)
	if err != nil {
		return err
	}
	err = waitReady(p, func(ctx context.Context) error {
		conn, err := pgx.Connect(ctx, s.DSN())
		if err != nil {
			return err
		}
		return conn.Close(ctx)
	})
	if err != nil {
		return p.abort(err)
	}
	s.proc = p
	return nil
}

// initdb creates the cluster; --no-sync because the data is throwaway.
func initdb(binDir, dataDir string, opts procOptions) error {
	p, err := startProcess(opts, filepath.Join(binDir, "initdb"),
		"-D", dataDir, "-U", pgSuperuser, "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync")
	if err != nil {
		return err
	}
	<-p.done
	if p.waitErr != nil {
		return fmt.Errorf("initdb: %w\n--- initdb log ---\n%s", p.waitErr, p.output())
	}
	return nil
}

// postgresBinDir finds a directory holding both initdb and postgres: the one
// on PATH first, then Debian's /usr/lib/postgresql/<version>/bin, newest
// version first.
func postgresBinDir() (string, bool) {
	var dirs []string
	if p, err := exec.LookPath("initdb"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	versioned, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(versioned, func(a, b string) int {
		return -compareVersion(filepath.Base(filepath.Dir(a)), filepath.Base(filepath.Dir(b)))
	})
	for _, d := range append(dirs, versioned...) {
		_, errInit := exec.LookPath(filepath.Join(d, "initdb"))
		_, errPG := exec.LookPath(filepath.Join(d, "postgres"))
		if errInit == nil && errPG == nil {
			return d, true
		}
	}
	return "", false
}

// compareVersion orders versions such as "9.6" and "16" numerically;
// names that are not numbers sort first.
func compareVersion(a, b string) int {
	va, errA := strconv.ParseFloat(a, 64)
	if errA != nil {
		va = -1
	}
	vb, errB := strconv.ParseFloat(b, 64)
	if errB != nil {
		vb = -1
	}
	return cmp.Compare(va, vb)
}

// postgresCredential returns the identity to run PostgreSQL as: nil (the
// current user) unless we are root, which PostgreSQL refuses, in which case
// it is the "postgres" system user created by the Debian package.
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs the postgres system user (install the postgresql package): %w", err)
	}
	return credentialFor(u)
}
