package statetest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/airctl/airctl/provision/state"
)

// NewPair returns two Backends on the same storage, standing for two airctl
// processes sharing one state. Cleanup goes through t.Cleanup.
type NewPair func(t *testing.T) (state.Backend, state.Backend)

// Run runs the behaviour suite shared by all backends.
func Run(t *testing.T, newPair NewPair) {
	tests := map[string]func(*testing.T, NewPair){
		"ReadEmpty":                testReadEmpty,
		"RoundTrip":                testRoundTrip,
		"FirstWriteSetsLineage":    testFirstWrite,
		"UnchangedIsNotWritten":    testUnchanged,
		"ChangeBumpsSerial":        testChange,
		"LineageMismatch":          testLineageMismatch,
		"StaleWriterLoses":         testStaleWriter,
		"ForceWrite":               testForceWrite,
		"LockUnlock":               testLockUnlock,
		"SecondLockerNamesHolder":  testSecondLocker,
		"UnlockWrongID":            testUnlockWrongID,
		"ConcurrentLocksOneWins":   testConcurrentLocks,
		"LockWithTimeoutWaits":     testLockWithTimeoutWaits,
		"LockWithTimeoutGivesUp":   testLockWithTimeoutGivesUp,
		"LockWithTimeoutCancelled": testLockWithTimeoutCancelled,
		"WriteKeepsCallerInStep":   testCallerInStep,
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) { fn(t, newPair) })
	}
}

func ctx(t *testing.T) context.Context { return t.Context() }

func mustWrite(t *testing.T, b state.Backend, s *state.State) {
	t.Helper()
	if err := b.Write(ctx(t), s); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

func mustRead(t *testing.T, b state.Backend) *state.State {
	t.Helper()
	s, err := b.Read(ctx(t))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return s
}

func testReadEmpty(t *testing.T, newPair NewPair) {
	a, _ := newPair(t)
	if s := mustRead(t, a); s != nil {
		t.Fatalf("Read of empty backend = %+v, want nil", s)
	}
}

func testRoundTrip(t *testing.T, newPair NewPair) {
	a, b := newPair(t)
	in := Sample()
	mustWrite(t, a, in)
	out := mustRead(t, b)
	if !state.Equal(in, out) || out.Serial != in.Serial || out.AirctlVersion != in.AirctlVersion {
		t.Fatalf("read back a different state:\nwrote %+v\nread  %+v", in, out)
	}
}

func testFirstWrite(t *testing.T, newPair NewPair) {
	a, _ := newPair(t)
	s := Sample()
	mustWrite(t, a, s)
	got := mustRead(t, a)
	if got.Serial != 1 || len(got.Lineage) != 36 {
		t.Fatalf("first write stored serial %d lineage %q, want 1 and a UUID", got.Serial, got.Lineage)
	}
}

func testUnchanged(t *testing.T, newPair NewPair) {
	a, b := newPair(t)
	s := Sample()
	mustWrite(t, a, s)
	mustWrite(t, a, s)
	again := mustRead(t, b)
	again.AirctlVersion = "9.9.9" // a newer airctl alone is no reason to write
	mustWrite(t, b, again)
	if got := mustRead(t, a); got.Serial != 1 || got.AirctlVersion != "0.0.0-test" {
		t.Fatalf("unchanged writes stored serial %d version %q, want 1 and the original", got.Serial, got.AirctlVersion)
	}
}

func testChange(t *testing.T, newPair NewPair) {
	a, b := newPair(t)
	s := Sample()
	mustWrite(t, a, s)
	Touch(s, "one")
	mustWrite(t, a, s)
	Touch(s, "two")
	mustWrite(t, a, s)
	got := mustRead(t, b)
	if got.Serial != 3 || got.Instance(state.MustParseAddress("terraform_data.two")) == nil {
		t.Fatalf("after three writes: serial %d, resources %v", got.Serial, got.Addresses())
	}
}

func testLineageMismatch(t *testing.T, newPair NewPair) {
	a, b := newPair(t)
	mustWrite(t, a, Sample())
	other := Sample()
	other.Lineage = "00000000-0000-4000-8000-000000000000"
	Touch(other, "x")
	err := b.Write(ctx(t), other)
	if !errors.Is(err, state.ErrLineageMismatch) || !strings.Contains(err.Error(), "state push -force") {
		t.Fatalf("Write of another lineage = %v, want ErrLineageMismatch telling about state push -force", err)
	}
}

// testStaleWriter: both processes read serial 1, A writes serial 2, B's
// write (based on serial 1) must not overwrite it.
func testStaleWriter(t *testing.T, newPair NewPair) {
	a, b := newPair(t)
	mustWrite(t, a, Sample())
	sa, sb := mustRead(t, a), mustRead(t, b)
	Touch(sa, "from_a")
	mustWrite(t, a, sa)
	Touch(sb, "from_b")
	if err := b.Write(ctx(t), sb); !errors.Is(err, state.ErrStale) {
		t.Fatalf("stale Write = %v, want ErrStale", err)
	}
	got := mustRead(t, b)
	if got.Instance(state.MustParseAddress("terraform_data.from_a")) == nil || got.Serial != 2 {
		t.Fatalf("stored state lost A's write: serial %d, %v", got.Serial, got.Addresses())
	}
}

func testForceWrite(t *testing.T, newPair NewPair) {
	a, b := newPair(t)
	mustWrite(t, a, Sample())
	pushed := Sample()
	pushed.Lineage = "00000000-0000-4000-8000-000000000000"
	Touch(pushed, "pushed")
	if err := b.ForceWrite(ctx(t), pushed); err != nil {
		t.Fatalf("ForceWrite: %v", err)
	}
	got := mustRead(t, a)
	if got.Lineage != pushed.Lineage || got.Serial != 2 {
		t.Fatalf("after force push: lineage %s serial %d, want %s and 2", got.Lineage, got.Serial, pushed.Lineage)
	}
}

func testCallerInStep(t *testing.T, newPair NewPair) {
	a, _ := newPair(t)
	s := state.New("v")
	mustWrite(t, a, s)
	if s.Serial != 1 || s.Lineage == "" {
		t.Fatalf("caller's state not updated: serial %d lineage %q", s.Serial, s.Lineage)
	}
	Touch(s, "x")
	mustWrite(t, a, s)
	if s.Serial != 2 {
		t.Fatalf("caller's serial = %d after second write, want 2", s.Serial)
	}
}
