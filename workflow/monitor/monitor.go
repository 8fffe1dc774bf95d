// Package monitor is aird's Flower: workers with their heartbeats and
// active/processed/failed counts, broker queue depths and the task list,
// as an HTML page (no JavaScript; it refreshes itself) and a JSON API.
// Everything is read from the metadata store and the broker on each
// request, so any number of monitors can run and none keeps state that a
// restart would lose.
package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/airctl/airctl/workflow/metrics"
	"github.com/airctl/airctl/workflow/queue"
	"github.com/airctl/airctl/workflow/store"
)

// Options configure New.
type Options struct {
	Store store.Store
	// Broker reports queue depths; nil leaves them out. Use RedisBroker or
	// LocalBroker.
	Broker Broker
	// Queues are the queue names always reported (worker.queues); names
	// of queued task instances are added.
	Queues []string
	// Metrics is served at /metrics without authentication, as
	// Prometheus scrapes; New adds flower's worker and queue gauges to it.
	// Nil: a fresh registry with this process's runtime metrics.
	Metrics *prometheus.Registry
	// AliveWithin: a worker whose last heartbeat is older is shown as not
	// alive (default 30s, the scheduler's orphan timeout).
	AliveWithin time.Duration
	// Refresh is the page's auto-refresh period (default 10s).
	Refresh time.Duration
	Logger  *slog.Logger
	now     func() time.Time
}

// Broker is what the monitor needs from a queue: its waiting messages.
type Broker interface {
	Len(ctx context.Context, queue string) (int, error)
}

// leaseCounter is implemented by brokers that know how many messages
// workers hold (Redis).
type leaseCounter interface {
	Leased(ctx context.Context) (int, error)
}

// RedisBroker reports depths and leases of the Redis broker.
func RedisBroker(q *queue.Redis) Broker { return q }

// LocalBroker reports depths of an in-process queue (standalone).
func LocalBroker(q *queue.Local) Broker { return localBroker{q} }

type localBroker struct{ q *queue.Local }

func (l localBroker) Len(_ context.Context, name string) (int, error) { return l.q.Len(name), nil }

// Server is the monitor's HTTP handler.
type Server struct {
	o    Options
	mux  *http.ServeMux
	auth *authenticator
	log  *slog.Logger
}

// New returns the monitor's handler.
func New(o Options) (*Server, error) {
	if o.Store == nil {
		return nil, errors.New("monitor: Options.Store is required")
	}
	if o.AliveWithin <= 0 {
		o.AliveWithin = 30 * time.Second
	}
	if o.Refresh <= 0 {
		o.Refresh = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.Metrics == nil {
		o.Metrics = metrics.NewRegistry()
	}
	s := &Server{o: o, mux: http.NewServeMux(), auth: newAuthenticator(o.Store, o.Logger), log: o.Logger}
	if err := o.Metrics.Register(collector{s}); err != nil {
		return nil, fmt.Errorf("monitor: register flower metrics: %w", err)
	}
	s.mux.Handle("GET /metrics", metrics.Handler(o.Metrics))
	s.mux.Handle("GET /{$}", s.protect(s.page))
	s.mux.Handle("GET /api/workers", s.protect(s.apiWorkers))
	s.mux.Handle("GET /api/queues", s.protect(s.apiQueues))
	s.mux.Handle("GET /api/tasks", s.protect(s.apiTasks))
	return s, nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	s.mux.ServeHTTP(w, r)
}
