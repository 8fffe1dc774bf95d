package deploy_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/airctl/airctl/deploy"
	"github.com/airctl/airctl/deploy/release"
)

var fullRestart = []string{
	"start aird-webserver.socket",
	"restart aird-scheduler.service",
	"restart aird-worker@1.service",
	"restart aird-webserver.service",
	"restart aird-flower.service",
}

func TestFirstDeployBootstrapsAndStartsInOrder(t *testing.T) {
	t.Parallel()
	h, p := setup(t)
	res := deployOne(t, h, p, h.opts)

	if res.Outcome != deploy.Deployed || res.Previous != "" {
		t.Fatalf("outcome %s, previous %q; want deployed from nothing", res.Outcome, res.Previous)
	}
	if got := currentRelease(t, h.root); got != res.Release {
		t.Fatalf("current = %s; want %s", got, res.Release)
	}
	want := []string{
		"daemon-reload",
		"enable aird-scheduler.service aird-webserver.socket aird-webserver.service aird-worker@1.service aird-flower.service",
		"restart redis-server.service",
		"restart aird-webserver.socket",
		"restart aird-scheduler.service",
		"restart aird-worker@1.service",
		"restart aird-webserver.service",
		"restart aird-flower.service",
	}
	if got := lines(t, h.sysLog); !slices.Equal(got, want) {
		t.Fatalf("systemctl calls:\n got %q\nwant %q", got, want)
	}
	// Bootstrap and install went through sudo, asking for the right owners.
	sudo := strings.Join(lines(t, h.sudoLog), "\n")
	for _, want := range []string{
		"groupadd --system aird",
		"useradd --system --gid aird --home-dir /var/lib/aird",
		"install -m 0600 -o aird -g aird " + filepath.Join(h.root, "releases", res.Release, "config", "aird.env"),
		"install -m 0644 -o root -g root " + filepath.Join(h.root, "releases", res.Release, "units", "aird-scheduler.service"),
	} {
		if !strings.Contains(sudo, want) {
			t.Errorf("sudo log lacks %q:\n%s", want, sudo)
		}
	}
	if strings.Contains(sudo, "apt-get") {
		t.Error("Redis was installed although redis.conf exists")
	}
	// Units, config and the Redis include are in place.
	for _, f := range []string{"etc/systemd/system/aird-scheduler.service", "etc/systemd/system/aird-webserver.socket", "etc/aird/aird.hcl", "etc/redis/aird.conf"} {
		if _, err := os.Stat(filepath.Join(h.dest, f)); err != nil {
			t.Error(err)
		}
	}
	if fi, err := os.Stat(filepath.Join(h.dest, "etc/aird/aird.env")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("aird.env: %v, mode %v; want 0600", err, fi)
	}
	redis := lines(t, filepath.Join(h.dest, "etc/redis/redis.conf"))
	if redis[len(redis)-1] != "include /etc/redis/aird.conf" || redis[0] != "port 6379" {
		t.Errorf("redis.conf = %q; want the original with the include last", redis)
	}
	// The migration ran the new binary with config and secrets.
	aird := lines(t, filepath.Join(h.root, "aird.log"))
	wantMigrate := "--config " + filepath.Join(h.root, "releases", res.Release, "config", "aird.hcl") + " db migrate secrets=yes"
	if !slices.Equal(aird, []string{wantMigrate}) {
		t.Errorf("aird calls = %q; want [%q]", aird, wantMigrate)
	}
	if res.Upload.SFTPWrites != res.Upload.Files+1 || res.Upload.Linked != 0 {
		t.Errorf("upload %+v; want every file sent plus the manifest", res.Upload)
	}
	checkAudit(t, h.root, deploy.Deployed, res.Release, "")
	if _, err := os.Stat(filepath.Join(h.root, ".deploy.lock")); !os.IsNotExist(err) {
		t.Errorf("lock left behind: %v", err)
	}
}

// checkAudit checks the last audit record and that no secret reached the log.
func checkAudit(t *testing.T, root string, outcome deploy.Outcome, rel, prev string) deploy.AuditRecord {
	t.Helper()
	recs := auditRecords(t, root)
	if len(recs) == 0 {
		t.Fatal("no audit record")
	}
	r := recs[len(recs)-1]
	if r.Result != outcome || r.Release != rel || r.Previous != prev || r.Who != "tester@ci" || r.Commit != "abc123" {
		t.Errorf("audit record %+v; want %s of %s after %q by tester@ci at abc123", r, outcome, rel, prev)
	}
	data, _ := os.ReadFile(filepath.Join(root, "audit.log"))
	if strings.Contains(string(data), "s3cret") {
		t.Error("a secret reached the audit log")
	}
	return r
}

func TestNoopDeploySendsAndRestartsNothing(t *testing.T) {
	t.Parallel()
	h, p := setup(t)
	first := deployOne(t, h, p, h.opts)
	sys, aird := lines(t, h.sysLog), lines(t, filepath.Join(h.root, "aird.log"))

	res := deployOne(t, h, p, h.opts)
	if res.Outcome != deploy.Unchanged || res.Release != first.Release {
		t.Fatalf("outcome %s of %s; want unchanged %s", res.Outcome, res.Release, first.Release)
	}
	if res.Upload.SFTPWrites != 0 || res.Upload.BytesSent != 0 {
		t.Fatalf("no-op deploy sent %d files, %d bytes", res.Upload.SFTPWrites, res.Upload.BytesSent)
	}
	if got := lines(t, h.sysLog); !slices.Equal(got, sys) {
		t.Fatalf("no-op deploy called systemctl: %q", got[len(sys):])
	}
	if got := lines(t, filepath.Join(h.root, "aird.log")); !slices.Equal(got, aird) {
		t.Fatalf("no-op deploy ran aird: %q", got[len(aird):])
	}
	checkAudit(t, h.root, deploy.Unchanged, first.Release, first.Release)
}

func TestDagOnlyChangeRestartsNothing(t *testing.T) {
	t.Parallel()
	h, p := setup(t)
	first := deployOne(t, h, p, h.opts)
	sys := lines(t, h.sysLog)

	p.writeDag(t, "sub/new.hcl", `dag "new" {}`)
	res := deployOne(t, h, p, h.opts)
	if res.Outcome != deploy.Deployed || !slices.Equal(res.Changed, []release.Category{release.Dags}) {
		t.Fatalf("outcome %s, changed %v; want deployed, dags", res.Outcome, res.Changed)
	}
	if got := lines(t, h.sysLog); !slices.Equal(got, sys) {
		t.Fatalf("DAG-only deploy called systemctl: %q", got[len(sys):])
	}
	if got, err := os.ReadFile(filepath.Join(h.root, "current", "dags", "sub", "new.hcl")); err != nil || string(got) != `dag "new" {}` {
		t.Fatalf("current/dags/sub/new.hcl = %q, %v", got, err)
	}
	// Only the new DAG (and the manifest) travelled; the rest was linked.
	if res.Upload.SFTPWrites != 2 || res.Upload.Linked != res.Upload.Files-1 {
		t.Fatalf("upload %+v; want 1 file + manifest sent, the rest linked", res.Upload)
	}
	if aird := lines(t, filepath.Join(h.root, "aird.log")); len(aird) != 1 {
		t.Fatalf("DAG-only deploy ran a migration: %q", aird)
	}
	r := checkAudit(t, h.root, deploy.Deployed, res.Release, first.Release)
	if !slices.Equal(r.Changed, []release.Category{release.Dags}) {
		t.Errorf("audit changed = %v", r.Changed)
	}
}

func TestBinaryChangeRestartsInOrder(t *testing.T) {
	t.Parallel()
	h, p := setup(t)
	first := deployOne(t, h, p, h.opts)
	sys := lines(t, h.sysLog)

	p.setBinary(t, "2", "")
	res := deployOne(t, h, p, h.opts)
	if res.Outcome != deploy.Deployed || !slices.Equal(res.Changed, []release.Category{release.Binary}) {
		t.Fatalf("outcome %s, changed %v; want deployed, binary", res.Outcome, res.Changed)
	}
	if got := lines(t, h.sysLog)[len(sys):]; !slices.Equal(got, fullRestart) {
		t.Fatalf("systemctl calls:\n got %q\nwant %q", got, fullRestart)
	}
	if !slices.Equal(res.Restarted, []string{"aird-scheduler.service", "aird-worker@1.service", "aird-webserver.service", "aird-flower.service"}) {
		t.Errorf("restarted %q", res.Restarted)
	}
	if aird := lines(t, filepath.Join(h.root, "aird.log")); len(aird) != 2 || !strings.Contains(aird[1], res.Release) {
		t.Fatalf("aird calls %q; want a migration by the new release", aird)
	}
	// Config did not change: nothing reinstalled.
	if sudo := lines(t, h.sudoLog); slices.ContainsFunc(sudo, func(l string) bool { return strings.Contains(l, res.Release) }) {
		t.Errorf("binary-only deploy reinstalled config: %q", sudo)
	}
	checkAudit(t, h.root, deploy.Deployed, res.Release, first.Release)
}

func TestConfigChangeReloadsUnits(t *testing.T) {
	t.Parallel()
	h, p := setup(t)
	deployOne(t, h, p, h.opts)
	sys := lines(t, h.sysLog)

	p.settings.WorkerInstances = 2
	res := deployOne(t, h, p, h.opts)
	want := []string{
		"daemon-reload",
		"enable aird-worker@2.service",
		"start aird-webserver.socket",
		"restart aird-scheduler.service",
		"restart aird-worker@1.service",
		"restart aird-worker@2.service",
		"restart aird-webserver.service",
		"restart aird-flower.service",
	}
	if got := lines(t, h.sysLog)[len(sys):]; !slices.Equal(got, want) {
		t.Fatalf("systemctl calls:\n got %q\nwant %q (changed %v)", got, want, res.Changed)
	}
}

func TestMigrationFailureSwitchesNothing(t *testing.T) {
	t.Parallel()
	h, p := setup(t)
	first := deployOne(t, h, p, h.opts)
	sys := lines(t, h.sysLog)
	writeFile(t, h.srv.User, filepath.Join(h.root, "aird.fail"), "", 0o644)

	p.setBinary(t, "2", "")
	res, err := deploy.Deploy(testCtx(t), []deploy.Host{h.host}, p.release(t), h.opts)
	if !errors.Is(err, deploy.ErrFailed) || !strings.Contains(err.Error(), "db migrate") {
		t.Fatalf("Deploy = %v; want a failed migration", err)
	}
	t.Log(err)
	if res.Hosts[0].Outcome != deploy.Failed || currentRelease(t, h.root) != first.Release {
		t.Fatalf("outcome %s, current %s; want failed with %s still current", res.Hosts[0].Outcome, currentRelease(t, h.root), first.Release)
	}
	if got := lines(t, h.sysLog); !slices.Equal(got, sys) {
		t.Fatalf("failed migration restarted: %q", got[len(sys):])
	}
	checkAudit(t, h.root, deploy.Failed, res.Release, first.Release)
}

func TestFailedHealthRollsBack(t *testing.T) {
	t.Parallel()
	h, p := setup(t)
	first := deployOne(t, h, p, h.opts)
	sys := lines(t, h.sysLog)

	p.setBinary(t, "2", "unhealthy")
	opts := h.opts
	opts.HealthTimeout = 300 * 1e6 // 300ms: the stand-in webserver answers at once
	res, err := deploy.Deploy(testCtx(t), []deploy.Host{h.host}, p.release(t), opts)
	if err == nil || !strings.Contains(err.Error(), "rolled back to release "+first.Release+", which is healthy") {
		t.Fatalf("Deploy = %v; want a failure rolled back to %s", err, first.Release)
	}
	t.Log(err)
	hr := res.Hosts[0]
	if hr.Outcome != deploy.RolledBack || currentRelease(t, h.root) != first.Release {
		t.Fatalf("outcome %s, current %s; want rolled-back to %s", hr.Outcome, currentRelease(t, h.root), first.Release)
	}
	// Restarted on the new release, then again on the old one.
	want := append(slices.Clone(fullRestart), fullRestart...)
	if got := lines(t, h.sysLog)[len(sys):]; !slices.Equal(got, want) {
		t.Fatalf("systemctl calls:\n got %q\nwant %q", got, want)
	}
	// The failed release stays on the host (for inspection), current does not.
	if !slices.Contains(releaseDirs(t, h.root), hr.Release) {
		t.Errorf("failed release %s was deleted", hr.Release)
	}
	checkAudit(t, h.root, deploy.RolledBack, hr.Release, first.Release)
}

func TestFailedRestartRollsBack(t *testing.T) {
	t.Parallel()
	h, p := setup(t)
	first := deployOne(t, h, p, h.opts)
	writeFile(t, h.srv.User, filepath.Join(h.dest, "systemctl.fail"), "restart aird-webserver.service\n", 0o644)
	t.Cleanup(func() { _ = os.Remove(filepath.Join(h.dest, "systemctl.fail")) })

	p.setBinary(t, "2", "")
	res, err := deploy.Deploy(testCtx(t), []deploy.Host{h.host}, p.release(t), h.opts)
	if err == nil || !strings.Contains(err.Error(), "aird-webserver.service") {
		t.Fatalf("Deploy = %v; want the failed restart named", err)
	}
	t.Log(err)
	// The rollback's own webserver restart fails too: reported loudly.
	if res.Hosts[0].Outcome != deploy.Failed || !strings.Contains(err.Error(), "ROLLBACK") || currentRelease(t, h.root) != first.Release {
		t.Fatalf("outcome %s, current %s, err %v", res.Hosts[0].Outcome, currentRelease(t, h.root), err)
	}
}

func TestFailedSwitchPutsConfigBack(t *testing.T) {
	t.Parallel()
	h, p := setup(t)
	first := deployOne(t, h, p, h.opts)
	// A directory where the switch wants its temporary symlink makes the
	// rename fail.
	writeFile(t, h.srv.User, filepath.Join(h.root, "current.tmp", "x"), "", 0o644)

	p.settings.WorkerConcurrency = 9
	_, err := deploy.Deploy(testCtx(t), []deploy.Host{h.host}, p.release(t), h.opts)
	if err == nil || !strings.Contains(err.Error(), "were put back") {
		t.Fatalf("Deploy = %v; want a failed switch with the old config put back", err)
	}
	t.Log(err)
	if currentRelease(t, h.root) != first.Release {
		t.Fatal("current moved")
	}
	installed, _ := os.ReadFile(filepath.Join(h.dest, "etc", "aird", "aird.hcl"))
	old, _ := os.ReadFile(filepath.Join(h.root, "releases", first.Release, "config", "aird.hcl"))
	if len(old) == 0 || string(installed) != string(old) {
		t.Fatalf("installed aird.hcl is not the current release's:\n%s", installed)
	}
}
