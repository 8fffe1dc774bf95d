package app

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"cloud.google.com/go/storage"

	"github.com/airctl/airctl/workflow/logs"
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

// webLogs is where the webserver reads logs whose local copy is gone.
func (a *App) webLogs(ctx context.Context, ws *webServer) logs.Shipper {
	sh, closeFn, err := a.RemoteLogs(context.WithoutCancel(ctx))
	if err != nil {
		a.Log.Error("shipped task logs cannot be shown", "err", err)
		return logs.Local{}
	}
	ws.closers = append(ws.closers, closerFunc(closeFn))
	return sh
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }
