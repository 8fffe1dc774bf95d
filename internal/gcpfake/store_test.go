package gcpfake

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"cloud.google.com/go/storage"
	"google.golang.org/protobuf/proto"
)

// Everything survives a restart on the same state file: compute, SQL,
// bucket metadata, objects with their generations, and the id sequence.
func TestPersistenceRoundTrip(t *testing.T) {
	file := filepath.Join(t.TempDir(), "fake.json")
	ctx := t.Context()

	f := startFake(t, Options{StateFile: file})
	netFixture(t, f)
	insts := client(t, f, compute.NewInstancesRESTClient)
	wait(t)(insts.Insert(ctx, &computepb.InsertInstanceRequest{Project: proj, Zone: zone, InstanceResource: vm("vm")}))
	before, err := insts.Get(ctx, &computepb.GetInstanceRequest{Project: proj, Zone: zone, Instance: "vm"})
	if err != nil {
		t.Fatal(err)
	}
	svc := f.sql(t)
	waitSQL(t, svc)(svc.Instances.Insert(proj, refInstance("db")).Do())
	sc := f.storage(t)
	if err := sc.Bucket("logs").Create(ctx, proj, logBucketAttrs()); err != nil {
		t.Fatal(err)
	}
	gen, err := put(ctx, sc.Bucket("logs").Object("state/default.tfstate"), `{"serial":1}`)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("state file not written: %v", err)
	}

	g := startFake(t, Options{StateFile: file})
	insts = client(t, g, compute.NewInstancesRESTClient)
	after, err := insts.Get(ctx, &computepb.GetInstanceRequest{Project: proj, Zone: zone, Instance: "vm"})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(before, after) {
		t.Errorf("instance changed across restart:\n%v\n%v", before, after)
	}
	if inst, err := g.sql(t).Instances.Get(proj, "db").Do(); err != nil || inst.State != "RUNNABLE" {
		t.Errorf("sql instance after restart: %v %v", inst, err)
	}
	sc = g.storage(t)
	attrs, err := sc.Bucket("logs").Attrs(ctx)
	if err != nil || len(attrs.Lifecycle.Rules) != 1 || !attrs.UniformBucketLevelAccess.Enabled {
		t.Errorf("bucket after restart: %+v %v", attrs, err)
	}
	obj := sc.Bucket("logs").Object("state/default.tfstate")
	r, err := obj.If(storage.Conditions{GenerationMatch: gen}).NewReader(ctx)
	if err != nil {
		t.Fatalf("object after restart: %v", err)
	}
	body, _ := io.ReadAll(r)
	r.Close()
	if string(body) != `{"serial":1}` {
		t.Errorf("object content %q", body)
	}
	// New ids do not collide with restored ones.
	nets := client(t, g, compute.NewNetworksRESTClient)
	wait(t)(nets.Insert(ctx, &computepb.InsertNetworkRequest{Project: proj, NetworkResource: &computepb.Network{
		Name: proto.String("other"), AutoCreateSubnetworks: proto.Bool(true)}}))
	n, _ := nets.Get(ctx, &computepb.GetNetworkRequest{Project: proj, Network: "other"})
	if n.GetId() <= after.GetId() {
		t.Errorf("id %d reused after restart (instance id %d)", n.GetId(), after.GetId())
	}
}

// Pending operations keep their schedule across a restart.
func TestPersistencePendingOperation(t *testing.T) {
	file := filepath.Join(t.TempDir(), "fake.json")
	clk := newClock()
	opts := Options{StateFile: file, Clock: clk.Now, Latency: &Latency{Default: time.Hour}}
	f := startFake(t, opts)
	nets := client(t, f, compute.NewNetworksRESTClient)
	op, err := nets.Insert(t.Context(), &computepb.InsertNetworkRequest{Project: proj, NetworkResource: &computepb.Network{
		Name: proto.String("net"), AutoCreateSubnetworks: proto.Bool(true)}})
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	g := startFake(t, opts)
	code, _ := g.rawRequest(t, http.MethodGet, "/compute/v1/projects/p1/global/operations/"+op.Name(), "")
	if code != http.StatusOK {
		t.Fatalf("operation after restart: %d", code)
	}
	clk.Advance(time.Hour)
	ops := client(t, g, compute.NewGlobalOperationsRESTClient)
	got, err := ops.Get(t.Context(), &computepb.GetGlobalOperationRequest{Project: proj, Operation: op.Name()})
	if err != nil || got.GetStatus() != computepb.Operation_DONE {
		t.Fatalf("restored operation did not finish: %v %v", got, err)
	}
}

func TestCorruptStateFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "fake.json")
	if err := os.WriteFile(file, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{StateFile: file}); err == nil {
		t.Fatal("corrupt state file accepted")
	}
}
