package render

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Redacted is what a secret prints as everywhere but the env file; the same
// marker the plan renderer uses, so output reads alike.
const Redacted = "(sensitive value)"

// Secret is a string that must only ever reach the host's env file. Every
// way of printing it (fmt verbs, JSON, text marshalling, slog) yields
// Redacted, so a secret that slips into a log line, an error or a template
// other than aird.env shows up as the marker, not the value. Reveal is the
// one deliberate way out.
type Secret string

// Reveal returns the plain value. Only the env file's template calls it.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether a value was given.
func (s Secret) IsSet() bool { return s != "" }

func (Secret) String() string   { return Redacted }
func (Secret) GoString() string { return strconv.Quote(Redacted) }

// Format covers every fmt verb, %x and %#v included, which String alone
// would not.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

// MarshalText covers encoding/json (for -json output), YAML and friends.
func (Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// LogValue keeps the value out of slog output.
func (Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// Settings is everything the templates need. Defaults gives the reference
// deployment; the deploy block fills in what only provisioning knows (DB host,
// bucket, base URL) and the secrets.
type Settings struct {
	// User and Group run every aird unit: a dedicated system account, never
	// root. Group also may read aird.hcl.
	User  string
	Group string

	// ReleaseRoot holds releases/<hash>/ and the current symlink; the units
	// run ReleaseRoot/current/bin/aird, so switching the symlink and
	// restarting is the whole rollout.
	ReleaseRoot string
	// ConfigDir holds aird.hcl and aird.env.
	ConfigDir string
	// StateDir is AIRD_HOME and the working directory; writable.
	StateDir string
	// LogDir holds local task logs (logging.base_log_folder); writable.
	LogDir string
	// DagsFolder defaults to ReleaseRoot/current/dags when empty, so a
	// DAG-only deploy is a symlink switch aird notices by itself.
	DagsFolder string
	// UnitDir receives the systemd units.
	UnitDir string
	// RedisConfPath is the snippet /etc/redis/redis.conf includes;
	// RedisGroup may read it (Debian runs redis-server as redis:redis).
	RedisConfPath string
	RedisGroup    string
	// RedisUnit is the Redis service the aird units order after.
	RedisUnit string

	WebserverPort    int // bound by the socket unit
	WebserverWorkers int
	FlowerPort       int
	RedisPort        int

	// WorkerInstances is how many aird-worker@N units the deployer enables.
	WorkerInstances     int
	WorkerConcurrency   int
	WorkerQueues        []string
	WorkerPrefetch      int // tasks reserved per slot (Celery's prefetch multiplier)
	WorkerAcksLate      bool
	SoftTimeLimit       time.Duration // SIGTERM to a task
	HardTimeLimit       time.Duration // SIGKILL to a task
	WorkerShutdownGrace time.Duration // running tasks may finish after SIGTERM to the worker
	WorkerKillGrace     time.Duration // SIGTERM → SIGKILL for a task's process group
	// StopTimeout is TimeoutStopSec for scheduler, webserver and flower;
	// the worker's is derived (WorkerStopTimeout).
	StopTimeout time.Duration

	DBHost    string
	DBPort    int
	DBName    string
	DBUser    string
	DBSSLMode string // libpq sslmode; empty leaves the driver default
	// BrokerDB, RateLimitDB and ResultDB are Redis database numbers.
	BrokerDB    int
	RateLimitDB int
	ResultDB    int

	LogBucket  string // GCS bucket for task logs; empty keeps logs local
	BaseURL    string
	Timezone   string // core.default_timezone
	UITimezone string // webserver.default_ui_timezone

	DBPassword    Secret
	RedisPassword Secret
	SecretKey     Secret
	// EncryptionKey (AIRD_ENCRYPTION_KEY) encrypts the connections aird
	// stores; optional: without it connections come from AIRD_CONN_* only.
	EncryptionKey Secret
}

// Defaults returns the reference deployment (DESIGN.md). DBHost and the
// secrets are left empty: only provisioning knows them, and Render refuses
// to guess.
func Defaults() Settings {
	return Settings{
		User:                "aird",
		Group:               "aird",
		ReleaseRoot:         "/opt/airctl",
		ConfigDir:           "/etc/aird",
		StateDir:            "/var/lib/aird",
		LogDir:              "/var/log/aird",
		UnitDir:             "/etc/systemd/system",
		RedisConfPath:       "/etc/redis/aird.conf",
		RedisGroup:          "redis",
		RedisUnit:           "redis-server.service",
		WebserverPort:       80,
		WebserverWorkers:    2,
		FlowerPort:          5555,
		RedisPort:           6379,
		WorkerInstances:     1,
		WorkerConcurrency:   4,
		WorkerQueues:        []string{"default"},
		WorkerPrefetch:      1,
		WorkerAcksLate:      true,
		SoftTimeLimit:       3600 * time.Second,
		HardTimeLimit:       3600 * time.Second,
		WorkerShutdownGrace: 30 * time.Second,
		WorkerKillGrace:     10 * time.Second,
		StopTimeout:         30 * time.Second,
		DBPort:              5432,
		DBName:              "aird",
		DBUser:              "aird",
		DBSSLMode:           "require",
		BrokerDB:            0,
		RateLimitDB:         1,
		ResultDB:            2,
		Timezone:            "UTC",
		UITimezone:          "Asia/Seoul",
	}
}

// Redacted returns a copy whose set secrets read Redacted, for plan output,
// logs, or rendering a reviewable preview (`airctl render` without secrets
// at hand still yields a complete set of files).
func (s Settings) Redacted() Settings {
	for _, f := range s.secretFields() {
		if f.v.IsSet() {
			*f.v = Redacted
		}
	}
	s.WorkerQueues = append([]string(nil), s.WorkerQueues...)
	return s
}

// field is a named setting, so checks can name what they reject; a slice
// of them keeps messages in a stable order, which a map would not.
type field[T any] struct {
	name string
	v    T
}

// secretField is a secret setting; optional ones may be empty.
type secretField struct {
	name     string
	v        *Secret
	optional bool
}

// secretFields is the one list of secret fields, by name: redaction,
// checks and scrubbing all go through it, so a new secret cannot be
// redacted in one place and leaked by another.
func (s *Settings) secretFields() []secretField {
	return []secretField{{"DBPassword", &s.DBPassword, false}, {"RedisPassword", &s.RedisPassword, false}, {"SecretKey", &s.SecretKey, false},
		{"EncryptionKey", &s.EncryptionKey, true}}
}

// secrets lists the secret fields by name, for checks and scrubbing.
func (s Settings) secrets() []field[Secret] {
	var out []field[Secret]
	for _, f := range s.secretFields() {
		out = append(out, field[Secret]{f.name, *f.v})
	}
	return out
}

// SecretValues are the set secrets' values, for scrubbing text that must
// not carry them (audit lines, progress output, errors).
func (s Settings) SecretValues() []string {
	var out []string
	for _, f := range s.secrets() {
		if f.v.IsSet() {
			out = append(out, f.v.Reveal())
		}
	}
	return out
}

// BinPath is the aird binary of the current release.
func (s Settings) BinPath() string { return path.Join(s.ReleaseRoot, "current", "bin", "aird") }

// ConfigPath is aird.hcl on the host.
func (s Settings) ConfigPath() string { return path.Join(s.ConfigDir, "aird.hcl") }

// EnvPath is the secrets env file on the host.
func (s Settings) EnvPath() string { return path.Join(s.ConfigDir, "aird.env") }

// DagsPath is core.dags_folder.
func (s Settings) DagsPath() string {
	if s.DagsFolder != "" {
		return s.DagsFolder
	}
	return path.Join(s.ReleaseRoot, "current", "dags")
}

// DatabaseURL is the Postgres URL without a password: the password is a
// secret and travels in the env file.
func (s Settings) DatabaseURL() string {
	u := url.URL{
		Scheme: "postgres",
		User:   url.User(s.DBUser),
		Host:   net.JoinHostPort(s.DBHost, strconv.Itoa(s.DBPort)),
		Path:   "/" + s.DBName,
	}
	if s.DBSSLMode != "" {
		u.RawQuery = url.Values{"sslmode": {s.DBSSLMode}}.Encode()
	}
	return u.String()
}

// RedisAddress is where aird finds Redis: always loopback, as Redis is bound
// to it.
func (s Settings) RedisAddress() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.RedisPort))
}

// RemoteLogFolder is logging.remote_base_log_folder: the bucket's logs/
// prefix, the reference layout (logs/{dag_id}/{task_id}/{ts}/{try}.log).
func (s Settings) RemoteLogFolder() string { return "gs://" + s.LogBucket + "/logs" }

// RedisPasswordSHA256 lets the Redis snippet set the password as a hash, so
// the plaintext is written to aird.env only.
func (s Settings) RedisPasswordSHA256() string {
	sum := sha256.Sum256([]byte(s.RedisPassword.Reveal()))
	return hex.EncodeToString(sum[:])
}

// stopMargin covers what a worker does after its tasks ended: requeue the
// unfinished ones and upload their last log lines.
const stopMargin = 30 * time.Second

// WorkerStopTimeout is the worker's TimeoutStopSec: the grace running tasks
// get, the SIGTERM→SIGKILL wait of those that overrun it, and a margin.
// Shorter, and systemd would SIGKILL tasks the worker was about to hand back.
func (s Settings) WorkerStopTimeout() time.Duration {
	return s.WorkerShutdownGrace + s.WorkerKillGrace + stopMargin
}

// EnableUnits lists the units the deployer enables, in start order: the
// socket before its service, one aird-worker@N per instance.
func (s Settings) EnableUnits() []string {
	units := []string{"aird-scheduler.service", "aird-webserver.socket", "aird-webserver.service"}
	for i := 1; i <= s.WorkerInstances; i++ {
		units = append(units, fmt.Sprintf("aird-worker@%d.service", i))
	}
	return append(units, "aird-flower.service")
}

var (
	// Unix account names as useradd accepts them by default.
	nameRe = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	// Paths go into unit files unquoted: no spaces, no % (a systemd
	// specifier), no $ (variable expansion in Exec lines).
	pathRe     = regexp.MustCompile(`^/[A-Za-z0-9._/+@-]*$`)
	unitRe     = regexp.MustCompile(`^[A-Za-z0-9:_.@-]+\.service$`)
	tzRe       = regexp.MustCompile(`^[A-Za-z0-9_+/-]+$`)
	hostRe     = regexp.MustCompile(`^[A-Za-z0-9.:-]+$`)
	bucketRe   = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,221}[a-z0-9]$`)
	sslModes   = []string{"", "disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
	errInvalid = errors.New("invalid settings")
)

// Validate reports every problem at once, naming fields; a secret's value is
// never part of a message.
func (s Settings) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{field}, args...)...))
	}
	checkName := func(field, v string) {
		if !nameRe.MatchString(v) {
			bad(field, "%q is not a valid user/group name", v)
		}
	}
	checkName("User", s.User)
	checkName("Group", s.Group)
	checkName("RedisGroup", s.RedisGroup)
	if s.User == "root" || s.Group == "root" {
		bad("User", "aird must not run as root")
	}
	for _, f := range []field[string]{
		{"ReleaseRoot", s.ReleaseRoot}, {"ConfigDir", s.ConfigDir}, {"StateDir", s.StateDir}, {"LogDir", s.LogDir},
		{"UnitDir", s.UnitDir}, {"RedisConfPath", s.RedisConfPath}, {"DagsFolder", s.DagsPath()},
	} {
		if !pathRe.MatchString(f.v) || path.Clean(f.v) != f.v || f.v == "/" {
			bad(f.name, "%q must be a clean absolute path other than / of letters, digits and ._/+@-", f.v)
		}
	}
	if !unitRe.MatchString(s.RedisUnit) {
		bad("RedisUnit", "%q is not a service unit name", s.RedisUnit)
	}
	for _, f := range []field[int]{{"WebserverPort", s.WebserverPort}, {"FlowerPort", s.FlowerPort}, {"RedisPort", s.RedisPort}, {"DBPort", s.DBPort}} {
		if f.v < 1 || f.v > 65535 {
			bad(f.name, "%d is not a port", f.v)
		}
	}
	if s.WebserverPort == s.FlowerPort || s.FlowerPort == s.RedisPort || s.WebserverPort == s.RedisPort {
		bad("FlowerPort", "webserver, flower and Redis ports must differ")
	}
	for _, f := range []field[int]{{"WebserverWorkers", s.WebserverWorkers}, {"WorkerInstances", s.WorkerInstances}, {"WorkerConcurrency", s.WorkerConcurrency}, {"WorkerPrefetch", s.WorkerPrefetch}} {
		if f.v < 1 {
			bad(f.name, "%d: want at least 1", f.v)
		}
	}
	errs = append(errs, s.validateWorker()...)
	errs = append(errs, s.validateData()...)
	errs = append(errs, s.validateSecrets()...)
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", errInvalid, errors.Join(errs...))
	}
	return nil
}

func (s Settings) validateWorker() []error {
	var errs []error
	if len(s.WorkerQueues) == 0 {
		errs = append(errs, errors.New("WorkerQueues: want at least one queue"))
	}
	for _, q := range s.WorkerQueues {
		// Commas would split the queue in AIRD_WORKER_QUEUES.
		if q == "" || strings.ContainsAny(q, ",\"\\") || strings.ContainsFunc(q, unicode.IsSpace) {
			errs = append(errs, fmt.Errorf("WorkerQueues: %q: want a name without spaces, commas, quotes or backslashes", q))
		}
	}
	for _, f := range []field[time.Duration]{
		{"SoftTimeLimit", s.SoftTimeLimit}, {"HardTimeLimit", s.HardTimeLimit}, {"WorkerShutdownGrace", s.WorkerShutdownGrace},
		{"WorkerKillGrace", s.WorkerKillGrace}, {"StopTimeout", s.StopTimeout},
	} {
		// Whole seconds: systemd and aird.hcl both get them as "<n>s".
		if f.v < time.Second || f.v%time.Second != 0 {
			errs = append(errs, fmt.Errorf("%s: %s: want whole seconds, at least 1s", f.name, f.v))
		}
	}
	if s.HardTimeLimit < s.SoftTimeLimit {
		errs = append(errs, fmt.Errorf("HardTimeLimit: %s is below SoftTimeLimit %s", s.HardTimeLimit, s.SoftTimeLimit))
	}
	return errs
}

func (s Settings) validateData() []error {
	var errs []error
	if !hostRe.MatchString(s.DBHost) {
		errs = append(errs, fmt.Errorf("DBHost: %q: want the database instance's IP or host name (required)", s.DBHost))
	}
	if !nameRe.MatchString(s.DBName) || !nameRe.MatchString(s.DBUser) {
		errs = append(errs, fmt.Errorf("DBName/DBUser: %q/%q: want plain names", s.DBName, s.DBUser))
	}
	if !slices.Contains(sslModes, s.DBSSLMode) {
		errs = append(errs, fmt.Errorf("DBSSLMode: %q: want one of %s", s.DBSSLMode, strings.Join(sslModes[1:], ", ")))
	}
	dbs := map[int]bool{}
	for _, f := range []field[int]{{"BrokerDB", s.BrokerDB}, {"RateLimitDB", s.RateLimitDB}, {"ResultDB", s.ResultDB}} {
		if f.v < 0 || f.v > 15 {
			errs = append(errs, fmt.Errorf("%s: %d: Redis has databases 0-15", f.name, f.v))
		}
		dbs[f.v] = true
	}
	if len(dbs) != 3 {
		errs = append(errs, errors.New("BrokerDB/RateLimitDB/ResultDB: want three different Redis databases"))
	}
	if s.LogBucket != "" && !bucketRe.MatchString(s.LogBucket) {
		errs = append(errs, fmt.Errorf("LogBucket: %q is not a bucket name", s.LogBucket))
	}
	if s.BaseURL != "" {
		if u, err := url.Parse(s.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("BaseURL: %q: want http(s)://host[/path]", s.BaseURL))
		}
	}
	for _, f := range []field[string]{{"Timezone", s.Timezone}, {"UITimezone", s.UITimezone}} {
		if !tzRe.MatchString(f.v) {
			errs = append(errs, fmt.Errorf("%s: %q is not a time zone name", f.name, f.v))
		}
	}
	return errs
}

// validateSecrets requires every secret but the optional ones (an empty
// Redis password would mean an open broker) and refuses control characters, which no env-file quoting
// survives intact. Messages name the field only.
func (s Settings) validateSecrets() []error {
	var errs []error
	for _, f := range s.secretFields() {
		switch v := f.v.Reveal(); {
		case v == "" && f.optional:
		case v == "":
			errs = append(errs, fmt.Errorf("%s: required", f.name))
		case strings.ContainsFunc(v, unicode.IsControl):
			errs = append(errs, fmt.Errorf("%s: contains a control character (value not shown)", f.name))
		}
	}
	return errs
}
