package logs_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airctl/airctl/workflow/logs"
)

const endLine = "[2024-05-06T07:08:11Z] aird: task ended: exit status 0 → success"

func TestFollowStreamsUntilEndLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "etl", "1.log")
	out := newLines()
	done := make(chan error, 1)
	// Started before the file exists: the try may still be queued.
	go func() { done <- logs.Follow(t.Context(), path, out) }()

	appendTo(t, path, "first\n")
	if got := out.next(t); got != "first" {
		t.Fatalf("line %q", got)
	}
	// A line arriving in pieces, and task output that merely mentions the
	// marker, do not end the tail.
	appendTo(t, path, "sec")
	appendTo(t, path, "ond\n")
	if got := out.next(t); got != "second" {
		t.Fatalf("line %q", got)
	}
	appendTo(t, path, "echo aird: task ended: fake\n")
	if got := out.next(t); got != "echo aird: task ended: fake" {
		t.Fatalf("line %q", got)
	}
	select {
	case err := <-done:
		t.Fatalf("Follow returned early: %v", err)
	default:
	}
	appendTo(t, path, endLine+"\n")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if want := "first\nsecond\necho aird: task ended: fake\n" + endLine + "\n"; out.String() != want {
		t.Fatalf("followed %q, want %q", out.String(), want)
	}
}

// A finished log is printed whole and Follow returns at once.
func TestFollowFinishedLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "1.log")
	appendTo(t, path, "only\n"+endLine+"\n")
	out := newLines()
	if err := logs.Follow(t.Context(), path, out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(out.String(), endLine+"\n") {
		t.Fatalf("followed %q", out.String())
	}
}

func TestFollowStopsWithContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "1.log")
	appendTo(t, path, "running\n")
	ctx, cancel := context.WithCancel(t.Context())
	out := newLines()
	done := make(chan error, 1)
	go func() { done <- logs.Follow(ctx, path, out) }()
	if got := out.next(t); got != "running" {
		t.Fatalf("line %q", got)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Follow after cancel: %v", err)
	}
}

func TestIsEndLine(t *testing.T) {
	for line, want := range map[string]bool{
		endLine: true,
		"[2024-05-06T07:08:11Z] aird: task ended: stopped by shutdown, handed back → scheduled": true,
		"aird: task ended: exit status 0":              false,
		"[x y] aird: task ended: exit status 0":        false,
		"[2024] hello aird: task ended: exit status 0": false,
	} {
		if logs.IsEndLine(line) != want {
			t.Errorf("IsEndLine(%q) = %v", line, !want)
		}
	}
}
