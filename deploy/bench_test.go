package deploy_test

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airctl/airctl/deploy/render"
	"github.com/airctl/airctl/deploy/ssh"
)

// The benchmarks time airctl's deploy side by side with the CI-script
// baseline it replaces, in one run: copy the release with rsync over ssh
// (scp where rsync is not installed) and restart the four services over
// ssh. The baseline has no lock, migration, health gate or audit; airctl
// does all of them within the same time.

const binarySize = 10 << 20 // about the size of a real aird

func BenchmarkNoopDeploy(b *testing.B) {
	benchDeploy(b, func(*testing.B, *project, int) {})
}

func BenchmarkDagOnlyDeploy(b *testing.B) {
	benchDeploy(b, func(b *testing.B, p *project, i int) {
		p.writeDag(b, fmt.Sprintf("bench-%d.hcl", i), fmt.Sprintf(`dag "bench_%d" {}`, i))
	})
}

func BenchmarkFullDeploy(b *testing.B) {
	ballast := randomText(b, binarySize)
	benchDeploy(b, func(b *testing.B, p *project, i int) {
		p.setBinary(b, fmt.Sprint(i+1), ballast) // a new binary every time
	})
}

// benchDeploy deploys once, then per iteration applies change (untimed)
// and times an airctl deploy and a baseline deploy of the same files.
func benchDeploy(b *testing.B, change func(*testing.B, *project, int)) {
	h, p := setup(b)
	p.setBinary(b, "0", randomText(b, binarySize))
	opts := h.opts
	opts.Logger = slog.New(slog.DiscardHandler)
	deployOne(b, h, p, opts)
	base := newBaseline(b, h, p)
	var ours, theirs time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		change(b, p, i)
		b.StartTimer()
		start := time.Now()
		deployOne(b, h, p, opts)
		ours += time.Since(start)
		start = time.Now()
		base.run(b)
		theirs += time.Since(start)
	}
	n := float64(b.N)
	b.ReportMetric(float64(ours.Milliseconds())/n, "airctl-ms/op")
	b.ReportMetric(float64(theirs.Milliseconds())/n, base.tool+"-ms/op")
	b.ReportMetric(float64(ours)/float64(theirs), "airctl/"+base.tool)
}

func randomText(b testing.TB, n int) string {
	raw := make([]byte, n*3/4)
	if _, err := rand.Read(raw); err != nil {
		b.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(raw)
}

// baseline is `rsync -a` (or `scp -r`) of the release plus one ssh command
// restarting the services, with the ssh CLI, verifying the host key.
type baseline struct {
	tool    string // rsync or scp
	port    string
	sshArgs []string
	target  string // user@host
	remote  string // destination directory on the host
	sources []string
	restart string
}

func newBaseline(b *testing.B, h *testHost, p *project) *baseline {
	b.Helper()
	if _, err := exec.LookPath("ssh"); err != nil {
		b.Skip("ssh client not installed (package openssh-client)")
	}
	stage := b.TempDir()
	files, err := render.Render(p.settings, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := render.WriteDir(filepath.Join(stage, "config"), files); err != nil {
		b.Fatal(err)
	}
	port := portOf(h.srv.Addr)
	base := &baseline{
		tool:    "scp",
		port:    port,
		sshArgs: []string{"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + h.srv.KnownHostsPath, "-i", h.srv.ClientKeyPath},
		target:  h.srv.User + "@127.0.0.1",
		remote:  filepath.Join(h.dest, "baseline"),
		sources: []string{filepath.Join(p.dir, "aird"), filepath.Join(stage, "config"), filepath.Join(p.dir, "dags")},
	}
	var restarts []string
	for _, u := range []string{"aird-scheduler.service", "aird-worker@1.service", "aird-webserver.service", "aird-flower.service"} {
		restarts = append(restarts, h.opts.Systemctl+" restart "+u)
	}
	base.restart = strings.Join(restarts, " && ")
	if _, err := exec.LookPath("rsync"); err == nil {
		base.tool = "rsync"
	} else {
		b.Log("rsync not installed (add package rsync to `make deps`); baseline uses scp")
	}
	base.ssh(b, "mkdir -p "+ssh.Quote(base.remote))
	return base
}

// run copies the release and restarts the services.
func (base *baseline) run(b *testing.B) {
	b.Helper()
	dest := base.target + ":" + base.remote + "/"
	if base.tool == "rsync" {
		rsh := "ssh -p " + base.port + " " + strings.Join(base.sshArgs, " ")
		base.exec(b, "rsync", append(append([]string{"-a", "--delete", "-e", rsh}, base.sources...), dest)...)
	} else {
		args := append([]string{"-q", "-r", "-p", "-P", base.port}, base.sshArgs...)
		base.exec(b, "scp", append(append(args, base.sources...), dest)...)
	}
	base.ssh(b, base.restart)
}

func (base *baseline) ssh(b *testing.B, command string) {
	b.Helper()
	args := append([]string{"-p", base.port}, base.sshArgs...)
	base.exec(b, "ssh", append(args, base.target, command)...)
}

func (base *baseline) exec(b *testing.B, name string, args ...string) {
	b.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK=")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}
