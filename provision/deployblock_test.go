package provision

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision/config"
	"github.com/airctl/airctl/provision/state"
)

const deployConfig = `
variable "redis_password" {
  type      = string
  sensitive = true
}
locals { bucket = "logs-${test_thing.vm.id}" }
resource "test_thing" "vm" { name = "10.0.0.5" }
resource "test_thing" "db" { name = "db" }
deploy "airflow" {
  hosts       = [test_thing.vm.name]
  user        = "deploy"
  port        = 2222
  known_hosts = file("known_hosts")
  dags        = "./dags"
  database    = { host = test_thing.db.ip, name = "airflow", password = var.redis_password }
  log_bucket  = local.bucket
  base_url    = "https://example.com"
  service "worker" {
    instances = 2
    queues    = ["default", "etl"]
  }
  service "webserver" { port = 8080 }
  secrets {
    redis_password = var.redis_password
    secret_key     = "literal"
  }
}
`

func loadDeployConfig(t *testing.T, src string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{"main.tf": src, "known_hosts": "host-key-line\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, diags := config.LoadDir(dir)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return cfg
}

func thingState(t *testing.T, things map[string]map[string]cty.Value) *state.State {
	t.Helper()
	st := state.New("test")
	for name, attrs := range things {
		in := &state.Instance{}
		if err := in.SetValue(cty.ObjectVal(attrs)); err != nil {
			t.Fatal(err)
		}
		st.SetInstance(state.MustParseAddress("test_thing."+name), "provider[\"test\"]", in)
	}
	return st
}

func TestEvalDeployFromState(t *testing.T) {
	cfg := loadDeployConfig(t, deployConfig)
	st := thingState(t, map[string]map[string]cty.Value{
		"vm": {"id": cty.StringVal("vm1"), "name": cty.StringVal("10.0.0.5")},
		"db": {"id": cty.StringVal("db1"), "name": cty.StringVal("db"), "ip": cty.StringVal("10.9.9.9")},
	})
	specs, diags := EvalDeploy(cfg, st, map[string]cty.Value{"redis_password": cty.StringVal("pw")})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if len(diags) != 1 || !strings.Contains(diags[0].Summary, "Secret written") {
		t.Errorf("want one warning for the literal secret, got %v", diags)
	}
	s := specs["airflow"]
	if len(s.Hosts) != 1 || s.Hosts[0] != "10.0.0.5" || s.User != "deploy" || s.Port != 2222 || s.KnownHosts != "host-key-line\n" {
		t.Errorf("spec %+v", s)
	}
	if s.Dags != filepath.Join(cfg.Dir, "dags") {
		t.Errorf("dags %q", s.Dags)
	}
	set := s.Settings
	if set.DBHost != "10.9.9.9" || set.DBName != "airflow" || set.DBPassword.Reveal() != "pw" || set.RedisPassword.Reveal() != "pw" ||
		set.LogBucket != "logs-vm1" || set.WorkerInstances != 2 || len(set.WorkerQueues) != 2 || set.WebserverPort != 8080 || set.ReleaseRoot != "/opt/airctl" {
		t.Errorf("settings %+v", set)
	}
}

func TestEvalDeployErrors(t *testing.T) {
	cases := map[string]struct{ body, want string }{
		"unknown attribute": {`hosts = ["h"]
  user = "u"
  colour = "blue"`, `main.tf:5,3-9: Unsupported argument`},
		"unknown service": {`hosts = ["h"]
  user = "u"
  service "cron" {}`, `main.tf:5,11-17: Unsupported service`},
		"unknown service attribute": {`hosts = ["h"]
  user = "u"
  service "flower" { workers = 2 }`, `main.tf:5,22-29: Unsupported argument`},
		"not provisioned": {`hosts = [test_thing.vm.name]
  user = "u"`, `main.tf:3,11-31: Value not known yet`},
		"missing user": {`hosts = ["h"]`, `Missing required argument`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := loadDeployConfig(t, "resource \"test_thing\" \"vm\" { name = \"x\" }\ndeploy \"a\" {\n  "+tc.body+"\n}\n")
			_, diags := EvalDeploy(cfg, state.New("test"), nil)
			if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.want) {
				t.Fatalf("want an error containing %q, got %v", tc.want, diags)
			}
		})
	}
}

func TestEvalDeployCloudSQLInstance(t *testing.T) {
	cfg := loadDeployConfig(t, `
resource "google_sql_database_instance" "db" { name = "db" }
resource "google_compute_instance" "vm" { name = "vm" }
deploy "airflow" {
  hosts    = [google_compute_instance.vm.network_interface[0].access_config[0].nat_ip]
  user     = "deploy"
  database = google_sql_database_instance.db
  secrets {
    db_password    = "a"
    redis_password = "b"
    secret_key     = "c"
  }
}
`)
	st := state.New("test")
	for addr, attrs := range map[string]cty.Value{
		"google_sql_database_instance.db": cty.ObjectVal(map[string]cty.Value{
			"public_ip_address": cty.StringVal(""),
			"ip_address":        cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"ip_address": cty.StringVal("35.1.2.3")})}),
		}),
		"google_compute_instance.vm": cty.ObjectVal(map[string]cty.Value{
			"network_interface": cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{
				"access_config": cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"nat_ip": cty.StringVal("34.9.9.9")})}),
			})}),
		}),
	} {
		in := &state.Instance{}
		if err := in.SetValue(attrs); err != nil {
			t.Fatal(err)
		}
		st.SetInstance(state.MustParseAddress(addr), `provider["google"]`, in)
	}
	specs, diags := EvalDeploy(cfg, st, nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	s := specs["airflow"]
	if s.Hosts[0] != "34.9.9.9" || s.Settings.DBHost != "35.1.2.3" || s.Settings.DBName != "aird" || s.Settings.DBPassword.Reveal() != "a" {
		t.Errorf("spec %+v", s)
	}
}
