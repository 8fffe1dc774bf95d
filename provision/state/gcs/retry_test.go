package gcs

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/airctl/airctl/provision/state"
	"github.com/airctl/airctl/provision/state/statetest"
)

// 503s are retried by the storage client (RetryAlways + preconditions).
func TestTransientErrorsAreRetried(t *testing.T) {
	f := newFakeGCS(t, false)
	b := newBackend(t, f, "p")
	f.inject(fault{method: "POST", pathPart: "/upload/", status: 503})
	f.inject(fault{method: "POST", pathPart: "/upload/", status: 429})
	s := statetest.Sample()
	if err := b.Write(t.Context(), s); err != nil {
		t.Fatalf("Write through two transient errors: %v", err)
	}
	f.inject(fault{method: "POST", pathPart: "/upload/", status: 503})
	id, err := b.Lock(t.Context(), state.NewLockInfo("apply", "1"))
	if err != nil {
		t.Fatalf("Lock through a transient error: %v", err)
	}
	f.inject(fault{method: "DELETE", pathPart: "/o/", status: 500})
	if err := b.Unlock(t.Context(), id); err != nil {
		t.Fatalf("Unlock through a transient error: %v", err)
	}
	f.assertFaultsUsed(t)
}

// The first attempt lands but its response is lost; the retry then fails
// its own precondition. Lock and Write must recognise their own success.
func TestLostResponseIsRecognised(t *testing.T) {
	f := newFakeGCS(t, false)
	b := newBackend(t, f, "p")
	f.inject(fault{method: "POST", pathPart: "/upload/", status: 503, afterServe: true})
	id, err := b.Lock(t.Context(), state.NewLockInfo("apply", "1"))
	if err != nil {
		t.Fatalf("Lock whose response was lost: %v", err)
	}
	s := statetest.Sample()
	f.inject(fault{method: "POST", pathPart: "/upload/", status: 503, afterServe: true})
	if err := b.Write(t.Context(), s); err != nil {
		t.Fatalf("Write whose response was lost: %v", err)
	}
	statetest.Touch(s, "next")
	if err := b.Write(t.Context(), s); err != nil || s.Serial != 2 {
		t.Fatalf("next Write after a recovered one: serial %d, %v", s.Serial, err)
	}
	f.assertFaultsUsed(t)
	if err := b.Unlock(t.Context(), id); err != nil {
		t.Fatal(err)
	}
}

// An outage ends in an error, not a hang: reads give up after MaxAttempts,
// uploads (which ignore MaxAttempts in storage v1.70) at CallTimeout.
func TestOutageIsReported(t *testing.T) {
	f := newFakeGCS(t, false)
	cfg := Config{Bucket: testBucket, Prefix: "p", Retry: fastRetry()}
	cfg.Retry.CallTimeout = 300 * time.Millisecond
	b, err := New(f.client(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.inject(fault{method: "POST", pathPart: "/upload/", status: 503, sticky: true})
	err = b.Write(t.Context(), statetest.Sample())
	if err == nil || !strings.Contains(err.Error(), b.StateURL()) ||
		(httpCode(err) != 503 && !errors.Is(err, context.DeadlineExceeded)) {
		t.Fatalf("Write during an outage = %v, want an error naming the state after bounded retries", err)
	}
	f.inject(fault{method: "GET", pathPart: "/p/", status: 503, sticky: true})
	if _, err := b.Read(t.Context()); err == nil {
		t.Fatal("Read during an outage succeeded")
	}
}
