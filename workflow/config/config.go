// Package config reads aird.hcl and applies AIRD_<SECTION>_<KEY>
// environment overrides, so units and containers can set any key.
package config

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// Config is the whole aird.hcl. Durations are Go duration strings.
type Config struct {
	Core      Core      `hcl:"core,block"`
	Database  Database  `hcl:"database,block"`
	Scheduler Scheduler `hcl:"scheduler,block"`
	Worker    Worker    `hcl:"worker,block"`
	Logging   Logging   `hcl:"logging,block"`
	Webserver Webserver `hcl:"webserver,block"`
	Redis     Redis     `hcl:"redis,block"`
	Flower    Flower    `hcl:"flower,block"`
	Metrics   Metrics   `hcl:"metrics,block"`
	SMTP      SMTP      `hcl:"smtp,block"`
}

// SMTP is the mail server of e-mail notifiers. The password comes from
// AIRD_SMTP_PASSWORD (the env file), never aird.hcl.
type SMTP struct {
	Host string `hcl:"host,optional"`
	Port int    `hcl:"port,optional"` // default 587 with STARTTLS, else 25
	// StartTLS (default true) upgrades the connection before the password
	// is sent; a server that does not offer it is refused.
	StartTLS *bool  `hcl:"starttls,optional"`
	Username string `hcl:"username,optional"`
	Password string `hcl:"password,optional"`
	From     string `hcl:"from,optional"`
}

// Core holds settings every role shares.
type Core struct {
	DagsFolder              string `hcl:"dags_folder,optional"`
	Parallelism             int    `hcl:"parallelism,optional"`
	DagsArePausedAtCreation *bool  `hcl:"dags_are_paused_at_creation,optional"`
	DefaultTimezone         string `hcl:"default_timezone,optional"`
}

// Database names the metadata store: "sqlite:///path/aird.db" or a
// postgres:// URL.
type Database struct {
	URL string `hcl:"url,optional"`
	// Password is kept out of the URL in aird.hcl: it comes from
	// AIRD_DATABASE_PASSWORD (the env file) and is added when connecting.
	Password string `hcl:"password,optional"`
}

// Redis is the broker of the distributed roles, with Celery's database
// split: broker, login rate limits, results.
type Redis struct {
	Address     string `hcl:"address,optional"`
	Password    string `hcl:"password,optional"`
	BrokerDB    int    `hcl:"broker_db,optional"`
	RateLimitDB int    `hcl:"rate_limit_db,optional"`
	ResultDB    int    `hcl:"result_db,optional"`
	// Lease is how long a worker may go silent before its task is given
	// to another worker.
	Lease string `hcl:"lease,optional"`
}

// Metrics configures the Prometheus listener of roles that serve no HTTP
// of their own (scheduler, worker) and optional StatsD output.
type Metrics struct {
	Listen       string `hcl:"listen,optional"` // e.g. "127.0.0.1:9100"; empty: no listener
	StatsdHost   string `hcl:"statsd_host,optional"`
	StatsdPort   int    `hcl:"statsd_port,optional"`
	StatsdPrefix string `hcl:"statsd_prefix,optional"`
}

// Flower configures the monitor role.
type Flower struct {
	Port int `hcl:"port,optional"`
}

// Scheduler tunes the scheduler loop.
type Scheduler struct {
	ParseInterval     string `hcl:"parse_interval,optional"`
	PollInterval      string `hcl:"poll_interval,optional"`
	HeartbeatInterval string `hcl:"heartbeat_interval,optional"`
	OrphanTimeout     string `hcl:"orphan_timeout,optional"`
	// TaskQueuedTimeout: a task queued or running this long whose broker
	// message was lost is queued again or failed over (distributed roles).
	TaskQueuedTimeout string `hcl:"task_queued_timeout,optional"`
	// SLACheckInterval is how often task SLAs are checked.
	SLACheckInterval string `hcl:"sla_check_interval,optional"`
}

// Worker tunes task execution.
type Worker struct {
	Concurrency   int      `hcl:"concurrency,optional"`
	Queues        []string `hcl:"queues,optional"`
	KillGrace     string   `hcl:"kill_grace,optional"`
	ShutdownGrace string   `hcl:"shutdown_grace,optional"`
	// PrefetchMultiplier and AcksLate are Celery's names; aird always
	// acknowledges late (after the result is stored) and takes one task
	// per free slot, so only 1 and true are accepted.
	PrefetchMultiplier int   `hcl:"prefetch_multiplier,optional"`
	AcksLate           *bool `hcl:"acks_late,optional"`
	// SoftTimeLimit (SIGTERM) and HardTimeLimit (SIGKILL) bound every task
	// on this worker, on top of its own execution_timeout.
	SoftTimeLimit string `hcl:"soft_time_limit,optional"`
	HardTimeLimit string `hcl:"hard_time_limit,optional"`
	// Name identifies the worker in flower; default worker@hostname. The
	// systemd unit sets AIRD_WORKER_NAME=worker%i@%H so the workers of one
	// host tell apart.
	Name string `hcl:"name,optional"`
}

// Logging says where task logs go.
type Logging struct {
	BaseLogFolder string `hcl:"base_log_folder,optional"`
	Level         string `hcl:"level,optional"`
	// RemoteBaseLogFolder is gs://bucket/prefix: finished task logs are
	// uploaded there.
	RemoteBaseLogFolder string `hcl:"remote_base_log_folder,optional"`
	DeleteLocalLogs     bool   `hcl:"delete_local_logs,optional"`
	// WorkerLogServerPort is where each worker serves its task logs to the
	// webserver (default 8793), authenticated with webserver.secret_key.
	WorkerLogServerPort int `hcl:"worker_log_server_port,optional"`
}

// Webserver configures the UI/API role.
type Webserver struct {
	Port int `hcl:"port,optional"`
	// Workers is how many webserver processes serve the port (default 1;
	// the reference runs 2): a supervisor holds the socket and replaces a
	// worker that dies. Standalone always serves from its one process.
	Workers           int    `hcl:"workers,optional"`
	BaseURL           string `hcl:"base_url,optional"`
	DefaultUITimezone string `hcl:"default_ui_timezone,optional"`
	// SecretKey signs sessions; from AIRD_WEBSERVER_SECRET_KEY.
	SecretKey string `hcl:"secret_key,optional"`
}

// Home is $AIRD_HOME, default ~/.aird.
func Home() string {
	if h := os.Getenv("AIRD_HOME"); h != "" {
		return h
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".aird")
	}
	return ".aird"
}

// Load reads path (default $AIRD_HOME/aird.hcl; a missing default file is
// fine), then env overrides, then fills defaults.
func Load(path string) (*Config, error) {
	home := Home()
	explicit := path != ""
	if !explicit {
		path = filepath.Join(home, "aird.hcl")
	}
	c := &Config{}
	if _, err := os.Stat(path); err == nil || explicit {
		if err := decodeFile(path, c); err != nil {
			return nil, err
		}
	}
	if err := applyEnv(c, os.Getenv); err != nil {
		return nil, err
	}
	if err := c.fill(home); err != nil {
		return nil, err
	}
	return c, nil
}

// file mirrors Config with optional blocks (gohcl requires non-pointer
// blocks to be present).
type file struct {
	Core      *Core      `hcl:"core,block"`
	Database  *Database  `hcl:"database,block"`
	Scheduler *Scheduler `hcl:"scheduler,block"`
	Worker    *Worker    `hcl:"worker,block"`
	Logging   *Logging   `hcl:"logging,block"`
	Webserver *Webserver `hcl:"webserver,block"`
	Redis     *Redis     `hcl:"redis,block"`
	Flower    *Flower    `hcl:"flower,block"`
	Metrics   *Metrics   `hcl:"metrics,block"`
	SMTP      *SMTP      `hcl:"smtp,block"`
}

func decodeFile(path string, c *Config) error {
	p := hclparse.NewParser()
	f, diags := p.ParseHCLFile(path)
	var raw file
	if !diags.HasErrors() {
		diags = gohcl.DecodeBody(f.Body, nil, &raw)
	}
	if diags.HasErrors() {
		return fmt.Errorf("config %s: %w", path, diags)
	}
	copyIf(&c.Core, raw.Core)
	copyIf(&c.Database, raw.Database)
	copyIf(&c.Scheduler, raw.Scheduler)
	copyIf(&c.Worker, raw.Worker)
	copyIf(&c.Logging, raw.Logging)
	copyIf(&c.Webserver, raw.Webserver)
	copyIf(&c.Redis, raw.Redis)
	copyIf(&c.Flower, raw.Flower)
	copyIf(&c.Metrics, raw.Metrics)
	copyIf(&c.SMTP, raw.SMTP)
	return nil
}

func copyIf[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

func (c *Config) fill(home string) error {
	setDefault(&c.Core.DagsFolder, os.Getenv("AIRD_DAGS_FOLDER"))
	setDefault(&c.Core.DagsFolder, filepath.Join(home, "dags"))
	setDefault(&c.Core.DefaultTimezone, "UTC")
	setDefault(&c.Database.URL, "sqlite://"+filepath.Join(home, "aird.db"))
	setDefault(&c.Logging.BaseLogFolder, filepath.Join(home, "logs"))
	setDefault(&c.Logging.Level, "info")
	setDefault(&c.Scheduler.ParseInterval, "30s")
	setDefault(&c.Scheduler.PollInterval, "1s")
	setDefault(&c.Scheduler.HeartbeatInterval, "5s")
	setDefault(&c.Scheduler.OrphanTimeout, "30s")
	setDefault(&c.Scheduler.SLACheckInterval, "30s")
	setDefault(&c.SMTP.From, "aird@localhost")
	if c.SMTP.StartTLS == nil {
		starttls := true
		c.SMTP.StartTLS = &starttls
	}
	setDefault(&c.Scheduler.TaskQueuedTimeout, "30s")
	setDefault(&c.Worker.KillGrace, "10s")
	setDefault(&c.Worker.ShutdownGrace, "30s")
	setDefault(&c.Webserver.DefaultUITimezone, "UTC")
	setDefault(&c.Worker.SoftTimeLimit, "0s")
	setDefault(&c.Worker.HardTimeLimit, "0s")
	setDefault(&c.Redis.Lease, "30s")
	if c.Worker.PrefetchMultiplier == 0 {
		c.Worker.PrefetchMultiplier = 1
	}
	if c.Webserver.Workers == 0 {
		c.Webserver.Workers = 1
	}
	if c.Flower.Port == 0 {
		c.Flower.Port = 5555
	}
	if c.Logging.WorkerLogServerPort == 0 {
		c.Logging.WorkerLogServerPort = 8793
	}
	if c.Metrics.StatsdPort < 0 || c.Metrics.StatsdPort > 65535 {
		return fmt.Errorf("config metrics.statsd_port = %d: want a port number", c.Metrics.StatsdPort)
	}
	if c.Core.Parallelism <= 0 {
		c.Core.Parallelism = 32
	}
	if c.Worker.Concurrency <= 0 {
		c.Worker.Concurrency = c.Core.Parallelism
	}
	if len(c.Worker.Queues) == 0 {
		c.Worker.Queues = []string{"default"}
	}
	if c.Webserver.Port == 0 {
		c.Webserver.Port = 8080
	}
	if c.Core.DagsArePausedAtCreation == nil {
		paused := true // Airflow's default: a new DAG does nothing until unpaused
		c.Core.DagsArePausedAtCreation = &paused
	}
	return c.validate()
}

func setDefault(field *string, v string) {
	if *field == "" {
		*field = v
	}
}

// validate checks durations up front so a typo fails at start, not later.
func (c *Config) validate() error {
	for key, v := range map[string]string{
		"scheduler.parse_interval":      c.Scheduler.ParseInterval,
		"scheduler.poll_interval":       c.Scheduler.PollInterval,
		"scheduler.heartbeat_interval":  c.Scheduler.HeartbeatInterval,
		"scheduler.orphan_timeout":      c.Scheduler.OrphanTimeout,
		"scheduler.sla_check_interval":  c.Scheduler.SLACheckInterval,
		"scheduler.task_queued_timeout": c.Scheduler.TaskQueuedTimeout,
		"worker.kill_grace":             c.Worker.KillGrace,
		"worker.shutdown_grace":         c.Worker.ShutdownGrace,
		"worker.soft_time_limit":        c.Worker.SoftTimeLimit,
		"worker.hard_time_limit":        c.Worker.HardTimeLimit,
		"redis.lease":                   c.Redis.Lease,
	} {
		if _, err := time.ParseDuration(v); err != nil {
			return fmt.Errorf("config %s = %q: want a duration such as \"30s\": %w", key, v, err)
		}
	}
	if c.Worker.PrefetchMultiplier != 1 || (c.Worker.AcksLate != nil && !*c.Worker.AcksLate) {
		return fmt.Errorf("config worker: aird takes one task per free slot and acknowledges after the result is stored; set prefetch_multiplier = 1 and acks_late = true (or leave them out)")
	}
	if _, err := time.LoadLocation(c.Core.DefaultTimezone); err != nil {
		return fmt.Errorf("config core.default_timezone: %w", err)
	}
	return nil
}

// Duration returns an already validated duration setting.
func Duration(v string) time.Duration {
	d, _ := time.ParseDuration(v)
	return d
}
