package gcpfake

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
)

// Fault describes an injected failure. A request matches when its HTTP
// method and path match; the first matching rule (in injection order) wins,
// and the random FaultRate applies only to requests no rule matched.
type Fault struct {
	// Method is the HTTP method to match; empty matches any.
	Method string
	// Path is a substring of the URL path to match; empty matches any.
	Path string
	// Times is how many matching requests the rule affects; 0 means all.
	Times int
	// Status is the HTTP status answered (default 503), or for
	// FailOperation the operation's httpErrorStatusCode (default 500).
	Status int
	// Message replaces the default error message.
	Message string
	// AfterEffect serves the request first and then answers Status: the
	// change happens but the client sees an error, as when a response is
	// lost. Retrying clients then meet 409 alreadyExists or 404.
	AfterEffect bool
	// Hang holds the request without answering until the client gives up
	// (its deadline or cancellation) or the server closes.
	Hang bool
	// FailOperation lets the request start its long-running operation but
	// makes that operation end DONE with an error; the change is not made.
	FailOperation bool
}

type faultRule struct {
	Fault
	left int // remaining uses when Times > 0
}

type faults struct {
	mu       sync.Mutex
	rules    []*faultRule
	rate     float64
	statuses []int
	rng      *rand.Rand
}

func newFaults(o Options) *faults {
	f := &faults{rate: o.FaultRate, statuses: o.FaultStatuses, rng: rand.New(rand.NewPCG(uint64(o.Seed), 0x9e3779b9))}
	if len(f.statuses) == 0 {
		f.statuses = []int{http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusServiceUnavailable}
	}
	for _, ft := range o.Faults {
		f.add(ft)
	}
	return f
}

func (f *faults) add(ft Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = append(f.rules, &faultRule{Fault: ft, left: ft.Times})
}

func (f *faults) setRate(rate float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rate = rate
}

// pick returns the fault to apply to r, if any, using up one of its Times.
func (f *faults) pick(r *http.Request) (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, rule := range f.rules {
		if rule.Method != "" && !strings.EqualFold(rule.Method, r.Method) {
			continue
		}
		if rule.Path != "" && !strings.Contains(r.URL.Path, rule.Path) {
			continue
		}
		if rule.Times > 0 {
			rule.left--
			if rule.left <= 0 {
				f.rules = append(f.rules[:i:i], f.rules[i+1:]...)
			}
		}
		return rule.Fault, true
	}
	if f.rate > 0 && f.rng.Float64() < f.rate {
		return Fault{Status: f.statuses[f.rng.IntN(len(f.statuses))]}, true
	}
	return Fault{}, false
}

// faultError is what an injected failure answers, with the reasons GCP
// uses for these statuses.
func faultError(ft Fault) *apiError {
	status := ft.Status
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	reason, msg := "backendError", "Internal error. Please try again or contact Google Support."
	switch {
	case status == http.StatusTooManyRequests:
		reason, msg = "rateLimitExceeded", "Rate Limit Exceeded"
	case status == http.StatusServiceUnavailable:
		msg = "The service is currently unavailable."
	case status < 500:
		reason, msg = "invalid", "Injected failure."
	}
	if ft.Message != "" {
		msg = ft.Message
	}
	return &apiError{Code: status, Reason: reason, Message: msg + " (gcpfake: injected)"}
}

type failOpKey struct{}

// operationFailure returns the error an injected FailOperation fault set on
// the request's context, or nil.
func operationFailure(ctx context.Context) *apiError {
	ae, _ := ctx.Value(failOpKey{}).(*apiError)
	return ae
}

func withOperationFailure(r *http.Request, ft Fault) *http.Request {
	status := ft.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	msg := ft.Message
	if msg == "" {
		msg = "Internal error. Please try again or contact Google Support. (gcpfake: injected)"
	}
	return r.WithContext(context.WithValue(r.Context(), failOpKey{}, &apiError{Code: status, Reason: "INTERNAL_ERROR", Message: msg}))
}

// serveFault applies ft to the request. It reports whether it answered; a
// FailOperation fault instead returns the request to serve, carrying the
// failure for the operation it starts.
func (s *Server) serveFault(w http.ResponseWriter, r *http.Request, ft Fault) (*http.Request, bool) {
	switch {
	case ft.FailOperation:
		return withOperationFailure(r, ft), false
	case ft.Hang:
		select {
		case <-r.Context().Done():
		case <-s.closed:
			writeError(w, faultError(Fault{Status: http.StatusServiceUnavailable, Message: "Server shutting down."}))
		}
		return r, true
	case ft.AfterEffect:
		s.route(discardWriter{header: http.Header{}}, r)
		writeError(w, faultError(ft))
		return r, true
	default:
		writeError(w, faultError(ft))
		return r, true
	}
}

// discardWriter swallows the response of a request whose answer an
// AfterEffect fault replaces.
type discardWriter struct{ header http.Header }

func (d discardWriter) Header() http.Header         { return d.header }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}
