package gcpfake

import (
	"net/http"
	"strings"
	"testing"
	"time"

	sqladmin "google.golang.org/api/sqladmin/v1"
)

// refInstance is the reference stack's Cloud SQL instance.
func refInstance(name string) *sqladmin.DatabaseInstance {
	return &sqladmin.DatabaseInstance{
		Name: name, DatabaseVersion: "POSTGRES_17", Region: reg,
		Settings: &sqladmin.Settings{
			Tier: "db-custom-1-3840", Edition: "ENTERPRISE", DataDiskType: "PD_SSD", DataDiskSizeGb: 10,
			DeletionProtectionEnabled: true,
			BackupConfiguration: &sqladmin.BackupConfiguration{
				Enabled: true, StartTime: "02:00", PointInTimeRecoveryEnabled: true, TransactionLogRetentionDays: 7,
				BackupRetentionSettings: &sqladmin.BackupRetentionSettings{RetainedBackups: 7, RetentionUnit: "COUNT"},
			},
			FinalBackupConfig: &sqladmin.FinalBackupConfig{Enabled: true, RetentionDays: 30},
			IpConfiguration:   &sqladmin.IpConfiguration{Ipv4Enabled: true},
		},
	}
}

func TestSQLInstanceLifecycle(t *testing.T) {
	f := startFake(t, Options{SQLIP: "127.0.0.2"})
	svc := f.sql(t)
	done := waitSQL(t, svc)

	op := done(svc.Instances.Insert(proj, refInstance("db")).Do())
	if op.OperationType != "CREATE" || op.TargetId != "db" || op.EndTime == "" {
		t.Errorf("create op: %+v", op)
	}
	inst, err := svc.Instances.Get(proj, "db").Do()
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case inst.State != "RUNNABLE":
		t.Errorf("state %q", inst.State)
	case inst.ConnectionName != "p1:us-central1:db":
		t.Errorf("connectionName %q", inst.ConnectionName)
	case len(inst.IpAddresses) != 1 || inst.IpAddresses[0].Type != "PRIMARY" || inst.IpAddresses[0].IpAddress != "127.0.0.2":
		t.Errorf("ipAddresses %+v", inst.IpAddresses)
	case inst.Settings.SettingsVersion != 1 || inst.ServiceAccountEmailAddress == "" || inst.SelfLink == "" || inst.CreateTime == "":
		t.Errorf("output fields: %+v", inst)
	case !strings.HasPrefix(inst.DatabaseInstalledVersion, "POSTGRES_17_"):
		t.Errorf("databaseInstalledVersion %q", inst.DatabaseInstalledVersion)
	case inst.Settings.FinalBackupConfig.RetentionDays != 30 || !inst.Settings.BackupConfiguration.PointInTimeRecoveryEnabled:
		t.Errorf("backup settings lost: %+v", inst.Settings.BackupConfiguration)
	}
	_, err = svc.Instances.Insert(proj, refInstance("db")).Do()
	wantErr(t, "duplicate instance", err, http.StatusConflict, "instanceAlreadyExists")

	// Databases and users.
	done(svc.Databases.Insert(proj, "db", &sqladmin.Database{Name: "airflow"}).Do())
	db, err := svc.Databases.Get(proj, "db", "airflow").Do()
	if err != nil || db.Charset != "UTF8" || db.Kind != "sql#database" {
		t.Fatalf("database: %+v %v", db, err)
	}
	dbs, err := svc.Databases.List(proj, "db").Do()
	if err != nil || len(dbs.Items) != 2 { // postgres + airflow
		t.Fatalf("databases: %+v %v", dbs, err)
	}
	done(svc.Users.Insert(proj, "db", &sqladmin.User{Name: "airflow", Password: "s3cret"}).Do())
	u, err := svc.Users.Get(proj, "db", "airflow").Do()
	if err != nil || u.Password != "" || u.Name != "airflow" {
		t.Fatalf("user: %+v %v", u, err)
	}
	done(svc.Users.Update(proj, "db", &sqladmin.User{Name: "airflow", Password: "n3w"}).Name("airflow").Do())
	users, err := svc.Users.List(proj, "db").Do()
	if err != nil || len(users.Items) != 2 {
		t.Fatalf("users: %+v %v", users, err)
	}
	done(svc.Users.Delete(proj, "db").Name("airflow").Do())
	_, err = svc.Users.Get(proj, "db", "airflow").Do()
	wantErr(t, "deleted user", err, http.StatusNotFound, "notFound")

	// Settings changes bump settingsVersion; a stale one is refused.
	done(svc.Instances.Patch(proj, "db", &sqladmin.DatabaseInstance{Settings: &sqladmin.Settings{Tier: "db-custom-2-7680"}}).Do())
	inst, _ = svc.Instances.Get(proj, "db").Do()
	if inst.Settings.Tier != "db-custom-2-7680" || inst.Settings.SettingsVersion != 2 || !inst.Settings.BackupConfiguration.Enabled {
		t.Errorf("after patch: tier %s version %d backups %+v", inst.Settings.Tier, inst.Settings.SettingsVersion, inst.Settings.BackupConfiguration)
	}
	stale := *inst
	stale.Settings = &sqladmin.Settings{Tier: "db-custom-1-3840", Edition: "ENTERPRISE", SettingsVersion: 1}
	_, err = svc.Instances.Update(proj, "db", &stale).Do()
	wantErr(t, "stale settingsVersion", err, http.StatusPreconditionFailed, "conditionNotMet")
	stale.Settings.SettingsVersion = 2
	done(svc.Instances.Update(proj, "db", &stale).Do())
	inst, _ = svc.Instances.Get(proj, "db").Do()
	if inst.Settings.SettingsVersion != 3 || inst.Settings.BackupConfiguration.Enabled || inst.Settings.DeletionProtectionEnabled {
		t.Errorf("update did not replace settings: %+v", inst.Settings)
	}

	// Deletion protection.
	done(svc.Instances.Patch(proj, "db", &sqladmin.DatabaseInstance{Settings: &sqladmin.Settings{DeletionProtectionEnabled: true}}).Do())
	_, err = svc.Instances.Delete(proj, "db").Do()
	wantErr(t, "protected delete", err, http.StatusBadRequest, "invalid")
	off := &sqladmin.DatabaseInstance{Settings: &sqladmin.Settings{DeletionProtectionEnabled: false, ForceSendFields: []string{"DeletionProtectionEnabled"}}}
	done(svc.Instances.Patch(proj, "db", off).Do())
	done(svc.Instances.Delete(proj, "db").Do())
	_, err = svc.Instances.Get(proj, "db").Do()
	wantErr(t, "deleted instance", err, http.StatusNotFound, "instanceDoesNotExist")
	_, err = svc.Databases.Get(proj, "db", "airflow").Do()
	wantErr(t, "database of a deleted instance", err, http.StatusNotFound, "")
}

// Postgres 16+ defaults to the Enterprise Plus edition, which refuses the
// reference stack's db-custom tier: the edition must be set explicitly.
func TestSQLEditionRules(t *testing.T) {
	f := startFake(t, Options{})
	svc := f.sql(t)
	inst := refInstance("db")
	inst.Settings.Edition = ""
	_, err := svc.Instances.Insert(proj, inst).Do()
	wantErr(t, "db-custom on ENTERPRISE_PLUS", err, http.StatusBadRequest, "ENTERPRISE_PLUS")
	inst.Settings.Edition = "ENTERPRISE"
	inst.Settings.Tier = "db-custom-1-512"
	_, err = svc.Instances.Insert(proj, inst).Do()
	wantErr(t, "too little memory", err, http.StatusBadRequest, "invalid")
	inst.Settings.Tier = "db-custom-1-3840"
	inst.Settings.BackupConfiguration.Enabled = false
	_, err = svc.Instances.Insert(proj, inst).Do()
	wantErr(t, "PITR without backups", err, http.StatusBadRequest, "invalid")
	inst.DatabaseVersion = "POSTGRES_99"
	_, err = svc.Instances.Insert(proj, inst).Do()
	wantErr(t, "unknown databaseVersion", err, http.StatusBadRequest, "databaseVersion")
}

// Cloud SQL runs one operation per instance: a database cannot be created
// while the instance is still being created.
func TestSQLOperationInProgress(t *testing.T) {
	clk := newClock()
	f := startFake(t, Options{Clock: clk.Now, Latency: &Latency{Methods: map[string]time.Duration{"sql.instances.insert": 9 * time.Minute}}})
	svc := f.sql(t)
	op, err := svc.Instances.Insert(proj, refInstance("db")).Do()
	if err != nil || op.Status != "PENDING" {
		t.Fatalf("insert: %+v %v", op, err)
	}
	inst, err := svc.Instances.Get(proj, "db").Do()
	if err != nil || inst.State != "PENDING_CREATE" {
		t.Fatalf("instance while creating: %v %v", inst.State, err)
	}
	_, err = svc.Databases.Insert(proj, "db", &sqladmin.Database{Name: "airflow"}).Do()
	wantErr(t, "database during create", err, http.StatusConflict, "operationInProgress")
	if got, _ := svc.Operations.Get(proj, op.Name).Do(); got.Status != "RUNNING" {
		t.Errorf("op status %s, want RUNNING", got.Status)
	}
	clk.Advance(9 * time.Minute)
	waitSQL(t, svc)(svc.Operations.Get(proj, op.Name).Do())
	inst, _ = svc.Instances.Get(proj, "db").Do()
	if inst.State != "RUNNABLE" {
		t.Errorf("state after create: %s", inst.State)
	}
	waitSQL(t, svc)(svc.Databases.Insert(proj, "db", &sqladmin.Database{Name: "airflow"}).Do())
	ops, err := svc.Operations.List(proj).Instance("db").Do()
	if err != nil || len(ops.Items) != 2 || ops.Items[0].OperationType != "CREATE_DATABASE" {
		t.Fatalf("operations list: %+v %v", ops, err)
	}
}
