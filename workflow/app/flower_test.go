package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/airctl/airctl/workflow/config"
)

func TestStartMetricsListener(t *testing.T) {
	t.Setenv("AIRD_HOME", t.TempDir())
	t.Setenv("AIRD_METRICS_LISTEN", "127.0.0.1:0")
	t.Setenv("AIRD_METRICS_STATSD_PORT", "8125")
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	s := metricsSettings(cfg.Metrics)
	if s.Listen != "127.0.0.1:0" || s.Options.StatsDPort != 8125 || s.Options.StatsDHost != "" {
		t.Fatalf("settings = %+v", s)
	}
	a := &App{Log: slog.New(slog.DiscardHandler)}
	m, err := a.StartMetrics(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	m.Sink.SchedulerHeartbeat()
	resp, err := http.Get("http://" + m.Addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "aird_scheduler_heartbeat 1") {
		t.Fatalf("/metrics lacks the heartbeat:\n%s", body)
	}
	m.Stop()
	if _, err := http.Get("http://" + m.Addr + "/metrics"); err == nil {
		t.Fatal("listener still open after Stop")
	}

	t.Setenv("AIRD_METRICS_STATSD_PORT", "70000")
	if _, err := config.Load(""); err == nil {
		t.Fatal("a bad port was accepted")
	}
}
