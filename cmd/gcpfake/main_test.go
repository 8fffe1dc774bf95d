package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/api/option"
	"google.golang.org/protobuf/proto"
)

// The binary prints usable exports, serves the real clients, and writes
// its state file when stopped.
func TestRunPrintsExportsAndServes(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out, w := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"-addr", "127.0.0.1:0", "-profile", "instant", "-state", state}, w, io.Discard)
		w.Close()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("reading exports: %v", err)
	}
	go io.Copy(io.Discard, out) // nothing more is printed; keep the pipe drained
	env := map[string]string{}
	for _, kv := range strings.Fields(strings.TrimPrefix(line, "export ")) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for _, k := range []string{"GOOGLE_COMPUTE_CUSTOM_ENDPOINT", "GOOGLE_SQL_CUSTOM_ENDPOINT", "GOOGLE_STORAGE_CUSTOM_ENDPOINT", "STORAGE_EMULATOR_HOST"} {
		if env[k] == "" {
			t.Fatalf("%s missing from %q", k, line)
		}
	}
	endpoint := strings.TrimSuffix(env["GOOGLE_COMPUTE_CUSTOM_ENDPOINT"], "/compute/v1/")
	nets, err := compute.NewNetworksRESTClient(ctx, option.WithEndpoint(endpoint), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	defer nets.Close()
	op, err := nets.Insert(ctx, &computepb.InsertNetworkRequest{Project: "p1", NetworkResource: &computepb.Network{
		Name: proto.String("net"), AutoCreateSubnetworks: proto.Bool(true)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := op.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("run: %v", err)
	}
	b, err := os.ReadFile(state)
	if err != nil || !strings.Contains(string(b), "projects/p1/global/networks/net") {
		t.Fatalf("state file: %v %.200s", err, b)
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-profile", "slow"}, {"extra"}, {"-addr", "256.0.0.1:bad"}} {
		if err := run(t.Context(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("run %v: no error", args)
		}
	}
}
