package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadFileEnvAndDefaults(t *testing.T) {
	home := t.TempDir()
	t.Setenv("AIRD_HOME", home)
	t.Setenv("AIRD_DAGS_FOLDER", "")
	cfgFile := filepath.Join(home, "aird.hcl")
	err := os.WriteFile(cfgFile, []byte(`
core {
  parallelism = 8
}
worker {
  queues = ["default", "gpu"]
}
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("AIRD_WORKER_CONCURRENCY", "3")
	t.Setenv("AIRD_CORE_DAGS_ARE_PAUSED_AT_CREATION", "false")
	t.Setenv("AIRD_WEBSERVER_BASE_URL", "https://airflow.example.com")
	t.Setenv("AIRD_LOGGING_DELETE_LOCAL_LOGS", "true")
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if c.Core.Parallelism != 8 || c.Worker.Concurrency != 3 || *c.Core.DagsArePausedAtCreation {
		t.Errorf("file/env not applied: %+v %+v", c.Core, c.Worker)
	}
	if !c.Logging.DeleteLocalLogs {
		t.Error("AIRD_LOGGING_DELETE_LOCAL_LOGS=true not applied")
	}
	if strings.Join(c.Worker.Queues, ",") != "default,gpu" || c.Webserver.BaseURL != "https://airflow.example.com" {
		t.Errorf("queues/base_url = %v %q", c.Worker.Queues, c.Webserver.BaseURL)
	}
	if c.Core.DagsFolder != filepath.Join(home, "dags") || c.Database.URL != "sqlite://"+filepath.Join(home, "aird.db") {
		t.Errorf("defaults under AIRD_HOME not applied: %q %q", c.Core.DagsFolder, c.Database.URL)
	}
}

func TestLoadReportsFileLineForBadConfig(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AIRD_HOME", dir)
	p := filepath.Join(dir, "bad.hcl")
	_ = os.WriteFile(p, []byte("core {\n  parallelizm = 3\n}\n"), 0o644)
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), "bad.hcl:2,") || !strings.Contains(err.Error(), "parallelizm") {
		t.Fatalf("err = %v, want file:line naming the unknown key", err)
	}
}

func TestLoadRejectsBadDurationAndEnv(t *testing.T) {
	t.Setenv("AIRD_HOME", t.TempDir())
	t.Setenv("AIRD_SCHEDULER_POLL_INTERVAL", "soon")
	if _, err := Load(""); err == nil || !strings.Contains(err.Error(), "scheduler.poll_interval") {
		t.Fatalf("err = %v, want the bad key named", err)
	}
	t.Setenv("AIRD_SCHEDULER_POLL_INTERVAL", "")
	t.Setenv("AIRD_CORE_PARALLELISM", "many")
	if _, err := Load(""); err == nil || !strings.Contains(err.Error(), "AIRD_CORE_PARALLELISM") {
		t.Fatalf("err = %v, want the variable named", err)
	}
}

func TestSMTPSectionAndSecretFromEnv(t *testing.T) {
	home := t.TempDir()
	t.Setenv("AIRD_HOME", home)
	if err := os.WriteFile(filepath.Join(home, "aird.hcl"), []byte(`
smtp {
  host     = "smtp.example.com"
  port     = 2525
  username = "aird"
  from     = "Airflow <airflow@example.com>"
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AIRD_SMTP_PASSWORD", "from-the-env-file")
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	s := c.SMTP
	if s.Host != "smtp.example.com" || s.Port != 2525 || s.Username != "aird" || s.Password != "from-the-env-file" ||
		s.From != "Airflow <airflow@example.com>" || s.StartTLS == nil || !*s.StartTLS {
		t.Errorf("smtp = %+v, want the file's settings, the env password and STARTTLS on by default", s)
	}
	if c.Scheduler.SLACheckInterval != "30s" {
		t.Errorf("sla_check_interval default = %q", c.Scheduler.SLACheckInterval)
	}
	t.Setenv("AIRD_SMTP_STARTTLS", "false")
	if c, err = Load(""); err != nil || *c.SMTP.StartTLS {
		t.Errorf("AIRD_SMTP_STARTTLS=false not applied (%v)", err)
	}
}

// TestWorkerNameFileAndEnv: worker.name comes from aird.hcl, and
// AIRD_WORKER_NAME (set per unit instance) wins over it; unset, it stays
// empty so the worker registers as worker@hostname.
func TestWorkerNameFileAndEnv(t *testing.T) {
	home := t.TempDir()
	t.Setenv("AIRD_HOME", home)
	t.Setenv("AIRD_WORKER_NAME", "")
	c, err := Load("")
	if err != nil || c.Worker.Name != "" {
		t.Fatalf("default worker.name = %q (%v), want empty", c.Worker.Name, err)
	}
	if err := os.WriteFile(filepath.Join(home, "aird.hcl"), []byte("worker {\n  name = \"gpu@box\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c, err = Load(""); err != nil || c.Worker.Name != "gpu@box" {
		t.Fatalf("worker.name from the file = %q (%v)", c.Worker.Name, err)
	}
	t.Setenv("AIRD_WORKER_NAME", "worker2@box")
	if c, err = Load(""); err != nil || c.Worker.Name != "worker2@box" {
		t.Fatalf("worker.name with AIRD_WORKER_NAME = %q (%v)", c.Worker.Name, err)
	}
}
