package postgres

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"

	"cloud.google.com/go/cloudsqlconn"
	"github.com/jackc/pgx/v5"
)

// Cloud SQL through the Go connector (cloud.google.com/go/cloudsqlconn).
//
// When the DSN's host is an instance connection name instead of an address,
//
//	host=my-project:europe-west1:airflow-db user=airflow password=… dbname=airflow
//	postgres://airflow:…@/airflow?host=my-project:europe-west1:airflow-db
//
// every pool connection is dialled by the connector: it looks the instance
// up through the Cloud SQL Admin API with the process's Google credentials,
// and talks mTLS to the instance with an ephemeral certificate, so no
// authorised network, server CA or proxy process is needed. Two optional DSN
// settings, which are removed before pgx could send them to the server as
// run-time parameters:
//
//	cloudsql_ip_type=public|private|psc   which instance address to use (default public)
//	cloudsql_iam_authn=true               log in with IAM database authentication
//
// Any other host (a name, an IP, a socket directory) is plain TCP or a Unix
// socket as pgx does it. Offline tests cover recognising instance names and
// the pgx wiring (with a stand-in dialer); the connector itself needs Google
// credentials and the Admin API, so it is not exercised here.

const (
	paramIPType   = "cloudsql_ip_type"
	paramIAMAuthN = "cloudsql_iam_authn"
)

// cloudSQLTarget is an instance reached through the connector.
type cloudSQLTarget struct {
	Instance string // [domain:]project:region:instance
	IPType   string // "public", "private" or "psc"
	IAMAuthN bool
}

// instanceName matches an instance connection name: project:region:instance,
// where a domain-scoped project ID carries its domain (example.com:project).
// Lower case letters, digits and hyphens, as Google Cloud allows in those
// names; the domain may have dots.
var instanceName = regexp.MustCompile(`^(?:[a-z0-9][a-z0-9.-]*:)?[a-z][a-z0-9-]*:[a-z][a-z0-9-]*:[a-z][a-z0-9-]*$`)

// isInstanceConnName reports whether host is a Cloud SQL instance connection
// name rather than something pgx can dial. IPv6 addresses also have colons,
// so anything that parses as an IP is not one.
func isInstanceConnName(host string) bool {
	return net.ParseIP(host) == nil && instanceName.MatchString(host)
}

// cloudSQLTargetOf returns the connector target cfg names, or nil for a
// plain connection. It removes the cloudsql_* settings from cfg's run-time
// parameters in either case.
func cloudSQLTargetOf(cfg *pgx.ConnConfig) (*cloudSQLTarget, error) {
	ipType, hasIPType := cfg.RuntimeParams[paramIPType]
	iam, hasIAM := cfg.RuntimeParams[paramIAMAuthN]
	delete(cfg.RuntimeParams, paramIPType)
	delete(cfg.RuntimeParams, paramIAMAuthN)

	if !isInstanceConnName(cfg.Host) || hasOtherHosts(cfg) {
		if hasIPType || hasIAM {
			return nil, fmt.Errorf("%s and %s need a Cloud SQL instance connection name (project:region:instance) as the only host, not %q",
				paramIPType, paramIAMAuthN, cfg.Host)
		}
		return nil, nil
	}
	t := &cloudSQLTarget{Instance: cfg.Host, IPType: "public"}
	if hasIPType {
		switch ipType = strings.ToLower(ipType); ipType {
		case "public", "private", "psc":
			t.IPType = ipType
		default:
			return nil, fmt.Errorf("%s=%q: want public, private or psc", paramIPType, ipType)
		}
	}
	if hasIAM {
		b, err := strconv.ParseBool(iam)
		if err != nil {
			return nil, fmt.Errorf("%s=%q: want true or false", paramIAMAuthN, iam)
		}
		t.IAMAuthN = b
	}
	return t, nil
}

// hasOtherHosts reports whether cfg lists hosts besides its first: its
// fallbacks also hold the TLS/plain variants of the first host.
func hasOtherHosts(cfg *pgx.ConnConfig) bool {
	for _, fb := range cfg.Fallbacks {
		if fb.Host != cfg.Host {
			return true
		}
	}
	return false
}

// cloudSQLDialer is the part of *cloudsqlconn.Dialer the store uses.
type cloudSQLDialer interface {
	Dial(ctx context.Context, instance string, opts ...cloudsqlconn.DialOption) (net.Conn, error)
	Close() error
}

// dialerFactory makes the dialer for a target.
type dialerFactory func(ctx context.Context, t *cloudSQLTarget) (cloudSQLDialer, error)

// newCloudSQLDialer is the real connector. It finds the default Google
// credentials now, so missing credentials fail Open, not the first query.
func newCloudSQLDialer(ctx context.Context, t *cloudSQLTarget) (cloudSQLDialer, error) {
	var opts []cloudsqlconn.Option
	if t.IAMAuthN {
		opts = append(opts, cloudsqlconn.WithIAMAuthN())
	}
	// The dialer keeps the context for its background certificate
	// refreshes, which must outlive Open's.
	return cloudsqlconn.NewDialer(context.WithoutCancel(ctx), opts...)
}

// dialThrough makes every connection of cfg go through d to t.
func dialThrough(cfg *pgx.ConnConfig, d cloudSQLDialer, t *cloudSQLTarget) {
	var opts []cloudsqlconn.DialOption
	switch t.IPType {
	case "private":
		opts = append(opts, cloudsqlconn.WithPrivateIP())
	case "psc":
		opts = append(opts, cloudsqlconn.WithPSC())
	}
	// The instance name is not a DNS name: hand it through unresolved.
	cfg.LookupFunc = func(_ context.Context, host string) ([]string, error) {
		return []string{host}, nil
	}
	cfg.DialFunc = func(ctx context.Context, _, _ string) (net.Conn, error) {
		return d.Dial(ctx, t.Instance, opts...)
	}
	// The connector's connection is already mTLS to the instance; the
	// server-side proxy does not take TLS inside it (Google documents
	// sslmode=disable with the connector), whatever sslmode the DSN says.
	cfg.TLSConfig = nil
	cfg.Fallbacks = nil
}
