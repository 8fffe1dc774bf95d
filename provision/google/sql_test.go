package google

import (
	"strings"
	"sync"
	"testing"

	sqladmin "google.golang.org/api/sqladmin/v1"

	"github.com/airctl/airctl/internal/gcpfake"
	"github.com/airctl/airctl/provision"
)

const sqlConfig = `
resource "google_sql_database_instance" "db" {
  name             = "airflow-db"
  database_version = "POSTGRES_17"
  region           = "us-central1"

  settings {
    tier              = "db-custom-1-3840"
    edition           = "ENTERPRISE"
    disk_size         = 10
    disk_type         = "PD_SSD"
    availability_type = "ZONAL"
    user_labels       = { app = "airflow" }

    backup_configuration {
      enabled                        = true
      start_time                     = "02:00"
      point_in_time_recovery_enabled = true
      transaction_log_retention_days = 7

      backup_retention_settings {
        retained_backups = 7
        retention_unit   = "COUNT"
      }
    }

    final_backup_config {
      enabled        = true
      retention_days = 30
    }

    database_flags {
      name  = "max_connections"
      value = "200"
    }

    ip_configuration {
      ipv4_enabled = true
      authorized_networks {
        name  = "office"
        value = "198.51.100.0/24"
      }
    }
  }

  deletion_protection = false
}

resource "google_sql_database" "airflow" {
  name     = "airflow"
  instance = google_sql_database_instance.db.name
}

resource "google_sql_user" "airflow" {
  name     = "airflow"
  instance = google_sql_database_instance.db.name
  password = "s3cret-1"
}

resource "google_sql_user" "generated" {
  name     = "reader"
  instance = google_sql_database_instance.db.name
}
`

func TestSQLLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gcpfake.Options{SQLIP: "192.0.2.10"})
	e.config(sqlConfig)
	p := e.plan()
	for _, a := range []string{"google_sql_database_instance.db", "google_sql_database.airflow", "google_sql_user.airflow"} {
		e.mustAction(p, a, provision.Create)
	}
	e.apply()
	if got := e.str("google_sql_database_instance.db", "connection_name"); got != "p1:us-central1:airflow-db" {
		t.Fatalf("connection_name = %q", got)
	}
	if got := e.str("google_sql_database_instance.db", "public_ip_address"); got != "192.0.2.10" {
		t.Fatalf("public_ip_address = %q", got)
	}
	if pw := e.str("google_sql_user.generated", "password"); len(pw) != 24 {
		t.Fatalf("generated password %q", pw)
	}
	e.noChanges()

	// Settings change in place with a new settingsVersion.
	version := e.attr("google_sql_database_instance.db", "settings", "0", "version")
	e.config(strings.NewReplacer(`"db-custom-1-3840"`, `"db-custom-2-7680"`, `retained_backups = 7`, `retained_backups = 14`,
		`"198.51.100.0/24"`, `"198.51.100.0/25"`, `password = "s3cret-1"`, `password = "s3cret-2"`).Replace(sqlConfig))
	p = e.plan()
	e.mustAction(p, "google_sql_database_instance.db", provision.Update)
	e.mustAction(p, "google_sql_user.airflow", provision.Update)
	e.apply()
	inst, err := e.sqlService().Instances.Get(testProject, "airflow-db").Do()
	if err != nil {
		t.Fatal(err)
	}
	if inst.Settings.Tier != "db-custom-2-7680" || inst.Settings.BackupConfiguration.BackupRetentionSettings.RetainedBackups != 14 ||
		inst.Settings.IpConfiguration.AuthorizedNetworks[0].Value != "198.51.100.0/25" {
		t.Fatalf("after update: %+v", inst.Settings)
	}
	if v := e.attr("google_sql_database_instance.db", "settings", "0", "version"); v.RawEquals(version) {
		t.Fatalf("settings version did not move: %#v", v)
	}
	e.noChanges()

	// Import each by ID after forgetting it.
	for addr, id := range map[string]string{
		"google_sql_database_instance.db": "projects/p1/instances/airflow-db",
		"google_sql_database.airflow":     "airflow-db/airflow",
		"google_sql_user.generated":       "airflow-db/reader",
	} {
		e.forget(addr)
		e.importID(addr, id)
	}
	// The imported instance has deletion_protection true (the default) and
	// the user no password until the configuration's is applied.
	p = e.plan()
	e.mustAction(p, "google_sql_database_instance.db", provision.Update)
	e.mustAction(p, "google_sql_database.airflow", provision.NoOp)
	e.apply()
	e.noChanges()

	// A new database_version replaces the instance (and what is in it).
	// The database and users go with the old instance; as with Terraform,
	// the next plan finds them gone and creates them.
	e.config(strings.Replace(sqlConfig, "POSTGRES_17", "POSTGRES_16", 1))
	e.mustAction(e.plan(), "google_sql_database_instance.db", provision.DeleteThenCreate)
	e.apply()
	p = e.plan()
	e.mustAction(p, "google_sql_database.airflow", provision.Create)
	e.mustAction(p, "google_sql_user.generated", provision.Create)
	e.apply()
	e.noChanges()

	e.destroy()
	if _, err := e.sqlService().Instances.Get(testProject, "airflow-db").Do(); httpCode(err) != 404 {
		t.Fatalf("instance still there: %v", err)
	}
}

func TestSQLDeletionProtection(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gcpfake.Options{})
	cfg := strings.Replace(sqlConfig, "deletion_protection = false", "", 1)
	e.config(cfg)
	e.apply()
	if err := e.applyErr(provision.PlanOptions{Destroy: true}); err == nil || !strings.Contains(err.Error(), "deletion_protection") {
		t.Fatalf("destroy of a protected instance: %v", err)
	}
	e.config(sqlConfig)
	e.apply()
	e.destroy()
}

func TestSQLDrift(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gcpfake.Options{})
	e.config(sqlConfig)
	e.apply()
	svc := e.sqlService()

	// Settings changed behind airctl's back are put back.
	inst, err := svc.Instances.Get(testProject, "airflow-db").Do()
	if err != nil {
		t.Fatal(err)
	}
	waitSQLOp(t, svc, must(svc.Instances.Patch(testProject, "airflow-db", &sqladmin.DatabaseInstance{Settings: &sqladmin.Settings{
		Tier: inst.Settings.Tier, UserLabels: map[string]string{"app": "other"}, SettingsVersion: inst.Settings.SettingsVersion}}).Do()))
	e.mustAction(e.plan(), "google_sql_database_instance.db", provision.Update)
	e.apply()
	e.noChanges()

	// A deleted database is recreated.
	waitSQLOp(t, svc, must(svc.Databases.Delete(testProject, "airflow-db", "airflow").Do()))
	e.mustAction(e.plan(), "google_sql_database.airflow", provision.Create)
	e.apply()
	e.noChanges()
}

func TestSQLAlreadyExists(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gcpfake.Options{})
	e.config(sqlConfig)
	e.apply()
	e.forget("google_sql_database.airflow")
	err := e.applyErr(provision.PlanOptions{})
	if err == nil || !strings.Contains(err.Error(), "import it with: airctl import google_sql_database.<name> projects/p1/instances/airflow-db/databases/airflow") {
		t.Fatalf("apply: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

var sqlWaitMu sync.Mutex

func waitSQLOp(t *testing.T, svc *sqladmin.Service, op *sqladmin.Operation) {
	t.Helper()
	sqlWaitMu.Lock()
	defer sqlWaitMu.Unlock()
	for i := 0; op.Status != "DONE"; i++ {
		if i > 100 {
			t.Fatalf("operation %s not done", op.Name)
		}
		var err error
		if op, err = svc.Operations.Get(testProject, op.Name).Do(); err != nil {
			t.Fatal(err)
		}
	}
	if op.Error != nil {
		t.Fatalf("operation failed: %+v", op.Error.Errors[0])
	}
}

// ipv4_enabled = false must reach the API: Go's zero value is left out of
// requests unless forced, and the API then keeps the public IP.
func TestSQLPrivateOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gcpfake.Options{})
	e.config(sqlConfig)
	e.apply()
	e.config(strings.Replace(sqlConfig, "ipv4_enabled = true", `ipv4_enabled    = false
      private_network = "projects/p1/global/networks/default"`, 1))
	e.mustAction(e.plan(), "google_sql_database_instance.db", provision.Update)
	e.apply()
	inst, err := e.sqlService().Instances.Get(testProject, "airflow-db").Do()
	if err != nil {
		t.Fatal(err)
	}
	if inst.Settings.IpConfiguration.Ipv4Enabled {
		t.Fatal("ipv4Enabled is still true")
	}
	if got := e.str("google_sql_database_instance.db", "public_ip_address"); got != "" {
		t.Fatalf("public_ip_address = %q", got)
	}
	if got := e.str("google_sql_database_instance.db", "private_ip_address"); got == "" {
		t.Fatal("no private_ip_address")
	}
	e.noChanges()
}
