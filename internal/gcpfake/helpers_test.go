package gcpfake

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/storage"
	"github.com/googleapis/gax-go/v2/apierror"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	sqladmin "google.golang.org/api/sqladmin/v1"
)

const (
	proj = "p1"
	zone = "us-central1-a"
	reg  = "us-central1"
)

type fake struct {
	*Server
	url string
}

// startFake serves a fake on a free port for the test; opts.Latency
// defaults to instant so tests never wait on operations.
func startFake(t *testing.T, opts Options) *fake {
	t.Helper()
	if opts.Latency == nil {
		opts.Latency = InstantLatency()
	}
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("closing fake: %v", err)
		}
		ts.Close()
	})
	return &fake{Server: s, url: ts.URL}
}

func (f *fake) opts() []option.ClientOption {
	return []option.ClientOption{option.WithEndpoint(f.url), option.WithoutAuthentication()}
}

// client builds a compute REST client against the fake, closed at cleanup.
func client[T io.Closer](t *testing.T, f *fake, newClient func(context.Context, ...option.ClientOption) (T, error)) T {
	t.Helper()
	c, err := newClient(t.Context(), f.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (f *fake) sql(t *testing.T) *sqladmin.Service {
	t.Helper()
	svc, err := sqladmin.NewService(t.Context(), option.WithEndpoint(f.url+"/"), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func (f *fake) storage(t *testing.T) *storage.Client {
	t.Helper()
	c, err := storage.NewClient(t.Context(), option.WithEndpoint(f.url+"/storage/v1/"), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// wait returns a function that checks a compute call and waits for its
// operation: wait(t)(client.Insert(ctx, req)).
func wait(t *testing.T) func(*compute.Operation, error) {
	return func(op *compute.Operation, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("call: %v", err)
		}
		if err := op.Wait(t.Context()); err != nil {
			t.Fatalf("operation %s: %v", op.Name(), err)
		}
	}
}

// waitSQL polls a Cloud SQL operation until DONE (the fake's latency is
// instant or stepped by the test's clock, so this never spins long).
// Use as waitSQL(t, svc)(svc.Instances.Insert(…).Do()).
func waitSQL(t *testing.T, svc *sqladmin.Service) func(*sqladmin.Operation, error) *sqladmin.Operation {
	return func(op *sqladmin.Operation, err error) *sqladmin.Operation {
		t.Helper()
		if err != nil {
			t.Fatalf("call: %v", err)
		}
		for i := 0; op.Status != "DONE"; i++ {
			if i > 100 {
				t.Fatalf("operation %s not done: %+v", op.Name, op)
			}
			if op, err = svc.Operations.Get(proj, op.Name).Do(); err != nil {
				t.Fatal(err)
			}
		}
		if op.Error != nil {
			t.Fatalf("operation %s failed: %+v", op.Name, op.Error.Errors[0])
		}
		return op
	}
}

func httpCode(err error) int {
	var ae *apierror.APIError
	if errors.As(err, &ae) && ae.HTTPCode() > 0 {
		return ae.HTTPCode()
	}
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return ge.Code
	}
	return 0
}

func reason(err error) string {
	var ge *googleapi.Error
	if errors.As(err, &ge) && len(ge.Errors) > 0 {
		return ge.Errors[0].Reason
	}
	return ""
}

// wantErr checks an API error's HTTP code and, if given, its reason.
func wantErr(t *testing.T, what string, err error, code int, why string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want %d %s", what, code, why)
	}
	if got := httpCode(err); got != code {
		t.Fatalf("%s: %v (code %d), want %d", what, err, got, code)
	}
	if why != "" && reason(err) != why && !strings.Contains(err.Error(), why) {
		t.Fatalf("%s: %v, want reason %s", what, err, why)
	}
}

// clock is a manual clock: operations and certificate provisioning move
// only when the test advances it.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// rawRequest sends a request with a JSON body straight to the fake, for
// what the typed clients cannot send (unknown fields, wrong types).
func (f *fake) rawRequest(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, f.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}
