package deploy_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/airctl/airctl/deploy"
	"github.com/airctl/airctl/deploy/internal/sshtest"
	"github.com/airctl/airctl/deploy/ssh"
)

func TestHostKeyMismatchRefused(t *testing.T) {
	t.Parallel()
	h, p := setup(t)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	otherKey, _ := gossh.NewPublicKey(other.Public())
	h.host.SSH.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(h.srv.Addr)}, otherKey) + "\n"
	if err := os.WriteFile(h.host.SSH.KnownHostsFile, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	h.host.SSH.TrustOnFirstUse = true // must not matter for a changed key
	res, err := deploy.Deploy(testCtx(t), []deploy.Host{h.host}, p.release(t), h.opts)
	if !errors.Is(err, ssh.ErrHostKeyChanged) {
		t.Fatalf("Deploy = %v; want ErrHostKeyChanged", err)
	}
	t.Log(err)
	if !strings.Contains(err.Error(), gossh.FingerprintSHA256(h.srv.HostPublicKey)) {
		t.Errorf("error lacks the presented key's fingerprint: %v", err)
	}
	if res.Hosts[0].Outcome != deploy.Failed {
		t.Errorf("outcome %s", res.Hosts[0].Outcome)
	}
	if _, err := os.Stat(h.root); !os.IsNotExist(err) {
		t.Errorf("something reached the host: %v", err)
	}
}

func TestUnknownHostRefusedUnlessTrustOnFirstUse(t *testing.T) {
	t.Parallel()
	h, p := setup(t)
	h.host.SSH.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
	_, err := deploy.Deploy(testCtx(t), []deploy.Host{h.host}, p.release(t), h.opts)
	if !errors.Is(err, ssh.ErrUnknownHost) || !strings.Contains(err.Error(), gossh.FingerprintSHA256(h.srv.HostPublicKey)) ||
		!strings.Contains(err.Error(), "--trust-on-first-use") {
		t.Fatalf("Deploy = %v; want ErrUnknownHost with fingerprint and how to trust it", err)
	}
	t.Log(err)
	h.host.SSH.TrustOnFirstUse = true
	deployOne(t, h, p, h.opts)
	known, _ := os.ReadFile(h.host.SSH.KnownHostsFile)
	if !strings.Contains(string(known), strings.TrimSpace(string(gossh.MarshalAuthorizedKey(h.srv.HostPublicKey)))) {
		t.Fatalf("known_hosts after TOFU = %q", known)
	}
}

func TestDroppedConnectionMidUploadKeepsOldRelease(t *testing.T) {
	t.Parallel()
	h, p := setup(t)
	proxy := sshtest.NewProxy(t, h.srv.Addr)
	h.host.SSH.Addr = proxy.Addr
	h.host.SSH.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(proxy.Addr)}, h.srv.HostPublicKey) + "\n"
	if err := os.WriteFile(h.host.SSH.KnownHostsFile, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	first := deployOne(t, h, p, h.opts)

	// A 4 MiB binary; the link drops after 256 KiB of it.
	p.setBinary(t, "2", strings.Repeat("x", 4<<20))
	opts := h.opts
	var once sync.Once
	opts.OnUploadBytes = func(_ string, total int64) {
		if total > 256<<10 {
			once.Do(proxy.Cut)
		}
	}
	res, err := deploy.Deploy(testCtx(t), []deploy.Host{h.host}, p.release(t), opts)
	if !errors.Is(err, ssh.ErrConnectionLost) {
		t.Fatalf("Deploy = %v; want ErrConnectionLost", err)
	}
	t.Log(err)
	hr := res.Hosts[0]
	if hr.Outcome != deploy.Failed || hr.Upload.BytesSent >= 4<<20 {
		t.Fatalf("outcome %s after %d bytes", hr.Outcome, hr.Upload.BytesSent)
	}
	if got := currentRelease(t, h.root); got != first.Release {
		t.Fatalf("current = %s; want the old %s", got, first.Release)
	}
	if slices.Contains(releaseDirs(t, h.root), hr.Release) {
		t.Fatalf("half release releases/%s exists", hr.Release)
	}
	// The lock was released over a new connection, and the failure audited.
	checkAudit(t, h.root, deploy.Failed, hr.Release, first.Release)

	// The next deploy completes without --force-unlock and cleans up.
	again := deployOne(t, h, p, h.opts)
	if again.Outcome != deploy.Deployed || currentRelease(t, h.root) != hr.Release {
		t.Fatalf("redeploy: %s, current %s", again.Outcome, currentRelease(t, h.root))
	}
	for _, d := range releaseDirs(t, h.root) {
		if strings.HasPrefix(d, ".tmp-") {
			t.Errorf("leftover %s", d)
		}
	}
}

func TestConcurrentDeployRefusedNamingHolder(t *testing.T) {
	t.Parallel()
	h, p := setup(t)
	deployOne(t, h, p, h.opts)
	p.setBinary(t, "2", "")

	// A holds the lock, parked at its upload until B has been refused.
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
	_, errB := deploy.Deploy(testCtx(t), []deploy.Host{h.host}, p.release(t), optsB)
	close(release)
	t.Log(errB)
	var locked *deploy.LockedError
	if !errors.Is(errB, deploy.ErrLocked) || !errors.As(errB, &locked) || !strings.Contains(errB.Error(), "alice@laptop") ||
		!strings.Contains(errB.Error(), "--force-unlock") {
		t.Fatalf("second deploy = %v; want refused naming alice@laptop", errB)
	}
	if err := <-errA; err != nil {
		t.Fatalf("first deploy: %v", err)
	}
	// B was refused before touching anything: no audit line of its own.
	for _, r := range auditRecords(t, h.root) {
		if r.Who == "bob@ci" {
			t.Errorf("refused deploy wrote an audit record: %+v", r)
		}
	}
}

func TestForceUnlockRemovesStaleLock(t *testing.T) {
	t.Parallel()
	h, p := setup(t)
	deployOne(t, h, p, h.opts)
	// A deploy that died holding the lock.
	stale := `{"who":"carol@gone","machine":"old","pid":4242,"since":"2020-01-01T00:00:00Z","token":"dead"}`
	writeFile(t, h.srv.User, filepath.Join(h.root, ".deploy.lock", "info"), stale+"\n", 0o644)

	p.setBinary(t, "2", "")
	_, err := deploy.Deploy(testCtx(t), []deploy.Host{h.host}, p.release(t), h.opts)
	if !errors.Is(err, deploy.ErrLocked) || !strings.Contains(err.Error(), "carol@gone (pid 4242 on old") {
		t.Fatalf("Deploy = %v; want refused naming carol@gone", err)
	}
	opts := h.opts
	opts.ForceUnlock = true
	var forced string
	opts.Progress = func(e deploy.Event) {
		if e.Step == deploy.StepLock && e.Status == deploy.StatusDone {
			forced = e.Message
		}
	}
	if res := deployOne(t, h, p, opts); res.Outcome != deploy.Deployed {
		t.Fatalf("outcome %s", res.Outcome)
	}
	if !strings.Contains(forced, "carol@gone") {
		t.Errorf("lock step message %q does not say whose lock was removed", forced)
	}
}

func TestTwoHostsInParallel(t *testing.T) {
	t.Parallel()
	hs := newHealthServer(t)
	a, b := newTestHost(t), newTestHost(t)
	p := newProject(t, hs.port)
	opts, logOf := sharedShims(t, a)
	opts.Parallel = 2
	// Each host waits in its upload until the other has started its own:
	// only hosts deployed at the same time get past this.
	var mu sync.Mutex
	arrived := map[string]bool{}
	both := make(chan struct{})
	opts.Progress = func(e deploy.Event) {
		if e.Step != deploy.StepUpload || e.Status != deploy.StatusStarted {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if arrived[e.Host] = true; len(arrived) == 2 {
			close(both)
		}
	}
	opts.OnUploadBytes = func(string, int64) { // not serialised, unlike Progress
		select {
		case <-both:
		case <-time.After(30 * time.Second):
		}
	}
	res, err := deploy.Deploy(testCtx(t), []deploy.Host{a.host, b.host}, p.release(t), opts)
	if err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	select {
	case <-both:
	default:
		t.Fatal("the hosts were not deployed at the same time")
	}
	for i, h := range []*testHost{a, b} {
		if res.Hosts[i].Outcome != deploy.Deployed || currentRelease(t, h.root) != res.Release {
			t.Errorf("%s: %s", res.Hosts[i].Host, res.Hosts[i].Outcome)
		}
		if got := lines(t, logOf(h)); len(got) < 4 || !slices.Equal(got[len(got)-4:], fullRestart[1:]) {
			t.Errorf("%s: systemctl calls %q; want them to end with %q", res.Hosts[i].Host, got, fullRestart[1:])
		}
	}
}

func TestBatchStopsAfterFailedBatch(t *testing.T) {
	t.Parallel()
	hs := newHealthServer(t)
	a, b := newTestHost(t), newTestHost(t)
	p := newProject(t, hs.port)
	opts, _ := sharedShims(t, a)
	opts.Batch = 1
	writeFile(t, a.srv.User, filepath.Join(a.root, "aird.fail"), "", 0o644) // a's migration fails
	res, err := deploy.Deploy(testCtx(t), []deploy.Host{a.host, b.host}, p.release(t), opts)
	if !errors.Is(err, deploy.ErrFailed) {
		t.Fatalf("Deploy = %v; want failure", err)
	}
	if res.Hosts[0].Outcome != deploy.Failed || res.Hosts[1].Outcome != deploy.Skipped {
		t.Fatalf("outcomes %s, %s; want failed, skipped", res.Hosts[0].Outcome, res.Hosts[1].Outcome)
	}
	if _, err := os.Stat(b.root); !os.IsNotExist(err) {
		t.Fatalf("the second batch was touched: %v", err)
	}
}

// sharedShims puts one systemctl and one sudo shim in h's DestDir for
// several hosts: one Options value serves every host, as in production.
// Each host's calls go to a log named after the sshd port the command
// came in on (SSH_CONNECTION), which logOf returns.
func sharedShims(t *testing.T, h *testHost) (deploy.Options, func(*testHost) string) {
	t.Helper()
	dir := filepath.Join(h.dest, "shared")
	byPort := filepath.Join(dir, "systemctl-${SSH_CONNECTION##* }.log")
	writeFile(t, h.srv.User, filepath.Join(dir, "systemctl"), systemctlShim(`"`+byPort+`"`, ssh.Quote(filepath.Join(dir, "fail"))), 0o755)
	writeFile(t, h.srv.User, filepath.Join(dir, "sudo"), sudoShim(filepath.Join(dir, "sudo.log")), 0o755)
	opts := h.opts
	opts.Systemctl, opts.Sudo = filepath.Join(dir, "systemctl"), filepath.Join(dir, "sudo")
	return opts, func(x *testHost) string { return filepath.Join(dir, "systemctl-"+portOf(x.srv.Addr)+".log") }
}

func TestKeepReleasesPrunesOldest(t *testing.T) {
	t.Parallel()
	h, p := setup(t)
	opts := h.opts
	opts.KeepReleases = 3
	var deployed []string
	for v := range 5 {
		p.setBinary(t, fmt.Sprint(v), "")
		deployed = append(deployed, deployOne(t, h, p, opts).Release)
	}
	got := releaseDirs(t, h.root)
	want := slices.Clone(deployed[2:])
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("releases = %q; want the newest three %q", got, want)
	}
	// KeepReleases 1 still keeps current and the one before it.
	opts.KeepReleases = 1
	p.setBinary(t, "5", "")
	last := deployOne(t, h, p, opts)
	want = []string{deployed[4], last.Release}
	slices.Sort(want)
	if got := releaseDirs(t, h.root); !slices.Equal(got, want) {
		t.Fatalf("releases = %q; want current and previous %q", got, want)
	}
	if !slices.Equal(last.Pruned, []string{deployed[3], deployed[2]}) && !slices.Equal(last.Pruned, []string{deployed[2], deployed[3]}) {
		t.Errorf("pruned %q", last.Pruned)
	}
}
