package command

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airctl/airctl/provision"
	"github.com/airctl/airctl/provision/provider"
	"github.com/airctl/airctl/provision/provider/builtin"
	"github.com/airctl/airctl/provision/provider/testprovider"
	"github.com/airctl/airctl/provision/state"
)

// cli runs airctl through Run, the real entry point, in a temporary
// configuration directory, with the test provider (one instance, so
// gates, hooks and its in-memory cloud persist across commands) and the
// built-in providers.
type cli struct {
	t   *testing.T
	dir string
	tp  *testprovider.Provider
	// environ, stdinTTY and stdin shape the next runs.
	environ  []string
	stdinTTY bool
	stdin    string
	progress time.Duration
	// stderr, when set, captures the next runs' stderr so a test can wait
	// for a message while the command runs.
	stderr *syncBuffer
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	return &cli{t: t, dir: t.TempDir(), tp: testprovider.New()}
}

func (c *cli) providers() map[string]provision.Factory {
	ps := map[string]provision.Factory{"test": func() provider.Provider { return c.tp }}
	for name, f := range builtin.Providers() {
		ps[name] = provision.Factory(f)
	}
	return ps
}

// write creates a file in the configuration directory.
func (c *cli) write(name, content string) {
	c.t.Helper()
	if err := os.WriteFile(filepath.Join(c.dir, name), []byte(content), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

func (c *cli) read(name string) string {
	c.t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dir, name))
	if err != nil {
		c.t.Fatal(err)
	}
	return string(b)
}

// result is one command's exit code and output.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return "exit " + strconv.Itoa(r.code) + "\n--- stdout:\n" + r.stdout + "\n--- stderr:\n" + r.stderr
}

// run runs airctl with args in the configuration directory.
func (c *cli) run(args ...string) result {
	c.t.Helper()
	return c.runWith(context.Background(), nil, nil, args...)
}

// runWith runs with a context, interrupts and a stdout sink (nil: none).
func (c *cli) runWith(ctx context.Context, interrupts <-chan struct{}, stdout *syncBuffer, args ...string) result {
	if stdout == nil {
		stdout = newSyncBuffer()
	}
	stderr := c.stderr
	if stderr == nil {
		stderr = newSyncBuffer()
	}
	code := Run(ctx, append([]string{"-chdir=" + c.dir}, args...), Env{
		Stdin: strings.NewReader(c.stdin), Stdout: stdout, Stderr: stderr,
		Environ: c.environ, StdinTTY: c.stdinTTY, Dir: c.dir,
		Providers: c.providers(), Interrupts: interrupts, Version: "test", ProgressInterval: c.progress,
	})
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// must runs and fails the test unless the exit code is want.
func (c *cli) must(want int, args ...string) result {
	c.t.Helper()
	r := c.run(args...)
	if r.code != want {
		c.t.Fatalf("airctl %s: want exit %d\n%s", strings.Join(args, " "), want, r)
	}
	return r
}

// state reads the local state file.
func (c *cli) state() *state.State {
	c.t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dir, "airctl.tfstate"))
	if err != nil {
		c.t.Fatal(err)
	}
	st, err := state.Decode(b)
	if err != nil {
		c.t.Fatal(err)
	}
	return st
}

func (c *cli) addresses() []string {
	var out []string
	for _, a := range c.state().Addresses() {
		out = append(out, a.String())
	}
	return out
}

// objectID is the id of the test provider's object called name.
func (c *cli) objectID(name string) string {
	c.t.Helper()
	o, ok := c.tp.World().ByName("test_thing", name)
	if !ok {
		c.t.Fatalf("no test_thing %q in the world", name)
	}
	return o.ID
}

func contains(t *testing.T, r result, where string, subs ...string) {
	t.Helper()
	text := r.stdout
	if where == "stderr" {
		text = r.stderr
	}
	for _, s := range subs {
		if !strings.Contains(text, s) {
			t.Errorf("%s lacks %q\n%s", where, s, r)
		}
	}
}

// syncBuffer is a goroutine-safe output sink that can wait for text to
// appear, so tests synchronise on output instead of sleeping.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{}
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{changed: make(chan struct{})} }

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.changed)
	s.changed = make(chan struct{})
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor blocks until the output contains sub or the test's deadline
// nears.
func (s *syncBuffer) waitFor(t *testing.T, sub string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		s.mu.Lock()
		found, ch := strings.Contains(s.b.String(), sub), s.changed
		s.mu.Unlock()
		if found {
			return
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("output never contained %q:\n%s", sub, s.String())
		}
	}
}

var _ io.Writer = (*syncBuffer)(nil)

// waitArrival waits for an operation to reach a gate.
func waitArrival(t *testing.T, g *testprovider.Gate) string {
	t.Helper()
	select {
	case name := <-g.Arrived():
		return name
	case <-time.After(30 * time.Second):
		t.Fatal("no operation reached the gate")
		return ""
	}
}
