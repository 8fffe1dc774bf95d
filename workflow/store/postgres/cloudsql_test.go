package postgres

import (
	"context"
	"fmt"
	"net"
	"reflect"
	"strconv"
	"sync"
	"testing"

	"cloud.google.com/go/cloudsqlconn"
	"github.com/jackc/pgx/v5"

	"github.com/airctl/airctl/internal/testenv"
	"github.com/airctl/airctl/workflow/store"
)

func TestIsInstanceConnName(t *testing.T) {
	for host, want := range map[string]bool{
		"my-project:us-central1:airflow-db":      true,
		"example.com:my-project:europe-west1:db": true, // domain-scoped project
		"p:r:i":                                  true,
		"10.0.0.3":                               false,
		"db.internal":                            false,
		"localhost":                              false,
		"db.internal:5432":                       false, // host:port, two parts
		"::1":                                    false, // IPv6 has colons too
		"2001:db8::5":                            false,
		"fe80::1%eth0":                           false,
		"/var/run/postgresql":                    false, // socket directory
		"/cloudsql/my-project:us-central1:airflow-db":  false, // the Auth Proxy's socket: plain pgx
		"My-Project:us-central1:db":                    false,
		"my-project:us-central1:":                      false,
		"my-project::db":                               false,
		"a:b:c:d:e":                                    false,
		"my-project:us-central1:airflow-db,10.0.0.4":   false,
		"my-project:us-central1:airflow_db":            false,
		"my-project:us-central1:airflow-db.example.io": false,
	} {
		if got := isInstanceConnName(host); got != want {
			t.Errorf("isInstanceConnName(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestCloudSQLTargetOf(t *testing.T) {
	tests := []struct {
		dsn     string
		want    *cloudSQLTarget
		wantErr bool
	}{
		{dsn: "host=10.0.0.3 user=airflow dbname=airflow"},
		{dsn: "postgres://airflow:pw@db.internal:5432/airflow?sslmode=require"},
		{dsn: "host=/var/run/postgresql dbname=airflow"},
		{dsn: "host=my-project:us-central1:db user=airflow password=pw dbname=airflow",
			want: &cloudSQLTarget{Instance: "my-project:us-central1:db", IPType: "public"}},
		{dsn: "postgres://airflow:pw@/airflow?host=my-project:us-central1:db&cloudsql_ip_type=PRIVATE",
			want: &cloudSQLTarget{Instance: "my-project:us-central1:db", IPType: "private"}},
		{dsn: "host=example.com:p:r:i cloudsql_ip_type=psc cloudsql_iam_authn=true user=sa@p.iam",
			want: &cloudSQLTarget{Instance: "example.com:p:r:i", IPType: "psc", IAMAuthN: true}},
		{dsn: "host=p:r:i cloudsql_ip_type=internal", wantErr: true},
		{dsn: "host=p:r:i cloudsql_iam_authn=maybe", wantErr: true},
		{dsn: "host=10.0.0.3 cloudsql_ip_type=private", wantErr: true},
		{dsn: "host=p:r:i,10.0.0.4 cloudsql_iam_authn=true", wantErr: true},
	}
	for _, tt := range tests {
		cfg, err := pgx.ParseConfig(tt.dsn)
		if err != nil {
			t.Fatalf("%s: %v", tt.dsn, err)
		}
		got, err := cloudSQLTargetOf(cfg)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err = %v, want error %v", tt.dsn, err, tt.wantErr)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: target = %+v, want %+v", tt.dsn, got, tt.want)
		}
		// pgx would send these to the server, which rejects unknown ones.
		for _, p := range []string{paramIPType, paramIAMAuthN} {
			if _, ok := cfg.RuntimeParams[p]; ok {
				t.Errorf("%s: %s left in the run-time parameters", tt.dsn, p)
			}
		}
	}
}

// fakeDialer stands in for the Cloud SQL connector: it connects to a local
// server and records what it was asked for.
type fakeDialer struct {
	addr string

	mu        sync.Mutex
	instances []string
	nopts     []int
	closed    bool
}

func (d *fakeDialer) Dial(ctx context.Context, instance string, opts ...cloudsqlconn.DialOption) (net.Conn, error) {
	d.mu.Lock()
	d.instances = append(d.instances, instance)
	d.nopts = append(d.nopts, len(opts))
	d.mu.Unlock()
	var nd net.Dialer
	return nd.DialContext(ctx, "tcp", d.addr)
}

func (d *fakeDialer) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	return nil
}

// testCloudSQLDialPath runs the store over the connector wiring with the
// fake dialer: the instance name is not resolved or dialled by pgx, pgx adds
// no TLS (sslmode=require would fail on the test server, which has none),
// migrations go through the same dialer, and Close closes it. The real
// connector is not exercised: it needs Google credentials and the API.
func testCloudSQLDialPath(t *testing.T, srv *testenv.PostgresServer) {
	local, err := pgx.ParseConfig(srv.CreateDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	const instance = "my-project:us-central1:airflow-db"
	dsn := fmt.Sprintf("host=%s user=%s dbname=%s sslmode=require cloudsql_ip_type=private",
		instance, local.User, local.Database)
	fake := &fakeDialer{addr: net.JoinHostPort(local.Host, strconv.Itoa(int(local.Port)))}
	var target *cloudSQLTarget
	s, err := open(t.Context(), dsn, func(_ context.Context, tg *cloudSQLTarget) (cloudSQLDialer, error) {
		target = tg
		return fake, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			s.Close()
		}
	})
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.SetVariable(t.Context(), store.Variable{Key: "k", Value: "v"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetVariable(t.Context(), "k"); err != nil {
		t.Fatal(err)
	}
	closed = true
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	if want := (&cloudSQLTarget{Instance: instance, IPType: "private"}); !reflect.DeepEqual(target, want) {
		t.Errorf("dialer made for %+v, want %+v", target, want)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.instances) == 0 {
		t.Fatal("the dialer was never used")
	}
	for i, inst := range fake.instances {
		if inst != instance || fake.nopts[i] != 1 {
			t.Errorf("dial %d: instance %q with %d options, want %q with 1 (private IP)", i, inst, fake.nopts[i], instance)
		}
	}
	if !fake.closed {
		t.Error("Close did not close the dialer")
	}
}
