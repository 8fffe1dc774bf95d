package command

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"cloud.google.com/go/storage"
	"google.golang.org/api/option"

	"github.com/airctl/airctl/internal/gcpfake"
	"github.com/airctl/airctl/provision"
	"github.com/airctl/airctl/provision/config"
)

// gcpMinObjects is how many objects of the reference stack live in GCP
// (random_password and random_id are local): network, subnetwork, two
// firewalls, VM, instance group, health check, backend service, global
// address, certificate, two URL maps, two proxies, two forwarding rules,
// Cloud SQL instance, database, user and the bucket.
const gcpMinObjects = 20

// TestGCPExampleLifecycle: examples/gcp plans 14+ resources, applies them
// into the fake, re-plans to no changes and destroys to an empty fake.
func TestGCPExampleLifecycle(t *testing.T) {
	e := newGCPE2E(t, gcpfake.Options{}, "")
	e.must(0, "validate")
	r := e.must(2, "plan", "-detailed-exitcode", "-no-color")
	if add, change, del := gcpPlanCounts(t, r); add < 14 || change != 0 || del != 0 {
		t.Fatalf("plan: %d to add, %d to change, %d to destroy\n%s", add, change, del, r)
	}
	r = e.must(0, "apply", "-auto-approve", "-no-color")
	contains(t, r, "stdout", "Apply complete! Resources: 22 added, 0 changed, 0 destroyed.")
	e.converged(gcpMinObjects)
	e.noChanges()

	for name, want := range map[string]string{
		"bucket":             e2eProject + "-airflow-logs",
		"db_connection_name": e2eProject + ":us-central1:airflow-db",
		"vm_ip":              "127.0.0.1",
	} {
		if got := strings.TrimSpace(e.must(0, "output", "-raw", name).stdout); got != want {
			t.Errorf("output %s = %q, want %q", name, got, want)
		}
	}
	if got := strings.TrimSpace(e.must(0, "output", "-raw", "lb_ip").stdout); got == "" {
		t.Error("output lb_ip is empty")
	}

	r = e.must(0, "destroy", "-auto-approve", "-no-color")
	contains(t, r, "stdout", "Destroy complete! Resources: 22 destroyed.")
	e.empty()
}

// TestGCPExampleGCSBackend keeps the example's backend.tf (its bucket
// renamed) with the state bucket in the fake's Cloud Storage, reached
// through STORAGE_EMULATOR_HOST: init, apply, a clean re-plan and destroy,
// with the state object in the bucket throughout.
func TestGCPExampleGCSBackend(t *testing.T) {
	e := newGCPE2E(t, gcpfake.Options{}, "")
	e.stateBucket = "e2e-airctl-state"
	b, err := os.ReadFile(filepath.Join(gcpExampleDir, "backend.tf"))
	if err != nil {
		t.Fatal(err)
	}
	backend := strings.Replace(string(b), `bucket = "my-project-airctl-state"`, `bucket = "`+e.stateBucket+`"`, 1)
	if backend == string(b) {
		t.Fatal("backend.tf has no bucket = \"my-project-airctl-state\" line")
	}
	if err := os.WriteFile(filepath.Join(e.dir, "backend.tf"), []byte(backend), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := storage.NewClient(t.Context(), option.WithEndpoint(e.ep.Storage), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if err := sc.Bucket(e.stateBucket).Create(t.Context(), e2eProject, &storage.BucketAttrs{Location: "US"}); err != nil {
		t.Fatal(err)
	}

	r := e.must(1, "plan")
	contains(t, r, "stderr", "airctl init")
	r = e.must(0, "init", "-no-color")
	contains(t, r, "stdout", "gs://"+e.stateBucket+"/airflow/prod/default.tfstate")
	e.must(0, "apply", "-auto-approve")
	e.noChanges()
	e.converged(gcpMinObjects)
	if _, err := os.Stat(filepath.Join(e.dir, "airctl.tfstate")); !os.IsNotExist(err) {
		t.Errorf("a local state file exists: %v", err)
	}
	attrs, err := sc.Bucket(e.stateBucket).Object("airflow/prod/default.tfstate").Attrs(t.Context())
	if err != nil || attrs.Size == 0 {
		t.Fatalf("state object: %v", err)
	}
	e.must(0, "destroy", "-auto-approve")
	e.empty()
}

// TestGCPExampleFormatted: the example is in airctl fmt's canonical layout.
func TestGCPExampleFormatted(t *testing.T) {
	stdout, stderr := newSyncBuffer(), newSyncBuffer()
	code := Run(context.Background(), []string{"fmt", "-check", "-no-color", gcpExampleDir}, Env{
		Stdin: strings.NewReader(""), Stdout: stdout, Stderr: stderr, Version: "test",
	})
	if code != 0 {
		t.Fatalf("airctl fmt -check %s: exit %d\n%s%s", gcpExampleDir, code, stdout, stderr)
	}
}

// TestGCPExampleDeletionProtection: with the example's default
// (db_deletion_protection = true) destroy refuses to delete the database.
func TestGCPExampleDeletionProtection(t *testing.T) {
	e := newGCPE2E(t, gcpfake.Options{}, "")
	e.must(0, "apply", "-auto-approve", "-var", "db_deletion_protection=true")
	r := e.must(1, "destroy", "-auto-approve", "-no-color", "-var", "db_deletion_protection=true")
	contains(t, r, "stderr", "deletion_protection")
	// The destroy stopped at the database (what did not depend on it may
	// be gone), which is still there and still in state.
	if !slices.Contains(e.fakeObjects(), "projects/"+e2eProject+"/instances/airflow-db") {
		t.Errorf("the database was deleted: %v", e.fakeObjects())
	}
	e.converged(1)
	// As the README says: set it false and apply (an in-place update of
	// the database; the apply also recreates what the destroy removed),
	// then destroy.
	r = e.must(0, "apply", "-auto-approve", "-no-color")
	contains(t, r, "stdout", "google_sql_database_instance.db: Modifying...")
	e.must(0, "destroy", "-auto-approve")
	e.empty()
}

// TestGCPExampleDrift: a bucket label changed and a firewall deleted
// behind airctl's back show in plan and are repaired by apply.
func TestGCPExampleDrift(t *testing.T) {
	e := newGCPE2E(t, gcpfake.Options{}, "")
	e.must(0, "apply", "-auto-approve")
	ctx := t.Context()

	sc, err := storage.NewClient(ctx, option.WithEndpoint(e.ep.Storage), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	bucket := e2eProject + "-airflow-logs"
	var upd storage.BucketAttrsToUpdate
	upd.SetLabel("app", "tampered")
	upd.SetLabel("extra", "x")
	if _, err := sc.Bucket(bucket).Update(ctx, upd); err != nil {
		t.Fatal(err)
	}
	fw, err := compute.NewFirewallsRESTClient(ctx, option.WithEndpoint(e.ep.Compute), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	defer fw.Close()
	op, err := fw.Delete(ctx, &computepb.DeleteFirewallRequest{Project: e2eProject, Firewall: "airflow-allow-ssh"})
	if err != nil {
		t.Fatal(err)
	}
	if err := op.Wait(ctx); err != nil {
		t.Fatal(err)
	}

	r := e.must(2, "plan", "-detailed-exitcode", "-no-color")
	contains(t, r, "stdout",
		"google_compute_firewall.ssh will be created",
		"google_storage_bucket.logs will be updated in-place",
		`"tampered" -> "airflow"`, "Plan: 1 to add, 1 to change, 0 to destroy.")
	e.must(0, "apply", "-auto-approve")
	e.noChanges()
	e.converged(gcpMinObjects)
	attrs, err := sc.Bucket(bucket).Attrs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if attrs.Labels["app"] != "airflow" || attrs.Labels["extra"] != "" {
		t.Errorf("bucket labels after apply: %v", attrs.Labels)
	}
}

// TestGCPExampleUpdateAndReplace: label, lifecycle and versioning changes
// update the VM, the database and the bucket in place; a machine_type
// change replaces the VM (create_before_destroy, new name suffix, the
// instance group and Cloud SQL's authorized network moved to it) unless
// allow_stopping_for_update is on; -replace replaces the bucket.
func TestGCPExampleUpdateAndReplace(t *testing.T) {
	e := newGCPE2E(t, gcpfake.Options{}, "")
	e.must(0, "apply", "-auto-approve")
	vmName := func() string { return attrStr(e.stateAttrs()["google_compute_instance.vm"], "name") }
	vmID := func() string { return fmt.Sprint(e.stateAttrs()["google_compute_instance.vm"]["instance_id"]) }
	bucketID := func() string { return attrStr(e.stateAttrs()["google_storage_bucket.logs"], "self_link") }
	firstVM, firstVMID := vmName(), vmID()

	// In place: labels on the VM, the database and the bucket; the bucket's
	// lifecycle rule and versioning.
	vars := []string{"-var", `labels={team="data"}`, "-var", "log_retention_days=14"}
	r := e.must(2, append([]string{"plan", "-detailed-exitcode", "-no-color"}, vars...)...)
	contains(t, r, "stdout",
		"google_compute_instance.vm will be updated in-place",
		"google_sql_database_instance.db will be updated in-place",
		"google_storage_bucket.logs will be updated in-place",
		"Plan: 0 to add, 3 to change, 0 to destroy.")
	e.must(0, append([]string{"apply", "-auto-approve"}, vars...)...)
	e.must(0, append([]string{"plan", "-detailed-exitcode"}, vars...)...)
	if vmName() != firstVM || vmID() != firstVMID {
		t.Errorf("VM %s (%s) became %s (%s) on a label change", firstVM, firstVMID, vmName(), vmID())
	}
	e.converged(gcpMinObjects)

	// Replace: machine_type.
	vars = append(vars, "-var", "machine_type=e2-standard-4")
	r = e.must(2, append([]string{"plan", "-detailed-exitcode", "-no-color"}, vars...)...)
	contains(t, r, "stdout", "google_compute_instance.vm must be replaced", "random_id.vm must be replaced")
	e.must(0, append([]string{"apply", "-auto-approve"}, vars...)...)
	e.must(0, append([]string{"plan", "-detailed-exitcode"}, vars...)...)
	second := vmName()
	if second == firstVM {
		t.Errorf("VM not replaced: still %s", second)
	}
	if n := e.countVMs(); n != 1 {
		t.Errorf("%d VMs in the fake after the replacement: %v", n, e.fakeObjects())
	}
	e.converged(gcpMinObjects)

	// With allow_stopping_for_update the suffix no longer follows the
	// machine type: turning it on replaces the VM once (documented in
	// vm.tf), after which a machine_type change is an in-place update.
	vars = append(vars, "-var", "allow_stopping_for_update=true")
	e.must(0, append([]string{"apply", "-auto-approve"}, vars...)...)
	third, thirdID := vmName(), vmID()
	vars = append(vars, "-var", "machine_type=e2-standard-8")
	r = e.must(2, append([]string{"plan", "-detailed-exitcode", "-no-color"}, vars...)...)
	contains(t, r, "stdout", "google_compute_instance.vm will be updated in-place", "Plan: 0 to add, 1 to change, 0 to destroy.")
	e.must(0, append([]string{"apply", "-auto-approve"}, vars...)...)
	e.must(0, append([]string{"plan", "-detailed-exitcode"}, vars...)...)
	if vmName() != third || vmID() != thirdID {
		t.Errorf("VM %s replaced by %s on an in-place resize", third, vmName())
	}
	if mt := attrStr(e.stateAttrs()["google_compute_instance.vm"], "machine_type"); !strings.HasSuffix(mt, "e2-standard-8") {
		t.Errorf("machine_type = %q", mt)
	}

	// Replace the bucket on request.
	before := bucketID()
	r = e.must(0, append([]string{"apply", "-auto-approve", "-no-color", "-replace=google_storage_bucket.logs"}, vars...)...)
	contains(t, r, "stdout", "google_storage_bucket.logs: Destruction complete", "google_storage_bucket.logs: Creation complete")
	if bucketID() != before { // same name, so the same self link
		t.Errorf("bucket self_link %s -> %s", before, bucketID())
	}
	e.must(0, append([]string{"plan", "-detailed-exitcode"}, vars...)...)
	e.converged(gcpMinObjects)

	e.must(0, append([]string{"destroy", "-auto-approve"}, vars...)...)
	e.empty()
}

// TestGCPExampleImport: every google resource, removed from state with
// "state rm" and imported back by its import ID, plans to no changes but
// for three attributes the API never returns, as with Terraform: the
// database user's password (the next apply sets it), and the airctl-side
// deletion_protection (imported as its default, true) and
// allow_stopping_for_update (imported unset). The apply after the import
// settles them, then the plan is empty.
func TestGCPExampleImport(t *testing.T) {
	e := newGCPE2E(t, gcpfake.Options{}, "")
	e.must(0, "apply", "-auto-approve")
	attrs := e.stateAttrs()
	ids := map[string]string{}
	types := map[string]bool{}
	for addr, a := range attrs {
		typ, _, _ := strings.Cut(addr, ".")
		types[typ] = true
		ids[addr] = attrStr(a, "id")
		switch typ {
		case "google_sql_user":
			ids[addr] = attrStr(a, "instance") + "/" + attrStr(a, "name")
		case "google_compute_instance": // the zone/name short form
			ids[addr] = attrStr(a, "zone") + "/" + attrStr(a, "name")
		case "google_compute_firewall": // the bare name
			ids[addr] = attrStr(a, "name")
		}
	}
	if len(types) < 17 {
		t.Fatalf("only %d resource types in the example: %v", len(types), types)
	}
	for addr, id := range ids {
		r := e.must(0, "state", "rm", addr)
		contains(t, r, "stdout", addr)
		r = e.must(0, "import", "-no-color", addr, id)
		contains(t, r, "stdout", "Import successful")
	}
	r := e.must(2, "plan", "-detailed-exitcode", "-no-color")
	contains(t, r, "stdout",
		"google_sql_user.airflow will be updated in-place", "+ password = (sensitive value)",
		"google_sql_database_instance.db will be updated in-place", "~ deletion_protection = true -> false",
		"google_compute_instance.vm will be updated in-place", "+ allow_stopping_for_update = false",
		"Plan: 0 to add, 3 to change, 0 to destroy.")
	if n := strings.Count(r.stdout, "\n      ~ ") + strings.Count(r.stdout, "\n      + ") + strings.Count(r.stdout, "\n      - "); n != 3 {
		t.Errorf("%d attribute changes after import, want the 3 write-only ones\n%s", n, r)
	}
	e.must(0, "apply", "-auto-approve")
	e.noChanges()
	e.converged(gcpMinObjects)
}

// TestGCPExampleFaults: with 20 % of requests answered 429, 500 or 503,
// apply still converges, the re-plan is clean and destroy empties the fake.
func TestGCPExampleFaults(t *testing.T) {
	e := newGCPE2E(t, gcpfake.Options{FaultRate: 0.2, Seed: 5, Latency: gcpfake.FastLatency()}, "")
	var mu sync.Mutex
	requests := 0
	e.setHook(func(string, string) { mu.Lock(); requests++; mu.Unlock() })
	e.must(0, "apply", "-auto-approve")
	e.noChanges()
	e.converged(gcpMinObjects)
	e.must(0, "destroy", "-auto-approve")
	e.empty()
	mu.Lock()
	t.Logf("%d requests to the fake, ~20%% of them faults", requests)
	mu.Unlock()
}

// isCreate tells a create request (a POST to a collection) from the
// other requests the fake sees: gets, operation waits, patches, actions.
func isCreateRequest(method, uri string) bool {
	if method != "POST" {
		return false
	}
	path, _, _ := strings.Cut(uri, "?")
	last := path[strings.LastIndex(path, "/")+1:]
	switch last {
	case "networks", "subnetworks", "firewalls", "instances", "instanceGroups", "healthChecks",
		"backendServices", "urlMaps", "targetHttpProxies", "targetHttpsProxies", "sslCertificates",
		"addresses", "forwardingRules", "databases", "users", "b":
		return true
	}
	return false
}

// TestGCPExampleInterruptedApply cancels an apply when the fake sees the
// 5th create request (deterministic, not a timer): in-flight operations
// finish and are recorded, so every object in the fake is in state; the
// re-run creates the rest without duplicates.
func TestGCPExampleInterruptedApply(t *testing.T) {
	const k = 5
	e := newGCPE2E(t, gcpfake.Options{Latency: gcpfake.FastLatency()}, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	creates := 0
	e.setHook(func(method, uri string) {
		if !isCreateRequest(method, uri) {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if creates++; creates == k {
			cancel()
		}
	})
	r := e.runCtx(ctx, "apply", "-auto-approve", "-no-color")
	if r.code == 0 {
		t.Fatalf("the interrupted apply succeeded\n%s", r)
	}
	e.setHook(nil)
	mu.Lock()
	n := creates
	mu.Unlock()
	partial := e.fakeObjects()
	t.Logf("interrupted after %d create requests; the fake holds %d objects", n, len(partial))
	if len(partial) < k || len(partial) >= gcpMinObjects {
		t.Errorf("the fake holds %d objects after the interrupt: %v", len(partial), partial)
	}
	e.converged(k) // nothing orphaned by the interrupt

	e.must(0, "apply", "-auto-approve")
	e.noChanges()
	e.converged(gcpMinObjects)
	if n := e.countVMs(); n != 1 {
		t.Errorf("%d VMs after the re-run, want 1 (no duplicate): %v", n, e.fakeObjects())
	}
	e.must(0, "destroy", "-auto-approve")
	e.empty()
}

// gcpCreateMethods are the fake's operations a resource's create waits for,
// by type: their latencies weight the critical path. Storage bucket
// inserts and the random provider are synchronous (weight 0).
var gcpCreateMethods = map[string][]string{
	"google_compute_network":                 {"compute.networks.insert"},
	"google_compute_subnetwork":              {"compute.subnetworks.insert"},
	"google_compute_firewall":                {"compute.firewalls.insert"},
	"google_compute_instance":                {"compute.instances.insert"},
	"google_compute_instance_group":          {"compute.instanceGroups.insert", "compute.instanceGroups.addInstances"},
	"google_compute_health_check":            {"compute.healthChecks.insert"},
	"google_compute_backend_service":         {"compute.backendServices.insert"},
	"google_compute_global_address":          {"compute.globalAddresses.insert"},
	"google_compute_managed_ssl_certificate": {"compute.sslCertificates.insert"},
	"google_compute_url_map":                 {"compute.urlMaps.insert"},
	"google_compute_target_http_proxy":       {"compute.targetHttpProxies.insert"},
	"google_compute_target_https_proxy":      {"compute.targetHttpsProxies.insert"},
	"google_compute_global_forwarding_rule":  {"compute.globalForwardingRules.insert"},
	"google_sql_database_instance":           {"sql.instances.insert"},
	"google_sql_database":                    {"sql.databases.insert"},
	"google_sql_user":                        {"sql.users.insert"},
}

// gcpCriticalPath is the longest chain of the configuration's dependency
// graph (provision.Graph), each resource node weighted by opTime applied
// to the fake's latency for each operation its create waits for
// (gcpCreateMethods, summed); other nodes (variables, locals, providers,
// data sources, outputs) and resources whose creates are synchronous
// (buckets, random_*) weigh 0. With opTime = exactLatency it is the lower
// bound of any walk, whatever its parallelism.
func gcpCriticalPath(tb testing.TB, dir string, lat *gcpfake.Latency, opTime func(method string, d time.Duration) time.Duration) (time.Duration, []string) {
	tb.Helper()
	cfg, diags := config.LoadDir(dir)
	if diags.HasErrors() {
		tb.Fatal(diags.Error())
	}
	g := provision.Graph(cfg)
	weight := func(node string) time.Duration {
		typ, _, _ := strings.Cut(node, ".")
		var d time.Duration
		for _, m := range gcpCreateMethods[typ] {
			d += opTime(m, lat.For(m))
		}
		return d
	}
	type best struct {
		d     time.Duration
		chain []string
	}
	memo := map[string]best{}
	var longest func(string) best
	longest = func(n string) best {
		if b, ok := memo[n]; ok {
			return b
		}
		var b best
		for _, dep := range g.DependsOn(n) {
			if c := longest(dep); c.d > b.d {
				b = c
			}
		}
		if w := weight(n); w > 0 {
			b = best{d: b.d + w, chain: append(append([]string(nil), b.chain...), n)}
		}
		memo[n] = b
		return b
	}
	var top best
	for _, n := range g.Nodes() {
		if b := longest(n); b.d > top.d {
			top = b
		}
	}
	return top.d, top.chain
}

// gcpPollQuantized is when the google provider first sees an operation
// of method (duration d) DONE: compute operations at once (it calls their
// wait method), Cloud SQL ones at its first poll past d, polls coming
// every 1/16 of the time elapsed, at least 25 ms and at most 2 s apart
// (sqlPollWait in provision/google/config.go). The critical path under
// this weighting separates the cost of polling from the engine's own
// overhead.
func gcpPollQuantized(method string, d time.Duration) time.Duration {
	if d <= 0 || !strings.HasPrefix(method, "sql.") {
		return d
	}
	var t time.Duration
	for t < d {
		t += min(max(t/16, 25*time.Millisecond), 2*time.Second)
	}
	return t
}

func exactLatency(_ string, d time.Duration) time.Duration { return d }

// BenchmarkApplyExampleRealisticLatency applies examples/gcp against the
// fake's realistic latency profile (GCP's median operation durations
// compressed 60×, then scaled again by the sub-benchmark's factor) and
// reports the wall time of "airctl apply -auto-approve" (config load, plan
// with refresh, apply; the fake is started before the timer) as a ratio of
// the dependency critical path (gcpCriticalPath with the fake's latencies:
// x-critical-path) and of the same path with each operation rounded up to
// the provider's poll schedule (x-poll-quantized-path).
//
// Neither path counts one constraint outside the graph: the provider
// serialises operations on one Cloud SQL instance (Cloud SQL runs one at a
// time), so google_sql_user waits for google_sql_database although the
// graph lets them run side by side; at the realistic latencies that adds
// one user insert (8 s real, 133 ms at scale 1) to the measured time.
func BenchmarkApplyExampleRealisticLatency(b *testing.B) {
	for _, scale := range []float64{0.1, 0.25, 1} {
		b.Run(fmt.Sprintf("scale=%g", scale), func(b *testing.B) {
			lat := gcpfake.RealisticLatency().Scaled(scale)
			var wall, critical, quantized time.Duration
			for b.Loop() {
				b.StopTimer()
				e := newGCPE2E(b, gcpfake.Options{Latency: lat}, "")
				cp, chain := gcpCriticalPath(b, e.dir, lat, exactLatency)
				qp, _ := gcpCriticalPath(b, e.dir, lat, gcpPollQuantized)
				b.StartTimer()
				start := time.Now()
				e.must(0, "apply", "-auto-approve")
				elapsed := time.Since(start)
				wall += elapsed
				critical += cp
				quantized += qp
				b.Logf("apply %v; critical path %v (poll-quantized %v): %s", elapsed.Round(time.Millisecond),
					cp.Round(time.Millisecond), qp.Round(time.Millisecond), strings.Join(chain, " → "))
			}
			b.ReportMetric(float64(wall)/float64(critical), "x-critical-path")
			b.ReportMetric(float64(wall)/float64(quantized), "x-poll-quantized-path")
			b.ReportMetric(float64(wall.Milliseconds())/float64(b.N), "apply-ms")
			b.ReportMetric(float64(critical.Milliseconds())/float64(b.N), "critical-path-ms")
		})
	}
}
