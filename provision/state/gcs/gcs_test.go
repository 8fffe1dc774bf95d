package gcs

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airctl/airctl/provision/state"
	"github.com/airctl/airctl/provision/state/statetest"
)

// fastRetry keeps injected-fault tests quick; the behaviour is the same.
func fastRetry() RetryConfig {
	return RetryConfig{Initial: time.Millisecond, Max: 5 * time.Millisecond, MaxAttempts: 5}
}

func newBackend(t *testing.T, f *fakeGCS, prefix string) *Backend {
	t.Helper()
	b, err := New(f.client(t), Config{Bucket: testBucket, Prefix: prefix, Retry: fastRetry()})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newPair(t *testing.T) (state.Backend, state.Backend) {
	f := newFakeGCS(t, false)
	return newBackend(t, f, "airctl/prod"), newBackend(t, f, "airctl/prod")
}

func TestBackendSuite(t *testing.T) { statetest.Run(t, newPair) }

func TestObjectNames(t *testing.T) {
	f := newFakeGCS(t, false)
	for _, tt := range []struct{ prefix, ws, state, lock string }{
		{"airctl/prod/", "", "airctl/prod/default.tfstate", "airctl/prod/default.tflock"},
		{"", "staging", "staging.tfstate", "staging.tflock"},
	} {
		b, err := New(f.client(t), Config{Bucket: testBucket, Prefix: tt.prefix, Workspace: tt.ws})
		if err != nil {
			t.Fatal(err)
		}
		if b.stateName != tt.state || b.lockName != tt.lock {
			t.Errorf("prefix %q workspace %q: objects %s, %s", tt.prefix, tt.ws, b.stateName, b.lockName)
		}
	}
	b := newBackend(t, f, "airctl/prod")
	if err := b.Write(t.Context(), statetest.Sample()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.srv.GetObject(testBucket, "airctl/prod/default.tfstate"); err != nil {
		t.Fatalf("state object not where Terraform users expect it: %v", err)
	}
	for _, bad := range []string{"../x", "a/b", "-x"} {
		if _, err := New(f.client(t), Config{Bucket: testBucket, Workspace: bad}); err == nil {
			t.Errorf("workspace %q accepted", bad)
		}
	}
}

// Two applies both read generation N and both write: exactly one wins, the
// other gets the precondition error and the winner's state is intact.
func TestConcurrentWritersOneWins(t *testing.T) {
	f := newFakeGCS(t, false)
	seed := newBackend(t, f, "p")
	if err := seed.Write(t.Context(), statetest.Sample()); err != nil {
		t.Fatal(err)
	}
	writers := []*Backend{newBackend(t, f, "p"), newBackend(t, f, "p")}
	states := make([]*state.State, len(writers))
	for i, w := range writers {
		s, err := w.Read(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		statetest.Touch(s, "writer"+strconv.Itoa(i))
		states[i] = s
	}
	errs := make([]error, len(writers))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, w := range writers {
		wg.Go(func() {
			<-start
			errs[i] = w.Write(t.Context(), states[i])
		})
	}
	close(start)
	wg.Wait()

	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatal("both concurrent writers succeeded: one overwrote the other")
			}
			winner = i
		case !errors.Is(err, state.ErrStale) || !strings.Contains(err.Error(), "generation"):
			t.Fatalf("losing writer got %v, want ErrStale naming the generation", err)
		}
	}
	if winner < 0 {
		t.Fatalf("no writer succeeded: %v", errs)
	}
	got, err := seed.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got.Instance(state.MustParseAddress("terraform_data.writer"+strconv.Itoa(winner))) == nil || got.Serial != 2 {
		t.Fatalf("stored state is not the winner's: serial %d %v", got.Serial, got.Addresses())
	}
}

func TestReadCorruptState(t *testing.T) {
	f := newFakeGCS(t, false)
	b := newBackend(t, f, "p")
	mustPut(t, t.Context(), f.client(t).Bucket(testBucket).Object(b.stateName), "{not json")
	_, err := b.Read(t.Context())
	if err == nil || !strings.Contains(err.Error(), "versioning") {
		t.Fatalf("Read of corrupt state = %v", err)
	}
}
