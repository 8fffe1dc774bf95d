package statetest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airctl/airctl/provision/state"
)

func lockInfo(who, op string) state.LockInfo {
	info := state.NewLockInfo(op, "0.0.0-test")
	info.Who = who
	return info
}

func testLockUnlock(t *testing.T, newPair NewPair) {
	a, _ := newPair(t)
	id, err := a.Lock(ctx(t), lockInfo("alice@laptop", "apply"))
	if err != nil || id == "" {
		t.Fatalf("Lock = %q, %v", id, err)
	}
	if err := a.Unlock(ctx(t), id); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
	id2, err := a.Lock(ctx(t), lockInfo("alice@laptop", "plan"))
	if err != nil {
		t.Fatalf("Lock after Unlock: %v", err)
	}
	if err := a.Unlock(ctx(t), id2); err != nil {
		t.Fatalf("second Unlock: %v", err)
	}
}

// assertLockedBy checks err names the holder well enough for a human.
func assertLockedBy(t *testing.T, err error, who, op string) *state.LockedError {
	t.Helper()
	var le *state.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v, want *LockedError", err)
	}
	if le.Info.Who != who || le.Info.Operation != op || le.Info.ID == "" {
		t.Fatalf("LockedError names %+v, want Who %q Operation %q and an ID", le.Info, who, op)
	}
	if !strings.Contains(err.Error(), who) || !strings.Contains(err.Error(), le.Info.ID) {
		t.Fatalf("message %q does not name the holder and lock ID", err)
	}
	return le
}

func testSecondLocker(t *testing.T, newPair NewPair) {
	a, b := newPair(t)
	id, err := a.Lock(ctx(t), lockInfo("alice@laptop", "apply"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Lock(ctx(t), lockInfo("bob@ci", "plan"))
	le := assertLockedBy(t, err, "alice@laptop", "apply")
	if le.Info.ID != id {
		t.Fatalf("LockedError ID %s, holder's lock ID %s", le.Info.ID, id)
	}
	if err := a.Unlock(ctx(t), id); err != nil {
		t.Fatal(err)
	}
	id2, err := b.Lock(ctx(t), lockInfo("bob@ci", "plan"))
	if err != nil {
		t.Fatalf("Lock after holder released: %v", err)
	}
	_ = b.Unlock(ctx(t), id2)
}

func testUnlockWrongID(t *testing.T, newPair NewPair) {
	a, _ := newPair(t)
	id, err := a.Lock(ctx(t), lockInfo("alice@laptop", "apply"))
	if err != nil {
		t.Fatal(err)
	}
	for _, wrong := range []string{"not-a-number", "12345"} {
		if err := a.Unlock(ctx(t), wrong); !errors.Is(err, state.ErrLockIDMismatch) {
			t.Errorf("Unlock(%q) = %v, want ErrLockIDMismatch", wrong, err)
		}
	}
	if err := a.Unlock(ctx(t), id); err != nil {
		t.Fatalf("Unlock with the right ID after wrong ones: %v", err)
	}
	if err := a.Unlock(ctx(t), id); !errors.Is(err, state.ErrNotLocked) {
		t.Fatalf("second Unlock = %v, want ErrNotLocked", err)
	}
}

func testConcurrentLocks(t *testing.T, newPair NewPair) {
	a, b := newPair(t)
	backends := []state.Backend{a, b}
	ids := make([]string, len(backends))
	errs := make([]error, len(backends))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, be := range backends {
		wg.Go(func() {
			<-start
			ids[i], errs[i] = be.Lock(ctx(t), lockInfo("racer@host", "apply"))
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		var le *state.LockedError
		switch {
		case err == nil:
			won++
			defer backends[i].Unlock(ctx(t), ids[i])
		case !errors.As(err, &le):
			t.Errorf("losing Lock returned %v, want *LockedError", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d concurrent Lock calls succeeded, want exactly 1 (errors %v)", won, errs)
	}
}

// signalling counts Lock attempts so a test can act after the first one
// failed, instead of sleeping and hoping.
type signalling struct {
	state.Backend
	attempts chan struct{}
}

func (s signalling) Lock(ctx context.Context, info state.LockInfo) (string, error) {
	id, err := s.Backend.Lock(ctx, info)
	select {
	case s.attempts <- struct{}{}:
	default:
	}
	return id, err
}

func testLockWithTimeoutWaits(t *testing.T, newPair NewPair) {
	a, b := newPair(t)
	holdID, err := a.Lock(ctx(t), lockInfo("alice@laptop", "apply"))
	if err != nil {
		t.Fatal(err)
	}
	waiter := signalling{Backend: b, attempts: make(chan struct{}, 1)}
	type result struct {
		id  string
		err error
	}
	done := make(chan result, 1)
	go func() {
		id, err := state.LockWithTimeout(ctx(t), waiter, lockInfo("bob@ci", "apply"), time.Minute)
		done <- result{id, err}
	}()
	<-waiter.attempts // the waiter has found the lock held
	if err := a.Unlock(ctx(t), holdID); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("LockWithTimeout after release: %v", r.err)
	}
	if err := b.Unlock(ctx(t), r.id); err != nil {
		t.Fatal(err)
	}
}

func testLockWithTimeoutGivesUp(t *testing.T, newPair NewPair) {
	a, b := newPair(t)
	holdID, err := a.Lock(ctx(t), lockInfo("alice@laptop", "destroy"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Unlock(ctx(t), holdID)
	counter := signalling{Backend: b, attempts: make(chan struct{}, 100)}
	_, err = state.LockWithTimeout(ctx(t), counter, lockInfo("bob@ci", "apply"), 300*time.Millisecond)
	assertLockedBy(t, err, "alice@laptop", "destroy")
	if !strings.Contains(err.Error(), "gave up waiting") {
		t.Fatalf("timeout error %q does not say it gave up waiting", err)
	}
	if n := len(counter.attempts); n < 2 {
		t.Fatalf("LockWithTimeout tried %d times in 300ms, want retries", n)
	}
}

func testLockWithTimeoutCancelled(t *testing.T, newPair NewPair) {
	a, b := newPair(t)
	holdID, err := a.Lock(ctx(t), lockInfo("alice@laptop", "apply"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Unlock(ctx(t), holdID)
	c, cancel := context.WithCancel(ctx(t))
	waiter := signalling{Backend: b, attempts: make(chan struct{}, 1)}
	done := make(chan error, 1)
	go func() {
		_, err := state.LockWithTimeout(c, waiter, lockInfo("bob@ci", "apply"), time.Hour)
		done <- err
	}()
	<-waiter.attempts
	cancel()
	err = <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait = %v, want context.Canceled", err)
	}
	assertLockedBy(t, err, "alice@laptop", "apply")
}
