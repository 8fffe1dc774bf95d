package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/airctl/airctl/workflow/config"
	"github.com/airctl/airctl/workflow/metrics"
	"github.com/airctl/airctl/workflow/monitor"
)

// Flower serves the monitor (workers, queue depths, tasks; JSON API under
// /api; /metrics) on flower.port until ctx ends. Queue depths come from
// the Redis broker when redis.address is set.
func (a *App) Flower(ctx context.Context) error {
	reg := metrics.NewRegistry()
	o := monitor.Options{
		Store: a.Store, Queues: a.Config.Worker.Queues, Metrics: reg, Logger: a.Log,
		AliveWithin: config.Duration(a.Config.Scheduler.OrphanTimeout),
	}
	if a.Config.Redis.Address != "" {
		client, q, err := a.broker()
		if err != nil {
			return err
		}
		defer client.Close()
		defer q.Close()
		o.Broker = monitor.RedisBroker(q)
	}
	h, err := monitor.New(o)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(a.Config.Flower.Port)))
	if err != nil {
		return fmt.Errorf("flower: %w (choose another with --port or flower.port)", err)
	}
	a.Log.Info("flower listening", "addr", ln.Addr().String())
	return serveHTTP(ctx, ln, h, a.Log)
}

// serveHTTP answers on ln until ctx ends, then gives in-flight requests
// 10 s.
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{
		Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if serveErr := <-errc; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	if err != nil {
		return fmt.Errorf("shut down %s: %w", ln.Addr(), err)
	}
	return nil
}

// MetricsSettings are the role metrics settings. aird.hcl has no metrics
// section yet (config.Config is shared), so they come from the variables
// the section will map to: AIRD_METRICS_LISTEN, AIRD_METRICS_STATSD_HOST,
// AIRD_METRICS_STATSD_PORT, AIRD_METRICS_STATSD_PREFIX.
type MetricsSettings struct {
	// Listen is the address of the /metrics listener of the scheduler and
	// worker roles, e.g. ":9102"; empty: none (the default).
	Listen  string
	Options metrics.Options
}

// metricsSettings maps the config's metrics section onto MetricsSettings.
func metricsSettings(c config.Metrics) MetricsSettings {
	return MetricsSettings{
		Listen:  c.Listen,
		Options: metrics.Options{StatsDHost: c.StatsdHost, StatsDPort: c.StatsdPort, StatsDPrefix: c.StatsdPrefix},
	}
}

// RoleMetrics is a role's metrics: pass Sink to the scheduler
// (scheduler.Config.Metrics) and workers (worker.Runner.Metrics), serve
// Registry where the role serves HTTP, and call Stop when the role ends.
type RoleMetrics struct {
	Sink     metrics.Sink
	Registry *prometheus.Registry
	// Addr is the /metrics listener's address, empty without one.
	Addr string
	// Stop closes the listener and flushes StatsD.
	Stop func()
}

// StartMetrics gives a role its metrics: a Recorder on a fresh registry
// (StatsD too when configured) and, with Listen set, a /metrics listener
// until Stop or ctx ends.
func (a *App) StartMetrics(ctx context.Context, s MetricsSettings) (*RoleMetrics, error) {
	reg := metrics.NewRegistry()
	rec, err := metrics.New(reg, s.Options)
	if err != nil {
		return nil, err
	}
	var once sync.Once
	m := &RoleMetrics{Sink: rec, Registry: reg, Stop: func() { once.Do(func() { _ = rec.Close() }) }}
	if s.Listen == "" {
		return m, nil
	}
	ln, err := net.Listen("tcp", s.Listen)
	if err != nil {
		_ = rec.Close()
		return nil, fmt.Errorf("metrics listener (AIRD_METRICS_LISTEN): %w", err)
	}
	m.Addr = ln.Addr().String()
	a.Log.Info("metrics listening", "addr", m.Addr)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler(reg))
	srvCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := serveHTTP(srvCtx, ln, mux, a.Log); err != nil {
			a.Log.Warn("metrics listener", "err", err)
		}
	}()
	m.Stop = func() {
		once.Do(func() {
			cancel()
			<-done
			_ = rec.Close()
		})
	}
	return m, nil
}

// StartRoleMetrics is StartMetrics with the settings from the config's
// metrics section (AIRD_METRICS_*): the one call a role needs.
func (a *App) StartRoleMetrics(ctx context.Context) (*RoleMetrics, error) {
	return a.StartMetrics(ctx, metricsSettings(a.Config.Metrics))
}
