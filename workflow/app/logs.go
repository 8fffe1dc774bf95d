package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/storage"

	"github.com/airctl/airctl/workflow/logs"
	"github.com/airctl/airctl/workflow/store"
	"github.com/airctl/airctl/workflow/web"
)

// shipRetryEvery is how often a worker re-ships logs whose upload failed.
const shipRetryEvery = 5 * time.Minute

// RemoteLogs opens the shipper logging.remote_base_log_folder names, or
// logs.Local when it is unset. close releases its client. The storage
// client finds credentials the usual way (the VM's service account) and
// honours STORAGE_EMULATOR_HOST, which points it at gcpfake in demos.
func (a *App) RemoteLogs(ctx context.Context) (sh logs.Shipper, close func() error, err error) {
	c := a.Config.Logging
	if c.RemoteBaseLogFolder == "" {
		return logs.Local{}, func() error { return nil }, nil
	}
	bucket, prefix, err := logs.ParseRemote(c.RemoteBaseLogFolder)
	if err != nil {
		return nil, nil, fmt.Errorf("config logging: %w", err)
	}
	client, err := storage.NewClient(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("remote logs: storage client: %w", err)
	}
	g, err := logs.NewGCS(client, logs.GCSOptions{
		Bucket: bucket, Prefix: prefix, DeleteLocal: c.DeleteLocalLogs,
		// Inside the log folder so the spool shares its disk and lifetime;
		// the leading dot keeps it apart from DAG directories.
		SpoolDir: filepath.Join(c.BaseLogFolder, ".upload-pending"),
		Log:      a.Log,
	})
	if err != nil {
		client.Close()
		return nil, nil, err
	}
	return g, client.Close, nil
}

// workerShipper is the shipper a worker pool's runner uploads with. It
// lives as long as the process (the pool has no close hook), re-shipping
// what failed or what a killed predecessor left owed. A broken remote
// config is logged and logs stay local: tasks must still run.
func (a *App) workerShipper() logs.Shipper {
	sh, _, err := a.RemoteLogs(context.Background())
	if err != nil {
		a.Log.Error("task logs will stay local only", "err", err)
		return logs.Local{}
	}
	if g, ok := sh.(*logs.GCS); ok {
		go g.RetryLoop(context.Background(), shipRetryEvery)
		a.Log.Info("task logs ship to GCS", "remote_base_log_folder", a.Config.Logging.RemoteBaseLogFolder, "delete_local_logs", a.Config.Logging.DeleteLocalLogs)
	}
	return sh
}

// webLogs is where the webserver reads logs whose local copy is gone: the
// shipped copy, else the worker log server of the host that ran the try
// (a running try, or one whose upload is still owed).
func (a *App) webLogs(ctx context.Context, ws *webServer) web.RemoteLogs {
	workers := &logs.WorkerLogs{
		Client: &http.Client{Timeout: 10 * time.Second},
		Secret: []byte(a.Config.Webserver.SecretKey),
		Port:   a.Config.Logging.WorkerLogServerPort,
		Host:   a.tryHost,
	}
	sh, closeFn, err := a.RemoteLogs(context.WithoutCancel(ctx))
	if err != nil {
		a.Log.Error("shipped task logs cannot be shown", "err", err)
		return workers
	}
	ws.closers = append(ws.closers, closerFunc(closeFn))
	return firstLog{sh, workers}
}

// tryHost names the worker that ran the try logged at rel
// ({dag_id}/{task_id}/{ts}/{try}.log): the task instance's hostname. An
// earlier try may have run elsewhere; its log is then shipped or gone.
func (a *App) tryHost(ctx context.Context, rel string) (string, error) {
	parts := strings.Split(filepath.ToSlash(rel), "/")
	if len(parts) != 4 {
		return "", fmt.Errorf("%q is not a task log path: %w", rel, fs.ErrNotExist)
	}
	ts, err := time.Parse(logs.TSFormat, parts[2])
	if err != nil {
		return "", fmt.Errorf("task log path %q: %w", rel, fs.ErrNotExist)
	}
	runs, _, err := a.Store.ListDagRuns(ctx, store.DagRunFilter{DagID: parts[0], LogicalDateFrom: ts, LogicalDateTo: ts, Limit: 1})
	if err != nil {
		return "", err
	}
	if len(runs) == 0 {
		return "", fmt.Errorf("no run of %s at %s: %w", parts[0], parts[2], fs.ErrNotExist)
	}
	ti, err := a.Store.GetTaskInstance(ctx, store.TIKey{DagID: parts[0], RunID: runs[0].RunID, TaskID: parts[1]})
	if errors.Is(err, store.ErrNotFound) || (err == nil && ti.Hostname == "") {
		return "", fmt.Errorf("no worker ran %s: %w", rel, fs.ErrNotExist)
	}
	return ti.Hostname, err
}

// firstLog reads a log from the first source that has it.
type firstLog []web.RemoteLogs

func (f firstLog) Open(ctx context.Context, rel string) (io.ReadCloser, error) {
	var errs []error
	for _, src := range f {
		rc, err := src.Open(ctx, rel)
		if err == nil {
			return rc, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// serveWorkerLogs starts the worker log server and returns stop, which
// closes it and waits until it has. Without the shared secret, or when the
// port is taken, the worker runs without it: tasks matter more than
// showing their logs live.
func (a *App) serveWorkerLogs(ctx context.Context) (stop func()) {
	c := a.Config
	if c.Webserver.SecretKey == "" {
		a.Log.Warn("worker log server off: set webserver.secret_key (AIRD_WEBSERVER_SECRET_KEY) for the webserver and the workers to show running tasks' logs")
		return func() {}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(c.Logging.WorkerLogServerPort)))
	if err != nil {
		a.Log.Error("worker log server cannot listen; the webserver cannot show this worker's logs before they are shipped: free the port or set logging.worker_log_server_port", "err", err)
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	srv := &logs.WorkerServer{Dir: c.Logging.BaseLogFolder, Secret: []byte(c.Webserver.SecretKey)}
	go func() {
		defer close(done)
		if err := srv.Serve(ctx, ln, a.Log); err != nil {
			a.Log.Error("worker log server stopped", "err", err)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }
