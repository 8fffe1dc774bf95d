package deploy_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airctl/airctl/deploy"
)

// events records progress events.
type events struct {
	mu  sync.Mutex
	all []deploy.Event
}

func (e *events) record(ev deploy.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
}

// status is the last status of step s, "" if it never ran.
func (e *events) status(s deploy.Step) deploy.Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	var st deploy.Status
	for _, ev := range e.all {
		if ev.Step == s {
			st = ev.Status
		}
	}
	return st
}

func TestRollbackToPreviousRestartsInOrder(t *testing.T) {
	t.Parallel()
	h, p := setup(t)
	first := deployOne(t, h, p, h.opts)
	p.setBinary(t, "2", "")
	second := deployOne(t, h, p, h.opts)
	sys, aird := lines(t, h.sysLog), lines(t, filepath.Join(h.root, "aird.log"))

	var ev events
	opts := h.opts
	opts.Progress = ev.record
	res, err := deploy.Rollback(testCtx(t), []deploy.Host{h.host}, p.settings, "", opts)
	if err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	hr := res.Hosts[0]
	if res.Release != first.Release || hr.Release != first.Release || hr.Previous != second.Release || hr.Outcome != deploy.RolledBack {
		t.Fatalf("result %+v; want rolled-back from %s to %s", res, second.Release, first.Release)
	}
	if got := currentRelease(t, h.root); got != first.Release {
		t.Fatalf("current = %s; want %s", got, first.Release)
	}
	if got := lines(t, h.sysLog)[len(sys):]; !slices.Equal(got, fullRestart) {
		t.Fatalf("systemctl calls:\n got %q\nwant %q", got, fullRestart)
	}
	if !slices.Equal(hr.Restarted, []string{"aird-scheduler.service", "aird-worker@1.service", "aird-webserver.service", "aird-flower.service"}) {
		t.Errorf("restarted %q", hr.Restarted)
	}
	// Nothing uploaded, nothing migrated (down or up), nothing pruned.
	if got := lines(t, filepath.Join(h.root, "aird.log")); !slices.Equal(got, aird) {
		t.Errorf("rollback ran aird: %q", got[len(aird):])
	}
	for step, want := range map[deploy.Step]deploy.Status{
		deploy.StepConnect: deploy.StatusDone, deploy.StepLock: deploy.StatusDone, deploy.StepSelect: deploy.StatusDone,
		deploy.StepUpload: deploy.StatusSkipped, deploy.StepMigrate: deploy.StatusSkipped, deploy.StepBootstrap: "",
		deploy.StepInstall: deploy.StatusSkipped, deploy.StepSwitch: deploy.StatusDone, deploy.StepRestart: deploy.StatusDone,
		deploy.StepHealth: deploy.StatusDone, deploy.StepUnlock: deploy.StatusDone,
	} {
		if got := ev.status(step); got != want {
			t.Errorf("step %s: %q; want %q", step, got, want)
		}
	}
	if !slices.Contains(releaseDirs(t, h.root), second.Release) || len(hr.Pruned) != 0 {
		t.Errorf("the release rolled back from was pruned: %q", hr.Pruned)
	}
	if r := checkAudit(t, h.root, deploy.RolledBack, first.Release, second.Release); r.Action != deploy.ActionRollback {
		t.Errorf("audit action %q; want %q", r.Action, deploy.ActionRollback)
	}
	if _, err := os.Stat(filepath.Join(h.root, ".deploy.lock")); !os.IsNotExist(err) {
		t.Errorf("lock left behind: %v", err)
	}

	// The next deploy of the second release rolls forward, with nothing
	// to upload.
	again := deployOne(t, h, p, h.opts)
	if again.Outcome != deploy.Deployed || again.Release != second.Release || !again.Upload.Present {
		t.Errorf("roll forward: %s of %s, upload %+v", again.Outcome, again.Release, again.Upload)
	}
}

func TestRollbackToNamedReleaseReinstallsConfig(t *testing.T) {
	t.Parallel()
	h, p := setup(t)
	first := deployOne(t, h, p, h.opts)
	p.settings.WorkerConcurrency = 9
	deployOne(t, h, p, h.opts)
	p.setBinary(t, "3", "")
	third := deployOne(t, h, p, h.opts)
	// A redis-server upgrade replaced redis.conf, dropping the include.
	redisConf := filepath.Join(h.dest, "etc", "redis", "redis.conf")
	writeFile(t, h.srv.User, redisConf, "port 6379\nappendonly no\n", 0o644)
	sys := lines(t, h.sysLog)

	res, err := deploy.Rollback(testCtx(t), []deploy.Host{h.host}, p.settings, first.Release, h.opts)
	if err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	if hr := res.Hosts[0]; hr.Outcome != deploy.RolledBack || hr.Previous != third.Release || currentRelease(t, h.root) != first.Release {
		t.Fatalf("outcome %s from %s, current %s; want rolled back to %s", hr.Outcome, hr.Previous, currentRelease(t, h.root), first.Release)
	}
	installed, _ := os.ReadFile(filepath.Join(h.dest, "etc", "aird", "aird.hcl"))
	old, _ := os.ReadFile(filepath.Join(h.root, "releases", first.Release, "config", "aird.hcl"))
	if len(old) == 0 || string(installed) != string(old) {
		t.Fatalf("installed aird.hcl is not the first release's:\n%s", installed)
	}
	if redis := lines(t, redisConf); redis[len(redis)-1] != "include /etc/redis/aird.conf" {
		t.Errorf("redis.conf = %q; want the include line back", redis)
	}
	want := append([]string{"restart redis-server.service"}, fullRestart...)
	if got := lines(t, h.sysLog)[len(sys):]; !slices.Equal(got, want) {
		t.Fatalf("systemctl calls:\n got %q\nwant %q", got, want)
	}
	checkAudit(t, h.root, deploy.RolledBack, first.Release, third.Release)

	// Already there: nothing done.
	sys = lines(t, h.sysLog)
	res, err = deploy.Rollback(testCtx(t), []deploy.Host{h.host}, p.settings, first.Release, h.opts)
	if err != nil || res.Hosts[0].Outcome != deploy.Unchanged {
		t.Fatalf("second Rollback: %v, %s; want unchanged", err, res.Hosts[0].Outcome)
	}
	if got := lines(t, h.sysLog); !slices.Equal(got, sys) {
		t.Errorf("a rollback to the current release restarted: %q", got[len(sys):])
	}
}

func TestRollbackToUnknownReleaseListsAvailable(t *testing.T) {
	t.Parallel()
	h, p := setup(t)
	first := deployOne(t, h, p, h.opts)
	p.setBinary(t, "2", "")
	second := deployOne(t, h, p, h.opts)
	sys := lines(t, h.sysLog)

	res, err := deploy.Rollback(testCtx(t), []deploy.Host{h.host}, p.settings, "0123456789abcdef", h.opts)
	if !errors.Is(err, deploy.ErrFailed) || !strings.Contains(err.Error(), "release 0123456789abcdef is not on this host") ||
		!strings.Contains(err.Error(), first.Release) || !strings.Contains(err.Error(), second.Release+" (created ") ||
		!strings.Contains(err.Error(), ", current)") {
		t.Fatalf("Rollback = %v; want the unknown release named and %s, %s listed", err, first.Release, second.Release)
	}
	t.Log(err)
	if !strings.HasPrefix(err.Error(), "rollback failed: ") || res.Hosts[0].Outcome != deploy.Failed {
		t.Errorf("error %q, outcome %s", err, res.Hosts[0].Outcome)
	}
	if currentRelease(t, h.root) != second.Release || !slices.Equal(lines(t, h.sysLog), sys) {
		t.Fatal("a refused rollback touched the host")
	}
	if _, err := os.Stat(filepath.Join(h.root, ".deploy.lock")); !os.IsNotExist(err) {
		t.Errorf("lock left behind: %v", err)
	}

	// Not a release name: refused before any host is contacted.
	if res, err := deploy.Rollback(testCtx(t), []deploy.Host{h.host}, p.settings, "../etc", h.opts); err == nil || len(res.Hosts) != 0 {
		t.Errorf("Rollback(../etc) = %v, %+v", err, res)
	}

	// Back on the first release, there is nothing older.
	if _, err := deploy.Rollback(testCtx(t), []deploy.Host{h.host}, p.settings, first.Release, h.opts); err != nil {
		t.Fatal(err)
	}
	_, err = deploy.Rollback(testCtx(t), []deploy.Host{h.host}, p.settings, "", h.opts)
	if err == nil || !strings.Contains(err.Error(), "no release older than the current one ("+first.Release+")") || !strings.Contains(err.Error(), second.Release) {
		t.Fatalf("Rollback from the oldest = %v", err)
	}

	// A host never deployed to is left as it was: no release root made.
	fresh := newTestHost(t)
	_, err = deploy.Rollback(testCtx(t), []deploy.Host{fresh.host}, p.settings, "", fresh.opts)
	if err == nil || !strings.Contains(err.Error(), "nothing was ever deployed here") {
		t.Fatalf("Rollback of a fresh host = %v", err)
	}
	if _, err := os.Stat(fresh.root); !os.IsNotExist(err) {
		t.Errorf("rollback created the release root: %v", err)
	}
}

func TestRollbackRefusedWhileDeployHoldsLock(t *testing.T) {
	t.Parallel()
	h, p := setup(t)
	deployOne(t, h, p, h.opts)
	p.setBinary(t, "2", "")
	second := deployOne(t, h, p, h.opts)
	p.setBinary(t, "3", "")

	// A deploy holds the lock, parked at its upload until the rollback has
	// been refused.
	holding, release := make(chan struct{}), make(chan struct{})
	optsA := h.opts
	optsA.Who = "alice@laptop"
	optsA.Progress = func(e deploy.Event) {
		if e.Step == deploy.StepUpload && e.Status == deploy.StatusStarted {
			close(holding)
			<-release
		}
	}
	errA := make(chan error, 1)
	go func() {
		_, err := deploy.Deploy(testCtx(t), []deploy.Host{h.host}, p.release(t), optsA)
		errA <- err
	}()
	<-holding
	optsB := h.opts
	optsB.Who = "bob@ci"
	res, errB := deploy.Rollback(testCtx(t), []deploy.Host{h.host}, p.settings, "", optsB)
	close(release)
	t.Log(errB)
	var locked *deploy.LockedError
	if !errors.Is(errB, deploy.ErrLocked) || !errors.As(errB, &locked) || locked.Holder.Who != "alice@laptop" ||
		!strings.Contains(errB.Error(), "alice@laptop") || !strings.Contains(errB.Error(), "--force-unlock") {
		t.Fatalf("Rollback = %v; want refused naming alice@laptop", errB)
	}
	if res.Hosts[0].Outcome != deploy.Failed {
		t.Errorf("outcome %s", res.Hosts[0].Outcome)
	}
	if err := <-errA; err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if cur := currentRelease(t, h.root); cur == second.Release {
		t.Error("the deploy holding the lock did not switch")
	}
	for _, r := range auditRecords(t, h.root) {
		if r.Who == "bob@ci" {
			t.Errorf("refused rollback wrote an audit record: %+v", r)
		}
	}
}

func TestRollbackFailingHealthIsReportedNotBounced(t *testing.T) {
	t.Parallel()
	h, p := setup(t)
	opts := h.opts
	opts.HealthTimeout = 300 * time.Millisecond // the stand-in webserver answers at once
	// A first release that never gets healthy (nothing to roll back to),
	// then a good one.
	p.setBinary(t, "1", "unhealthy")
	res, err := deploy.Deploy(testCtx(t), []deploy.Host{h.host}, p.release(t), opts)
	if err == nil {
		t.Fatal("the unhealthy first release deployed")
	}
	bad := res.Hosts[0].Release
	p.setBinary(t, "2", "")
	good := deployOne(t, h, p, opts)
	sys := lines(t, h.sysLog)

	res, err = deploy.Rollback(testCtx(t), []deploy.Host{h.host}, p.settings, "", opts)
	if !errors.Is(err, deploy.ErrFailed) || !strings.Contains(err.Error(), "health gate") ||
		!strings.Contains(err.Error(), "NOT switched back to "+good.Release) {
		t.Fatalf("Rollback = %v; want the failed health gate reported", err)
	}
	t.Log(err)
	hr := res.Hosts[0]
	if hr.Outcome != deploy.Failed || hr.Release != bad || currentRelease(t, h.root) != bad {
		t.Fatalf("outcome %s of %s, current %s; want failed, left on %s", hr.Outcome, hr.Release, currentRelease(t, h.root), bad)
	}
	// One restart into the rolled-back-to release; no second one back.
	if got := lines(t, h.sysLog)[len(sys):]; !slices.Equal(got, fullRestart) {
		t.Fatalf("systemctl calls:\n got %q\nwant %q", got, fullRestart)
	}
	if r := checkAudit(t, h.root, deploy.Failed, bad, good.Release); r.Action != deploy.ActionRollback || !strings.Contains(r.Error, "health gate") {
		t.Errorf("audit record %+v", r)
	}
	if _, err := os.Stat(filepath.Join(h.root, ".deploy.lock")); !os.IsNotExist(err) {
		t.Errorf("lock left behind: %v", err)
	}
}
