// Package gcpfake is an in-process fake of the Google Cloud REST APIs airctl
// provisions with: Compute Engine v1, Cloud SQL Admin v1 and Cloud Storage
// (buckets here, objects through an embedded fake-gcs-server). It speaks the
// real paths and JSON, so the real Go clients (cloud.google.com/go/compute
// REST clients, google.golang.org/api/sqladmin/v1, cloud.google.com/go/storage)
// work against it unchanged when pointed at its URL:
//
//	compute:  option.WithEndpoint(url)                (the client appends /compute/v1/…)
//	sqladmin: option.WithEndpoint(url + "/")
//	storage:  option.WithEndpoint(url + "/storage/v1/") or STORAGE_EMULATOR_HOST=host:port
//
// together with option.WithoutAuthentication(). It keeps resources in memory
// (optionally in a state file), fills output-only fields, runs long-running
// operations with configurable latency, enforces references between
// resources as GCP does, validates request bodies against the discovery
// documents and the Go API types, and injects faults on demand.
package gcpfake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Options configure a Server. The zero value is a usable fake with the
// FastLatency profile.
type Options struct {
	// Projects, if set, restricts the projects requests may name (others get
	// 403). Empty accepts any project.
	Projects []string
	// ExternalIP is the natIP given to new instances' access configs
	// (default 127.0.0.1, so a deploy step can reach a local sshd).
	ExternalIP string
	// SQLIP is the PRIMARY ipAddress of new Cloud SQL instances (default
	// 127.0.0.1, so a local Postgres can stand in for Cloud SQL).
	SQLIP string
	// StateFile, if set, is loaded at start (when it exists) and rewritten
	// after every change, objects included.
	StateFile string
	// Latency of long-running operations; nil means FastLatency().
	Latency *Latency
	// WaitMax bounds how long POST …/operations/{op}/wait blocks (GCP: about
	// two minutes). Default 2m.
	WaitMax time.Duration
	// Faults are injected from the start; see Server.InjectFault.
	Faults []Fault
	// FaultRate is the fraction of requests (0–1) answered with a random
	// status from FaultStatuses (default 429, 500, 503) before being served.
	FaultRate     float64
	FaultStatuses []int
	// Seed makes the random faults reproducible.
	Seed int64
	// Clock replaces time.Now, letting tests step operations and certificate
	// provisioning without sleeping.
	Clock func() time.Time
	// Logf, if set, receives one line per request and internal errors.
	Logf func(format string, args ...any)
}

// Server is the fake. It is an http.Handler; Listen serves it on a port.
type Server struct {
	opts     Options
	now      func() time.Time
	latency  *Latency
	faults   *faults
	gcs      *fakestorage.Server
	handlers map[string]handlerFunc

	// gcsMu serialises object mutations so a delete precondition check and
	// the delete it guards are atomic with respect to uploads.
	gcsMu sync.Mutex

	mu      sync.Mutex
	st      *state
	changed chan struct{} // closed and replaced after each change: wakes waiters

	closed    chan struct{}
	closeOnce sync.Once
}

// New builds a Server. It panics if Options.StateFile exists but cannot be
// loaded; use Open to get that error instead.
func New(opts Options) *Server {
	s, err := Open(opts)
	if err != nil {
		panic(fmt.Sprintf("gcpfake: %v", err))
	}
	return s
}

// Open builds a Server, loading Options.StateFile if it exists.
func Open(opts Options) (*Server, error) {
	if opts.ExternalIP == "" {
		opts.ExternalIP = "127.0.0.1"
	}
	if opts.SQLIP == "" {
		opts.SQLIP = "127.0.0.1"
	}
	if opts.WaitMax <= 0 {
		opts.WaitMax = 2 * time.Minute
	}
	gcs, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		NoListener: true,
		// XML-API downloads (the storage client's default for reads) are
		// routed by host: the fake must take 127.0.0.1 as its public host.
		// serveObjects rewrites other hosts to it.
		PublicHost: gcsPublicHost,
		Writer:     io.Discard,
	})
	if err != nil {
		return nil, fmt.Errorf("starting fake-gcs-server: %w", err)
	}
	s := &Server{
		opts:    opts,
		now:     opts.Clock,
		latency: opts.Latency.clone(),
		faults:  newFaults(opts),
		gcs:     gcs,
		st:      newState(),
		changed: make(chan struct{}),
		closed:  make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.handlers = s.buildHandlers()
	if err := s.load(); err != nil {
		gcs.Stop()
		return nil, err
	}
	return s, nil
}

// Handler returns the fake as an http.Handler (for httptest.NewServer).
func (s *Server) Handler() http.Handler { return s }

// InjectFault adds a fault rule at run time.
func (s *Server) InjectFault(f Fault) { s.faults.add(f) }

// SetFaultRate changes the random fault rate at run time.
func (s *Server) SetFaultRate(rate float64) { s.faults.setRate(rate) }

// Close releases requests held by Hang faults and operation waits, stops
// the embedded fake-gcs-server and writes the state file one last time.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.closed)
		s.mu.Lock()
		err = s.save()
		s.mu.Unlock()
		s.gcs.Stop()
	})
	return err
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

// ServeHTTP applies injected faults, then routes the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.logf("gcpfake: %s %s", r.Method, r.URL.RequestURI())
	if ft, ok := s.faults.pick(r); ok {
		var answered bool
		if r, answered = s.serveFault(w, r, ft); answered {
			return
		}
	}
	s.route(w, r)
}

const gcsPublicHost = "127.0.0.1"

// route sends compute, SQL and bucket requests to the discovery-routed
// handlers and everything else (objects, uploads, downloads) to
// fake-gcs-server.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	api, rel := splitAPI(r.URL.EscapedPath())
	if api == "" {
		s.serveObjects(w, r)
		return
	}
	segs, err := splitPath(rel)
	if err != nil {
		writeError(w, errInvalid("%v", err))
		return
	}
	doc := apiDocs()[api]
	id, params, known := doc.match(r.Method, segs)
	h := s.handlers[id]
	switch {
	case id == "" && known:
		writeError(w, newAPIError(http.StatusMethodNotAllowed, "methodNotAllowed", "Method %s not allowed on %s", r.Method, r.URL.Path))
		return
	case h == nil:
		writeError(w, errNotImplemented(r.Method+" "+r.URL.Path))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err != nil {
		writeError(w, errInvalid("reading body: %v", err))
		return
	}
	c := &call{s: s, r: r, api: api, method: id, params: params, body: body, failOp: operationFailure(r.Context())}
	// Public images live in Google's projects (debian-cloud…), readable by all.
	if err := s.checkProject(params["project"]); err != nil && !strings.HasPrefix(id, "compute.images.") {
		writeError(w, err)
		return
	}
	if strings.HasSuffix(id, "Operations.wait") {
		s.waitComputeOperation(w, c)
		return
	}
	resp, err := s.run(c, h)
	if err != nil {
		writeError(w, err)
		return
	}
	writeResponse(w, resp)
}

// run executes a handler under the state lock, after applying due timers,
// and persists and signals waiters if the state changed.
func (s *Server) run(c *call, h handlerFunc) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.now = s.now()
	if s.advance(c.now) {
		c.dirty = true
	}
	resp, err := h(c)
	if c.dirty {
		s.notifyLocked()
		if perr := s.save(); perr != nil {
			s.logf("gcpfake: %v", perr)
			return nil, perr
		}
	}
	return resp, err
}

// notifyLocked wakes operation waits. Called with s.mu held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) checkProject(p string) error {
	if p == "" || len(s.opts.Projects) == 0 {
		return nil
	}
	for _, allowed := range s.opts.Projects {
		if p == allowed {
			return nil
		}
	}
	return newAPIError(http.StatusForbidden, "forbidden", "Required permission for project '%s' (gcpfake serves only %s)", p, strings.Join(s.opts.Projects, ", "))
}

// splitAPI maps a request path to the API serving it and the path relative
// to that API's discovery root; api is "" for object traffic.
func splitAPI(path string) (api, rel string) {
	switch {
	case strings.HasPrefix(path, "/compute/v1/"):
		return "compute", strings.TrimPrefix(path, "/compute/v1/")
	case strings.HasPrefix(path, "/v1/projects/"):
		return "sqladmin", strings.TrimPrefix(path, "/")
	case strings.HasPrefix(path, "/sql/v1beta4/projects/"):
		// Terraform's endpoint; the JSON of what the fake serves is the same.
		return "sqladmin", "v1/" + strings.TrimPrefix(path, "/sql/v1beta4/")
	case strings.HasPrefix(path, "/storage/v1/b"):
		rest := strings.Trim(strings.TrimPrefix(path, "/storage/v1/"), "/")
		// b and b/{bucket} are bucket metadata; b/{bucket}/o/… are objects.
		if rest == "b" || (strings.HasPrefix(rest, "b/") && strings.Count(rest, "/") == 1) {
			return "storage", rest
		}
	}
	return "", ""
}

// call is one request being handled.
type call struct {
	s      *Server
	r      *http.Request
	api    string
	method string            // discovery method id
	params map[string]string // path parameters
	body   []byte
	now    time.Time
	failOp *apiError // injected: the operation this call starts fails
	dirty  bool      // state changed: persist and wake waiters

	// Side effects queued by handlers, applied by commit with the main
	// change, or dropped with it when the operation is injected to fail.
	pending []func()
}

type handlerFunc func(c *call) (any, error)

func (c *call) project() string { return c.params["project"] }

func (c *call) query(name string) string { return c.r.URL.Query().Get(name) }

// noContent makes writeResponse answer 204, as bucket DELETE does.
type noContent struct{}

func writeResponse(w http.ResponseWriter, resp any) {
	if _, ok := resp.(noContent); ok {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var b []byte
	var err error
	if m, ok := resp.(proto.Message); ok {
		b, err = protojson.Marshal(m)
	} else {
		b, err = json.Marshal(resp)
	}
	if err != nil {
		writeError(w, fmt.Errorf("encoding response: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// decodeJSON decodes a JSON body into v rejecting unknown fields, as the
// real APIs do; on failure the discovery walk locates the bad field.
func (c *call) decodeJSON(v any) error {
	dec := json.NewDecoder(bytes.NewReader(c.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return c.bodyError(err)
	}
	return c.validate()
}

// rawBody returns the body as a generic JSON object (numbers kept exact).
func (c *call) rawBody() (map[string]any, error) {
	var m map[string]any
	if len(bytes.TrimSpace(c.body)) == 0 {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(c.body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, errInvalid("Invalid JSON payload received. %v", err)
	}
	return m, nil
}

// validate runs the discovery checks (enums, patterns, required fields).
func (c *call) validate() error {
	m, err := c.rawBody()
	if err != nil {
		return err
	}
	if ae := apiDocs()[c.api].validateBody(c.method, m, false); ae != nil {
		return ae
	}
	return nil
}

// bodyError turns a strict-decoding failure into a 400 naming the field:
// the discovery walk gives GCP's path form when it can find the culprit.
func (c *call) bodyError(decodeErr error) error {
	if m, err := c.rawBody(); err == nil {
		if ae := apiDocs()[c.api].validateBody(c.method, m, true); ae != nil {
			return ae
		}
	} else {
		return err
	}
	return errInvalid("Invalid JSON payload received. %v", decodeErr)
}

// strippedBody returns the body without output-only fields, for handlers
// that merge it into stored state.
func (c *call) strippedBody() (map[string]any, error) {
	m, err := c.rawBody()
	if err != nil {
		return nil, err
	}
	apiDocs()[c.api].stripOutputOnly(c.method, m)
	return m, nil
}

// Running is a Server listening on a TCP port.
type Running struct {
	*Server
	// URL is the base URL, e.g. http://127.0.0.1:41234.
	URL  string
	Addr string
	srv  *http.Server
	done chan error
}

// Listen serves s on addr ("127.0.0.1:0" picks a free port) until Close.
func (s *Server) Listen(addr string) (*Running, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("gcpfake: listen %s: %w", addr, err)
	}
	host := ln.Addr().String()
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		host = net.JoinHostPort("127.0.0.1", fmt.Sprint(tcp.Port))
	}
	run := &Running{
		Server: s,
		URL:    "http://" + host,
		Addr:   host,
		srv:    &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second},
		done:   make(chan error, 1),
	}
	go func() { run.done <- run.srv.Serve(ln) }()
	return run, nil
}

// Close stops serving: held requests are released, in-flight ones get a
// moment to finish, then the fake itself is closed.
func (r *Running) Close() error {
	ferr := r.Server.Close() // releases Hang faults and waits first
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := r.srv.Shutdown(ctx)
	if err != nil {
		err = r.srv.Close()
	}
	if serr := <-r.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return errors.Join(ferr, err)
}

// Endpoints are the client settings for a fake served at a base URL.
type Endpoints struct {
	// Compute is the endpoint for cloud.google.com/go/compute/apiv1
	// (scheme and host; the client appends /compute/v1/).
	Compute string
	// ComputeBasePath is the Terraform-style endpoint including the path,
	// for google.golang.org/api/compute/v1 and GOOGLE_COMPUTE_CUSTOM_ENDPOINT.
	ComputeBasePath string
	// SQL is the endpoint for google.golang.org/api/sqladmin/v1.
	SQL string
	// Storage is the endpoint for cloud.google.com/go/storage.
	Storage string
	// StorageEmulatorHost is the host:port for STORAGE_EMULATOR_HOST.
	StorageEmulatorHost string
}

// EndpointsFor returns the endpoints of a fake served at baseURL
// (e.g. an httptest.Server's URL).
func EndpointsFor(baseURL string) Endpoints {
	base := strings.TrimSuffix(baseURL, "/")
	return Endpoints{
		Compute:             base,
		ComputeBasePath:     base + "/compute/v1/",
		SQL:                 base + "/",
		Storage:             base + "/storage/v1/",
		StorageEmulatorHost: strings.TrimPrefix(strings.TrimPrefix(base, "http://"), "https://"),
	}
}

// Endpoints returns the endpoints of the running fake.
func (r *Running) Endpoints() Endpoints { return EndpointsFor(r.URL) }

// Env returns the environment assignments that point the google provider
// and the GCS state backend at the fake, Terraform's variable names.
func (e Endpoints) Env() []string {
	return []string{
		"GOOGLE_COMPUTE_CUSTOM_ENDPOINT=" + e.ComputeBasePath,
		"GOOGLE_SQL_CUSTOM_ENDPOINT=" + e.SQL,
		"GOOGLE_STORAGE_CUSTOM_ENDPOINT=" + e.Storage,
		"STORAGE_EMULATOR_HOST=" + e.StorageEmulatorHost,
	}
}
