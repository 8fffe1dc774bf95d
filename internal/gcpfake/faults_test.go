package gcpfake

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"
)

func firewall(name string) *computepb.InsertFirewallRequest {
	return &computepb.InsertFirewallRequest{Project: proj, FirewallResource: &computepb.Firewall{
		Name: proto.String(name), Allowed: []*computepb.Allowed{{IPProtocol: proto.String("tcp"), Ports: []string{"22"}}},
	}}
}

func TestFaultRate(t *testing.T) {
	f := startFake(t, Options{FaultRate: 1, FaultStatuses: []int{http.StatusInternalServerError}})
	fws := client(t, f, compute.NewFirewallsRESTClient)
	ctx := t.Context()
	_, err := fws.Insert(ctx, firewall("ssh"))
	wantErr(t, "injected 500", err, http.StatusInternalServerError, "backendError")
	f.SetFaultRate(0)
	wait(t)(fws.Insert(ctx, firewall("ssh")))
}

// A seeded rate injects a reproducible share of 429/500/503s.
func TestFaultRateShare(t *testing.T) {
	f := startFake(t, Options{FaultRate: 0.2, Seed: 7})
	counts := map[int]int{}
	for range 500 {
		code, _ := f.rawRequest(t, http.MethodGet, "/compute/v1/projects/p1/global/firewalls", "")
		counts[code]++
	}
	failed := counts[429] + counts[500] + counts[503]
	if failed < 60 || failed > 140 || counts[429] == 0 || counts[500] == 0 || counts[503] == 0 || failed+counts[200] != 500 {
		t.Errorf("status counts %v for a 20%% rate", counts)
	}
}

func TestFaultRuleTimes(t *testing.T) {
	f := startFake(t, Options{})
	f.InjectFault(Fault{Method: http.MethodGet, Path: "/global/firewalls", Times: 2, Status: http.StatusTooManyRequests})
	for i, want := range []int{429, 429, 200} {
		if code, body := f.rawRequest(t, http.MethodGet, "/compute/v1/projects/p1/global/firewalls", ""); code != want {
			t.Errorf("request %d: %d %s, want %d", i, code, body, want)
		}
	}
}

// A hanging request holds until the client's deadline.
func TestFaultHang(t *testing.T) {
	f := startFake(t, Options{})
	fws := client(t, f, compute.NewFirewallsRESTClient)
	f.InjectFault(Fault{Path: "/global/firewalls/ssh", Hang: true, Times: 1})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := fws.Get(ctx, &computepb.GetFirewallRequest{Project: proj, Firewall: "ssh"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hung get: %v, want deadline exceeded", err)
	}
	_, err = fws.Get(t.Context(), &computepb.GetFirewallRequest{Project: proj, Firewall: "ssh"})
	wantErr(t, "after the hang", err, http.StatusNotFound, "notFound")
}

// A request hanging when the server closes is released with a 503.
func TestFaultHangReleasedOnClose(t *testing.T) {
	arrived := make(chan struct{}, 1)
	s, err := Open(Options{
		Faults: []Fault{{Hang: true}},
		Logf:   func(string, ...any) { arrived <- struct{}{} }, // called as each request comes in
	})
	if err != nil {
		t.Fatal(err)
	}
	run, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	code := make(chan int, 1)
	go func() {
		resp, err := http.Get(run.URL + "/compute/v1/projects/p1/global/firewalls")
		if err != nil {
			code <- 0
			return
		}
		resp.Body.Close()
		code <- resp.StatusCode
	}()
	<-arrived
	if err := run.Close(); err != nil {
		t.Fatal(err)
	}
	if got := <-code; got != http.StatusServiceUnavailable {
		t.Errorf("held request answered %d, want 503", got)
	}
}

// The change happens but the response is lost: a retry sees 409.
func TestFaultAfterEffect(t *testing.T) {
	f := startFake(t, Options{})
	fws := client(t, f, compute.NewFirewallsRESTClient)
	ctx := t.Context()
	f.InjectFault(Fault{Method: http.MethodPost, Path: "/global/firewalls", Times: 1, Status: http.StatusServiceUnavailable, AfterEffect: true})
	_, err := fws.Insert(ctx, firewall("ssh"))
	wantErr(t, "lost response", err, http.StatusServiceUnavailable, "")
	if _, err := fws.Get(ctx, &computepb.GetFirewallRequest{Project: proj, Firewall: "ssh"}); err != nil {
		t.Fatalf("the insert took effect: %v", err)
	}
	_, err = fws.Insert(ctx, firewall("ssh"))
	wantErr(t, "retry", err, http.StatusConflict, "alreadyExists")
}

// An operation that ends in error: op.Wait reports it, nothing is created.
func TestFaultFailOperation(t *testing.T) {
	f := startFake(t, Options{})
	fws := client(t, f, compute.NewFirewallsRESTClient)
	ctx := t.Context()
	f.InjectFault(Fault{Method: http.MethodPost, Path: "/global/firewalls", Times: 1, FailOperation: true, Status: http.StatusBadRequest, Message: "quota exceeded"})
	op, err := fws.Insert(ctx, firewall("ssh"))
	if err != nil {
		t.Fatal(err)
	}
	err = op.Wait(ctx)
	wantErr(t, "failed operation", err, http.StatusBadRequest, "quota exceeded")
	if op.Proto().GetError() == nil {
		t.Errorf("operation without error details: %v", op.Proto())
	}
	_, err = fws.Get(ctx, &computepb.GetFirewallRequest{Project: proj, Firewall: "ssh"})
	wantErr(t, "after a failed insert", err, http.StatusNotFound, "notFound")

	svc := f.sql(t)
	f.InjectFault(Fault{Path: "/v1/projects/p1/instances", Method: http.MethodPost, Times: 1, FailOperation: true})
	sop, err := svc.Instances.Insert(proj, refInstance("db")).Do()
	if err != nil {
		t.Fatal(err)
	}
	sop, err = svc.Operations.Get(proj, sop.Name).Do()
	if err != nil || sop.Status != "DONE" || sop.Error == nil {
		t.Fatalf("failed sql op: %+v %v", sop, err)
	}
	_, err = svc.Instances.Get(proj, "db").Do()
	wantErr(t, "after a failed sql insert", err, http.StatusNotFound, "instanceDoesNotExist")
}
