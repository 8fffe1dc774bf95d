package metrics

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/cactus/go-statsd-client/v5/statsd"
)

// Options configure New. They mirror the aird.hcl keys
// metrics { statsd_host, statsd_port, statsd_prefix }.
type Options struct {
	// StatsDHost enables StatsD output when set.
	StatsDHost string
	// StatsDPort defaults to 8125.
	StatsDPort int
	// StatsDPrefix starts every stat name (default "aird"; set "airflow"
	// to feed dashboards built for Airflow unchanged).
	StatsDPrefix string
	// StatsDFlushInterval bounds how long a stat waits in the buffer
	// (default 300ms); lines are batched into packets in between.
	StatsDFlushInterval time.Duration
}

// statsdSink sends over UDP through a buffered client: a send is a copy
// into a buffer, so the scheduler never waits on the network, and a StatsD
// server that is down costs nothing but lost datagrams. A nil *statsdSink
// is valid and sends nothing.
type statsdSink struct {
	c statsd.Statter
}

func newStatsD(o Options) (*statsdSink, error) {
	port := o.StatsDPort
	if port == 0 {
		port = 8125
	}
	prefix := o.StatsDPrefix
	if prefix == "" {
		prefix = defaultStatsDPrefix
	}
	addr := net.JoinHostPort(o.StatsDHost, strconv.Itoa(port))
	c, err := statsd.NewClientWithConfig(&statsd.ClientConfig{
		Address: addr, Prefix: prefix, UseBuffered: true, FlushInterval: o.StatsDFlushInterval,
		// Re-resolve a host name now and then so a StatsD server that moves
		// (a restarted container) is found again.
		ResInterval: time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("metrics: statsd client for %s: %w", addr, err)
	}
	return &statsdSink{c: c}, nil
}

// Send errors are dropped on purpose: metrics are best effort, and a
// log line per lost datagram would flood the log during an outage.

func (s *statsdSink) inc(stat string) {
	if s != nil {
		_ = s.c.Inc(stat, 1, 1)
	}
}

func (s *statsdSink) gauge(stat string, v int) {
	if s != nil {
		_ = s.c.Gauge(stat, int64(v), 1)
	}
}

func (s *statsdSink) timing(stat string, d time.Duration) {
	if s != nil {
		_ = s.c.TimingDuration(stat, d, 1)
	}
}

func (s *statsdSink) close() error {
	if err := s.c.Close(); err != nil {
		return fmt.Errorf("metrics: close statsd client: %w", err)
	}
	return nil
}
