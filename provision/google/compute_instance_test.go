package google

import (
	"fmt"
	"strings"
	"testing"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"

	"github.com/airctl/airctl/internal/gcpfake"
	"github.com/airctl/airctl/provision"
)

const instanceConfig = `
data "google_compute_image" "debian" {
  family  = "debian-12"
  project = "debian-cloud"
}

data "google_client_config" "me" {}

resource "google_compute_instance" "vm" {
  name         = "airflow-vm"
  machine_type = "e2-highmem-2"
  zone         = data.google_client_config.me.zone
  tags         = ["airflow", "http-server"]
  labels       = { app = "airflow" }

  boot_disk {
    initialize_params {
      image = data.google_compute_image.debian.self_link
      size  = 30
      type  = "pd-balanced"
    }
  }

  network_interface {
    network = "default"
    access_config {}
  }

  metadata = { enable-oslogin = "TRUE" }

  service_account {
    scopes = ["cloud-platform"]
  }
}

output "ip" { value = google_compute_instance.vm.network_interface[0].access_config[0].nat_ip }
`

func (e *env) instancesClient() *compute.InstancesClient {
	e.t.Helper()
	c, err := compute.NewInstancesRESTClient(e.t.Context(), e.computeOpts()...)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

func (e *env) getInstance(name string) (*computepb.Instance, error) {
	return e.instancesClient().Get(e.t.Context(), &computepb.GetInstanceRequest{Project: testProject, Zone: testZone, Instance: name})
}

func TestInstanceLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gcpfake.Options{ExternalIP: "203.0.113.7"})
	e.config(instanceConfig)
	e.mustAction(e.plan(), "google_compute_instance.vm", provision.Create)
	e.apply()
	if ip := e.str("google_compute_instance.vm", "network_interface", "0", "access_config", "0", "nat_ip"); ip != "203.0.113.7" {
		t.Fatalf("nat_ip = %q", ip)
	}
	if img := e.str("google_compute_instance.vm", "boot_disk", "0", "initialize_params", "0", "image"); !strings.Contains(img, "debian-12-bookworm") {
		t.Fatalf("image = %q", img)
	}
	e.noChanges()

	// Labels, metadata and tags change in place.
	e.config(strings.NewReplacer(`{ app = "airflow" }`, `{ app = "airflow", env = "prod" }`,
		`{ enable-oslogin = "TRUE" }`, `{ enable-oslogin = "FALSE" }`, `["airflow", "http-server"]`, `["airflow"]`).Replace(instanceConfig))
	e.mustAction(e.plan(), "google_compute_instance.vm", provision.Update)
	id := e.str("google_compute_instance.vm", "instance_id")
	e.apply()
	inst, err := e.getInstance("airflow-vm")
	if err != nil {
		t.Fatal(err)
	}
	if inst.GetLabels()["env"] != "prod" || inst.GetMetadata().GetItems()[0].GetValue() != "FALSE" || len(inst.GetTags().GetItems()) != 1 {
		t.Fatalf("after update: labels %v metadata %v tags %v", inst.GetLabels(), inst.GetMetadata().GetItems(), inst.GetTags().GetItems())
	}
	if e.str("google_compute_instance.vm", "instance_id") != id {
		t.Fatal("update replaced the instance")
	}
	e.noChanges()

	// A new machine type replaces it.
	e.config(strings.Replace(instanceConfig, `"e2-highmem-2"`, `"e2-standard-2"`, 1))
	e.mustAction(e.plan(), "google_compute_instance.vm", provision.DeleteThenCreate)
	e.apply()
	if inst, err := e.getInstance("airflow-vm"); err != nil || !strings.HasSuffix(inst.GetMachineType(), "/e2-standard-2") {
		t.Fatalf("after replace: %v %v", inst.GetMachineType(), err)
	}
	e.noChanges()

	// Import by zone/name.
	e.forget("google_compute_instance.vm")
	e.importID("google_compute_instance.vm", "us-central1-a/airflow-vm")
	e.noChanges()

	e.destroy()
	if _, err := e.getInstance("airflow-vm"); httpCode(err) != 404 {
		t.Fatalf("instance still there: %v", err)
	}
}

func TestInstanceDrift(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gcpfake.Options{})
	e.config(instanceConfig)
	e.apply()
	c := e.instancesClient()

	inst, err := e.getInstance("airflow-vm")
	if err != nil {
		t.Fatal(err)
	}
	e.wait(c.SetLabels(t.Context(), &computepb.SetLabelsInstanceRequest{Project: testProject, Zone: testZone, Instance: "airflow-vm",
		InstancesSetLabelsRequestResource: &computepb.InstancesSetLabelsRequest{Labels: map[string]string{"app": "x"}, LabelFingerprint: inst.LabelFingerprint}}))
	e.mustAction(e.plan(), "google_compute_instance.vm", provision.Update)
	e.apply()
	e.noChanges()

	e.wait(c.Delete(t.Context(), &computepb.DeleteInstanceRequest{Project: testProject, Zone: testZone, Instance: "airflow-vm"}))
	e.mustAction(e.plan(), "google_compute_instance.vm", provision.Create)
	e.apply()
	e.noChanges()
	e.destroy()
}

func TestInstanceAlreadyExists(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gcpfake.Options{})
	e.wait(e.instancesClient().Insert(t.Context(), &computepb.InsertInstanceRequest{Project: testProject, Zone: testZone, InstanceResource: &computepb.Instance{
		Name: proto.String("airflow-vm"), MachineType: proto.String("zones/us-central1-a/machineTypes/e2-highmem-2"),
		Disks: []*computepb.AttachedDisk{{Boot: proto.Bool(true), AutoDelete: proto.Bool(true), InitializeParams: &computepb.AttachedDiskInitializeParams{
			DiskName: proto.String("other-disk"), SourceImage: proto.String("projects/debian-cloud/global/images/family/debian-12")}}},
		NetworkInterfaces: []*computepb.NetworkInterface{{Network: proto.String("global/networks/default")}},
	}}))
	e.config(instanceConfig)
	err := e.applyErr(provision.PlanOptions{})
	if err == nil || !strings.Contains(err.Error(), "import it with: airctl import google_compute_instance.<name> projects/p1/zones/us-central1-a/instances/airflow-vm") {
		t.Fatalf("apply: %v", err)
	}
}

func TestInstanceResizeInPlace(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gcpfake.Options{})
	cfg := strings.Replace(instanceConfig, `machine_type = "e2-highmem-2"`, `machine_type = "e2-highmem-2"
  allow_stopping_for_update = true`, 1)
	e.config(cfg)
	e.apply()
	id := e.str("google_compute_instance.vm", "instance_id")
	e.config(strings.Replace(cfg, `"e2-highmem-2"`, `"e2-highmem-4"`, 1))
	e.mustAction(e.plan(), "google_compute_instance.vm", provision.Update)
	e.apply()
	inst, err := e.getInstance("airflow-vm")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(inst.GetMachineType(), "/e2-highmem-4") || inst.GetStatus() != "RUNNING" || fmt.Sprint(inst.GetId()) != id {
		t.Fatalf("after resize: %s %s id %d (was %s)", inst.GetMachineType(), inst.GetStatus(), inst.GetId(), id)
	}
	e.noChanges()
}
