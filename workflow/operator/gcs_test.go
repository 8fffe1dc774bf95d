package operator_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airctl/airctl/internal/gcpfake"
	"github.com/airctl/airctl/workflow/connections"
	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/operator"
)

// gcsConn is a google connection to an in-process Cloud Storage with
// bucket "lake", reached through the real client.
func gcsConn(t *testing.T) connections.Connection {
	t.Helper()
	fake := gcpfake.New(gcpfake.Options{Latency: gcpfake.InstantLatency()})
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(func() {
		srv.Close()
		fake.Close()
	})
	conn := connections.Connection{
		ConnID: "gcp", ConnType: "google_cloud_platform",
		Extra: `{"endpoint": "` + gcpfake.EndpointsFor(srv.URL).Storage + `"}`,
	}
	c, err := operator.NewGCSClient(t.Context(), &conn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bucket("lake").Create(t.Context(), "p1", nil); err != nil {
		t.Fatal(err)
	}
	return conn
}

func TestGCSUploadDownloadAndSensor(t *testing.T) {
	conn := gcsConn(t)
	dir := t.TempDir()
	env := &operator.Env{Conns: conns{"gcp": conn}}
	src := filepath.Join(dir, "report.csv")
	if err := os.WriteFile(src, []byte("a,b\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sensor := build(t, `
    wait_for {
      gcs_object {
        conn_id = "gcp"
        bucket  = "lake"
        object  = "reports/report.csv"
      }
      mode = "reschedule"
    }`, dag.RunContext{})
	res, err := sensor.Run(t.Context(), env)
	if err != nil || res.NextPoke.IsZero() {
		t.Fatalf("before upload: %+v %v, want rescheduled", res, err)
	}

	res, err = build(t, `
    gcs_upload {
      conn_id = "gcp"
      bucket  = "lake"
      object  = "reports/report.csv"
      source  = "`+src+`"
    }`, dag.RunContext{}).Run(t.Context(), env)
	if err != nil || res.Output != "gs://lake/reports/report.csv" {
		t.Fatalf("upload: output %q err %v", res.Output, err)
	}
	if res, err = sensor.Run(t.Context(), env); err != nil || !res.NextPoke.IsZero() {
		t.Errorf("after upload: %+v %v, want the condition met", res, err)
	}

	dst := filepath.Join(dir, "out", "copy.csv")
	res, err = build(t, `
    gcs_download {
      conn_id     = "gcp"
      bucket      = "lake"
      object      = "reports/report.csv"
      destination = "`+dst+`"
    }`, dag.RunContext{}).Run(t.Context(), env)
	if err != nil || res.Output != dst {
		t.Fatalf("download: output %q err %v", res.Output, err)
	}
	if data, err := os.ReadFile(dst); err != nil || string(data) != "a,b\n1,2\n" {
		t.Errorf("downloaded %q %v", data, err)
	}

	_, err = build(t, `
    gcs_download {
      conn_id     = "gcp"
      bucket      = "lake"
      object      = "missing.csv"
      destination = "`+filepath.Join(dir, "missing.csv")+`"
    }`, dag.RunContext{}).Run(t.Context(), env)
	if err == nil || !strings.Contains(err.Error(), "download gs://lake/missing.csv") {
		t.Errorf("missing object: err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.csv")); !os.IsNotExist(err) {
		t.Errorf("a failed download left a file behind: %v", err)
	}
}
