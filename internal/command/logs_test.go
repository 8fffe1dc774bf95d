package command

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

// journalctlShim stands in for the journal: it records each call and
// answers like journalctl --show-cursor: two lines of history, then one
// new line after the first cursor, then nothing new (no cursor line, as
// journalctl prints none without entries).
func journalctlShim(log string) string {
	return fmt.Sprintf(`#!/bin/sh
printf '%%s\n' "$*" >> %s
case "$*" in
*"--after-cursor s=1;i=2"*) printf 'Nov 23 10:00:03 vm aird[7]: live line 3\n-- cursor: s=1;i=3\n' ;;
*--after-cursor*) ;;
*--show-cursor*) printf 'Nov 23 10:00:01 vm aird[7]: history line 1\nNov 23 10:00:02 vm aird[7]: history line 2\n-- cursor: s=1;i=2\n' ;;
*) printf 'Nov 23 10:00:01 vm aird[7]: history line 1\nNov 23 10:00:02 vm aird[7]: history line 2\n' ;;
esac
`, log)
}

func journalCalls(t *testing.T, h *deployHost) []string {
	t.Helper()
	b, err := os.ReadFile(h.journalLog)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func TestLogsShowsTheJournal(t *testing.T) {
	t.Parallel()
	h := newDeployHost(t)
	c := newDeployCLI(t, h, knownHostsOf(t, h))
	c.must(0, "apply", "-auto-approve", "-deploy=false")

	r := c.must(0, "logs", "-n", "5", "scheduler")
	contains(t, r, "stdout", "aird[7]: history line 1\n", "aird[7]: history line 2\n")
	if got, want := journalCalls(t, h), []string{"--no-pager -u aird-scheduler -n 5"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("journalctl calls = %q; want %q", got, want)
	}
	r = c.must(1, "logs", "scheduler; rm -rf /")
	contains(t, r, "stderr", "one service name")
}

// TestLogsFollow follows until the command's context ends (Ctrl-C in a
// terminal): every line is printed once, in order, without the cursor
// lines, and each poll asks for what follows the last cursor.
func TestLogsFollow(t *testing.T) {
	t.Parallel()
	h := newDeployHost(t)
	c := newDeployCLI(t, h, knownHostsOf(t, h))
	c.must(0, "apply", "-auto-approve", "-deploy=false")

	for _, stop := range []string{"cancel", "interrupt"} {
		t.Run(stop, func(t *testing.T) {
			if err := os.Remove(h.journalLog); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			interrupts := make(chan struct{}, 1)
			stdout := newSyncBuffer()
			done := make(chan result, 1)
			go func() { done <- c.runWith(ctx, interrupts, stdout, "logs", "-f", "webserver") }()
			stdout.waitFor(t, "live line 3")
			if stop == "cancel" {
				cancel()
			} else {
				interrupts <- struct{}{}
			}
			r := <-done
			if r.code != exitOK {
				t.Fatalf("logs -f ended with exit %d\n%s", r.code, r)
			}
			want := "Nov 23 10:00:01 vm aird[7]: history line 1\nNov 23 10:00:02 vm aird[7]: history line 2\nNov 23 10:00:03 vm aird[7]: live line 3\n"
			if r.stdout != want {
				t.Errorf("stdout = %q; want %q", r.stdout, want)
			}
			calls := journalCalls(t, h)
			if len(calls) < 2 || calls[0] != "--no-pager --show-cursor -u aird-webserver -n 100" || calls[1] != "--no-pager --show-cursor -u aird-webserver --after-cursor s=1;i=2" {
				t.Fatalf("journalctl calls = %q", calls)
			}
			for _, c := range calls[2:] {
				if c != "--no-pager --show-cursor -u aird-webserver --after-cursor s=1;i=3" {
					t.Errorf("poll after the last line: %q; want --after-cursor s=1;i=3", c)
				}
			}
		})
	}
}
