package google

import (
	"context"
	"errors"
	"strings"
	"testing"

	"cloud.google.com/go/storage"

	"github.com/airctl/airctl/internal/gcpfake"
	"github.com/airctl/airctl/provision"
	"github.com/airctl/airctl/provision/provider"
)

const bucketConfig = `
resource "google_storage_bucket" "logs" {
  name                        = "p1-airflow-logs"
  location                    = "us-central1"
  uniform_bucket_level_access = true
  labels                      = { app = "airflow" }

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      age = 30
    }
    action {
      type = "Delete"
    }
  }
}
`

func TestBucketLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gcpfake.Options{})
	e.config(bucketConfig)
	e.mustAction(e.plan(), "google_storage_bucket.logs", provision.Create)
	e.apply()

	// What the API holds is what was configured.
	a, err := e.storageClient().Bucket("p1-airflow-logs").Attrs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !a.VersioningEnabled || !a.UniformBucketLevelAccess.Enabled || a.Labels["app"] != "airflow" ||
		len(a.Lifecycle.Rules) != 1 || a.Lifecycle.Rules[0].Condition.AgeInDays != 30 || a.Location != "US-CENTRAL1" {
		t.Fatalf("bucket attrs: %+v", a)
	}
	if got := e.str("google_storage_bucket.logs", "url"); got != "gs://p1-airflow-logs" {
		t.Fatalf("url = %q", got)
	}
	e.noChanges()

	// Labels, versioning and lifecycle change in place.
	e.config(strings.NewReplacer(`{ app = "airflow" }`, `{ app = "airflow", env = "prod" }`,
		"enabled = true", "enabled = false", "age = 30", "age = 7").Replace(bucketConfig))
	e.mustAction(e.plan(), "google_storage_bucket.logs", provision.Update)
	e.apply()
	a, err = e.storageClient().Bucket("p1-airflow-logs").Attrs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if a.VersioningEnabled || a.Labels["env"] != "prod" || a.Lifecycle.Rules[0].Condition.AgeInDays != 7 {
		t.Fatalf("after update: %+v", a)
	}
	e.noChanges()

	// A new location cannot be updated: the bucket is replaced.
	e.config(strings.Replace(bucketConfig, `"us-central1"`, `"EU"`, 1))
	c := e.mustAction(e.plan(), "google_storage_bucket.logs", provision.DeleteThenCreate)
	if len(c.ReplacePaths) != 1 || provider.FormatPath(c.ReplacePaths[0]) != "location" {
		t.Fatalf("replace paths %v", c.ReplacePaths)
	}
	e.apply()
	if a, err := e.storageClient().Bucket("p1-airflow-logs").Attrs(t.Context()); err != nil || a.Location != "EU" {
		t.Fatalf("after replace: %+v %v", a, err)
	}
	e.noChanges()

	// Import by name after forgetting it gives the same state.
	e.forget("google_storage_bucket.logs")
	e.mustAction(e.plan(), "google_storage_bucket.logs", provision.Create)
	e.importID("google_storage_bucket.logs", "p1-airflow-logs")
	e.noChanges()

	e.destroy()
	if _, err := e.storageClient().Bucket("p1-airflow-logs").Attrs(t.Context()); !errors.Is(err, storage.ErrBucketNotExist) {
		t.Fatalf("bucket still there: %v", err)
	}
}

func TestBucketDrift(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gcpfake.Options{})
	e.config(bucketConfig)
	e.apply()
	c := e.storageClient()

	// A label changed behind airctl's back is shown and repaired.
	var u storage.BucketAttrsToUpdate
	u.SetLabel("app", "other")
	if _, err := c.Bucket("p1-airflow-logs").Update(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	e.mustAction(e.plan(), "google_storage_bucket.logs", provision.Update)
	e.apply()
	e.noChanges()

	// A deleted bucket is recreated.
	if err := c.Bucket("p1-airflow-logs").Delete(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.mustAction(e.plan(), "google_storage_bucket.logs", provision.Create)
	e.apply()
	e.noChanges()
}

func TestBucketAlreadyExists(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gcpfake.Options{})
	if err := e.storageClient().Bucket("p1-airflow-logs").Create(t.Context(), testProject, &storage.BucketAttrs{Location: "US-CENTRAL1"}); err != nil {
		t.Fatal(err)
	}
	e.config(bucketConfig)
	err := e.applyErr(provision.PlanOptions{})
	if err == nil || !strings.Contains(err.Error(), "already exists: import it with: airctl import google_storage_bucket.<name> p1-airflow-logs") {
		t.Fatalf("apply: %v", err)
	}
	e.importID("google_storage_bucket.logs", "p1-airflow-logs")
	e.mustAction(e.plan(), "google_storage_bucket.logs", provision.Update)
	e.apply()
	e.noChanges()
}

func TestBucketForceDestroy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gcpfake.Options{})
	e.config(bucketConfig)
	e.apply()
	w := e.storageClient().Bucket("p1-airflow-logs").Object("logs/a.log").NewWriter(context.Background())
	w.Write([]byte("x"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.applyErr(provision.PlanOptions{Destroy: true}); err == nil || !strings.Contains(err.Error(), "force_destroy") {
		t.Fatalf("destroy of a non-empty bucket: %v", err)
	}
	e.config(strings.Replace(bucketConfig, "uniform_bucket_level_access = true", "uniform_bucket_level_access = true\n  force_destroy = true", 1))
	e.apply()
	e.destroy()
}
