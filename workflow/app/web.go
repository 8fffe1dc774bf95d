package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/airctl/airctl/internal/version"
	"github.com/airctl/airctl/workflow/config"
	"github.com/airctl/airctl/workflow/secrets"
	"github.com/airctl/airctl/workflow/web"
)

// Webserver serves the UI and the REST API on webserver.port until ctx
// ends, then shuts down gracefully. With webserver.workers > 1 this
// process supervises that many worker processes instead (webworkers.go).
func (a *App) Webserver(ctx context.Context) error {
	worker := isWebWorker()
	if !worker && a.Config.Webserver.Workers > 1 {
		return a.superviseWebWorkers(ctx)
	}
	if !worker {
		// A worker leaves metrics.listen to its supervisor: they would
		// all bind the same address.
		stop, err := a.startMetrics(ctx)
		if err != nil {
			return err
		}
		defer stop()
	}
	ws, err := a.listenWeb(ctx)
	if err != nil {
		return err
	}
	a.Log.Info("aird webserver started", "dags_folder", a.Config.Core.DagsFolder, "database", a.Config.Database.URL)
	return ws.serve(ctx)
}

// webServer is a bound listener and its handler, ready to serve. Binding
// first makes a taken port fail the command at once.
type webServer struct {
	log     *slog.Logger
	ln      net.Listener
	srv     *http.Server
	dags    *liveDAGs
	every   time.Duration
	closers []io.Closer
}

func (a *App) listenWeb(ctx context.Context) (*webServer, error) {
	c := a.Config
	tz, err := time.LoadLocation(c.Webserver.DefaultUITimezone)
	if err != nil {
		return nil, fmt.Errorf("config webserver.default_ui_timezone: %w", err)
	}
	// The webserver's own view of the DAG folder, reloaded every parse
	// interval, so one running apart from the scheduler knows the tasks.
	dags := &liveDAGs{dir: c.Core.DagsFolder}
	if err := dags.reload(ctx); err != nil {
		return nil, fmt.Errorf("webserver: %w", err)
	}
	// The connections API needs AIRD_ENCRYPTION_KEY; a malformed one is a
	// configuration error to fix now, not when someone opens a connection.
	keys, err := secrets.FromEnv(os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("webserver: %w", err)
	}
	ws := &webServer{log: a.Log, dags: dags, every: config.Duration(c.Scheduler.ParseInterval)}
	opts := web.Options{
		Store: a.Store, DAGs: dags.bag.Load, LogDir: c.Logging.BaseLogFolder, RemoteLogs: a.webLogs(ctx, ws), UITimezone: tz,
		BaseURL: c.Webserver.BaseURL, SecretKey: c.Webserver.SecretKey, Logger: a.Log, Version: version.Version, SecretKeys: keys,
		// A scheduler silent for the orphan timeout is dead to other
		// schedulers too (Airflow's health threshold is also 30 s).
		SchedulerHealthThreshold: config.Duration(c.Scheduler.OrphanTimeout),
	}
	if r := c.Redis; r.Address != "" {
		// The reference keeps Flask-Limiter's counters in Redis db 1
		// (rate_limit_storage_uri), shared by every webserver process.
		// Sign-in waits on Redis: fail fast if it is down (the limiter
		// then lets the attempt through and logs it).
		client := redis.NewClient(&redis.Options{Addr: r.Address, Password: r.Password, DB: r.RateLimitDB, MaxRetries: 1, DialTimeout: 2 * time.Second})
		opts.RateLimiter, ws.closers = web.NewRedisLimiter(client, 5, 40*time.Second), append(ws.closers, client)
		a.Log.Info("login rate limits kept in Redis", "address", r.Address, "db", r.RateLimitDB)
	}
	h, err := web.New(opts)
	if err == nil {
		ws.ln, err = listen(c.Webserver.Port)
	}
	if err != nil {
		ws.close()
		return nil, err
	}
	// /metrics is not added here: the load balancer sends every path of
	// this port to the internet. It is served on metrics.listen instead.
	ws.srv = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	return ws, nil
}

// serve answers until ctx ends, then gives in-flight requests 10 s.
func (ws *webServer) serve(ctx context.Context) error {
	defer ws.close()
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go ws.dags.watch(watchCtx, ws.every, ws.log)
	ws.log.Info("webserver listening", "addr", ws.ln.Addr().String())
	ln := &drainingListener{Listener: ws.ln}
	ws.srv.ConnState = ln.connState
	errc := make(chan error, 1)
	go func() { errc <- ws.srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("webserver: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	serveErr := ln.drain(shutdownCtx, ws.srv, errc)
	err := ws.srv.Shutdown(shutdownCtx)
	// Serve ends with net.ErrClosed: drain closed the listener.
	if serveErr != nil && !errors.Is(serveErr, net.ErrClosed) {
		err = errors.Join(err, serveErr)
	}
	if err != nil {
		return fmt.Errorf("webserver shutdown: %w", err)
	}
	return nil
}

// listen takes the socket a supervisor passed to its worker, or the one
// systemd passed (socket activation, as the rendered
// aird-webserver.socket does, so a restart never closes the port), else
// binds the port itself.
func listen(port int) (net.Listener, error) {
	if ln, ok, err := inheritedListener(); ok {
		return ln, err
	}
	if os.Getenv("LISTEN_PID") == strconv.Itoa(os.Getpid()) {
		if n, _ := strconv.Atoi(os.Getenv("LISTEN_FDS")); n >= 1 {
			// Passed sockets start at fd 3 (sd_listen_fds). The variables are
			// meant for this process only.
			for _, v := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
				os.Unsetenv(v)
			}
			f := os.NewFile(3, "systemd-socket")
			defer f.Close() // FileListener holds its own duplicate
			ln, err := net.FileListener(f)
			if err != nil {
				return nil, fmt.Errorf("webserver: socket from systemd: %w", err)
			}
			return ln, nil
		}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("webserver: %w (choose another with --port or webserver.port)", err)
	}
	return ln, nil
}

func (ws *webServer) close() {
	for _, c := range ws.closers {
		_ = c.Close()
	}
}
