package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/store"
	"github.com/airctl/airctl/workflow/store/sqlite"
)

// fastRetry keeps retry tests quick; the jitter logic is the real one.
var fastRetry = Backoff{Attempts: 3, Base: time.Millisecond, Max: 5 * time.Millisecond}

func newStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "aird.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

func parseDAG(t *testing.T, src string) *dag.DAG {
	t.Helper()
	dags, _, diags := dag.ParseFile("notify.hcl", []byte(src))
	if diags.HasErrors() || len(dags) != 1 {
		t.Fatalf("parse: %s", diags.Error())
	}
	return dags[0]
}

// logBuffer collects the dispatcher's log for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func newDispatcher(t *testing.T, st store.Store, d *dag.DAG, smtp SMTPConfig, logs io.Writer) *Dispatcher {
	t.Helper()
	disp := New(context.Background(), Options{
		Store: st, DAGs: func(id string) *dag.DAG {
			if id == d.ID {
				return d
			}
			return nil
		},
		SMTP: smtp, BaseURL: "http://aird.example:8080/", Retry: fastRetry,
		Log: slog.New(slog.NewTextHandler(logs, nil)),
	})
	t.Cleanup(func() { _ = disp.Close(context.Background()) })
	return disp
}

// receiver is an httptest server recording JSON bodies; status answers
// the n-th request (1-based), 200 beyond the list.
type receiver struct {
	*httptest.Server
	calls  atomic.Int32
	bodies chan []byte
	heads  chan http.Header
}

func newReceiver(t *testing.T, status ...int) *receiver {
	t.Helper()
	r := &receiver{bodies: make(chan []byte, 16), heads: make(chan http.Header, 16)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		n := int(r.calls.Add(1))
		if n <= len(status) && status[n-1] != http.StatusOK {
			http.Error(w, "receiver is not ready", status[n-1])
			return
		}
		b, _ := io.ReadAll(req.Body)
		r.bodies <- b
		r.heads <- req.Header.Clone()
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) next(t *testing.T) ([]byte, http.Header) {
	t.Helper()
	select {
	case b := <-r.bodies:
		return b, <-r.heads
	case <-time.After(10 * time.Second):
		t.Fatal("nothing reached the receiver")
		return nil, nil
	}
}

// decodeBody returns the decoded text body of a received e-mail.
func (m smtpMsg) body(t *testing.T) string {
	t.Helper()
	_, raw, ok := strings.Cut(strings.ReplaceAll(m.data, "\r\n", "\n"), "\n\n")
	if !ok {
		t.Fatalf("message without body:\n%s", m.data)
	}
	b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
}

func testRun() store.DagRun {
	ld := time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)
	return store.DagRun{DagID: "etl", RunID: "scheduled__2024-03-01T02:00:00+00:00", LogicalDate: ld, DataIntervalStart: ld, DataIntervalEnd: ld.Add(24 * time.Hour), State: store.RunRunning}
}

func testTI(state store.TIState, try int) store.TaskInstance {
	return store.TaskInstance{TIKey: store.TIKey{DagID: "etl", RunID: testRun().RunID, TaskID: "load"}, State: state, TryNumber: try}
}

func TestEmailOverSTARTTLSWithAuth(t *testing.T) {
	srv := startSMTPD(t, func(s *smtpd) { s.user, s.pass = "aird", "s3cret" })
	st := newStore(t)
	if err := st.SetVariable(context.Background(), store.Variable{Key: "oncall", Value: "oncall@example.com"}); err != nil {
		t.Fatal(err)
	}
	d := parseDAG(t, `dag "etl" {
  params = { table = "events" }
  task "load" {
    command = "false"
    on_failure {
      email {
        to      = ["Ops <ops@example.com>", var.oncall]
        subject = "${run.dag_id}.${ti.task_id} ${event} on ${run.ds} — try ${ti.try_number}"
        body    = "Table ${params.table} failed in state ${ti.state}.\nLog: ${ti.log_url}"
      }
    }
  }
}`)
	disp := newDispatcher(t, st, d, srv.config(), io.Discard)
	disp.TaskFinished(testTI(store.TIFailed, 3), testRun())
	m := srv.next(t)
	if !m.tls || m.authed != "aird" {
		t.Errorf("tls=%v authed=%q: want the message sent after STARTTLS and AUTH PLAIN", m.tls, m.authed)
	}
	if m.from != "aird@example.com" || strings.Join(m.to, ",") != "ops@example.com,oncall@example.com" {
		t.Errorf("envelope from=%q to=%v", m.from, m.to)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.header(t, "Subject"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "etl.load on_failure on 2024-03-01 — try 3"; subject != want {
		t.Errorf("subject = %q, want %q", subject, want)
	}
	if to := m.header(t, "To"); !strings.Contains(to, `"Ops" <ops@example.com>`) {
		t.Errorf("To header = %q", to)
	}
	wantBody := "Table events failed in state failed.\nLog: http://aird.example:8080/dags/etl/runs/scheduled__2024-03-01T02:00:00+00:00/tasks/load?try=3"
	if got := m.body(t); got != wantBody {
		t.Errorf("body = %q, want %q", got, wantBody)
	}
}

func TestEmailDefaultsAndTransientRetry(t *testing.T) {
	srv := startSMTPD(t, func(s *smtpd) { s.noTLS, s.tempFails = true, 1 })
	cfg := srv.config()
	ev := Event{Kind: dag.OnRetry, DagID: "etl", TaskID: "load", RunID: "r1", Try: 1, State: "up_for_retry", LogURL: "http://x/log"}
	attempts, err := fastRetry.do(context.Background(), func(ctx context.Context) error {
		return EmailSender{SMTP: cfg}.Send(ctx, ev, dag.Notification{Type: dag.NotifyEmail, To: []string{"ops@example.com"}})
	})
	if err != nil || attempts != 2 {
		t.Fatalf("attempts=%d err=%v: want a 451 retried once then delivered", attempts, err)
	}
	m := srv.next(t)
	if got := m.header(t, "Subject"); got != "[aird] Retrying: etl.load (run r1, try 1 failed)" {
		t.Errorf("default subject = %q", got)
	}
	for _, want := range []string{"Task:         load", "Try:          1", "Log:          http://x/log"} {
		if !strings.Contains(m.body(t), want) {
			t.Errorf("default body lacks %q:\n%s", want, m.body(t))
		}
	}
}

func TestEmailRefusals(t *testing.T) {
	ev := Event{Kind: dag.OnFailure, DagID: "etl", RunID: "r1"}
	n := dag.Notification{Type: dag.NotifyEmail, To: []string{"ops@example.com"}}
	cases := []struct {
		name      string
		configure func(*smtpd)
		edit      func(*SMTPConfig)
		want      string
	}{
		{"no STARTTLS offered", func(s *smtpd) { s.noTLS = true }, func(c *SMTPConfig) { c.StartTLS = true }, "does not offer STARTTLS"},
		{"wrong password", func(s *smtpd) { s.user, s.pass = "aird", "right" }, func(c *SMTPConfig) { c.Password = "wrong" }, "535"},
		{"untrusted certificate", nil, func(c *SMTPConfig) { c.TLS = nil }, "certificate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := startSMTPD(t, c.configure)
			cfg := srv.config()
			c.edit(&cfg)
			attempts, err := fastRetry.do(context.Background(), func(ctx context.Context) error {
				return EmailSender{SMTP: cfg}.Send(ctx, ev, n)
			})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to mention %q", err, c.want)
			}
			if attempts != 1 {
				t.Errorf("%d attempts: a permanent refusal must not be retried", attempts)
			}
			select {
			case m := <-srv.msgs:
				t.Errorf("a message was accepted: %+v", m)
			default:
			}
		})
	}
}

func TestWebhookPayloadAndSlackText(t *testing.T) {
	hook, slack := newReceiver(t), newReceiver(t)
	d := parseDAG(t, `dag "etl" {
  params = { table = "events" }
  on_retry {
    webhook {
      url     = "`+hook.URL+`/hooks/aird"
      headers = { "X-Token" = "tok-${run.ds_nodash}" }
    }
    slack {
      webhook_url = "`+slack.URL+`/services/T0/B0/secret"
      text        = ":warning: ${run.dag_id}.${ti.task_id} try ${ti.try_number} failed for ${params.table}; retrying <${ti.log_url}|log>"
    }
  }
  task "load" { command = "false" }
}`)
	disp := newDispatcher(t, newStore(t), d, SMTPConfig{}, io.Discard)
	disp.TaskFinished(testTI(store.TIUpForRetry, 1), testRun())

	body, head := hook.next(t)
	var p WebhookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("webhook body %s: %v", body, err)
	}
	logURL := "http://aird.example:8080/dags/etl/runs/scheduled__2024-03-01T02:00:00+00:00/tasks/load?try=1"
	want := WebhookPayload{
		Event: "on_retry", DagID: "etl", TaskID: "load", RunID: testRun().RunID, TryNumber: 1, State: "up_for_retry",
		LogicalDate: testRun().LogicalDate, LogURL: logURL, Message: "Retrying: etl.load (run " + testRun().RunID + ", try 1 failed)",
	}
	if p.Event != want.Event || p.DagID != want.DagID || p.TaskID != want.TaskID || p.RunID != want.RunID ||
		p.TryNumber != want.TryNumber || p.State != want.State || !p.LogicalDate.Equal(want.LogicalDate) ||
		p.LogURL != want.LogURL || p.Message != want.Message {
		t.Errorf("payload\n got %+v\nwant %+v", p, want)
	}
	if got := head.Get("X-Token"); got != "tok-20240301" {
		t.Errorf("X-Token = %q", got)
	}
	if got := head.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}

	body, _ = slack.next(t)
	var msg map[string]string
	if err := json.Unmarshal(body, &msg); err != nil {
		t.Fatal(err)
	}
	if want := ":warning: etl.load try 1 failed for events; retrying <" + logURL + "|log>"; msg["text"] != want {
		t.Errorf("slack text = %q, want %q", msg["text"], want)
	}
}

func TestReceiverDownIsLoggedNotFatal(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there any more: connection refused
	after := newReceiver(t)
	d := parseDAG(t, `dag "etl" {
  task "load" {
    command = "true"
    on_success {
      webhook { url = "`+closed+`/hook" }
      webhook { url = "`+after.URL+`/hook" }
    }
  }
}`)
	var logs logBuffer
	disp := newDispatcher(t, newStore(t), d, SMTPConfig{}, &logs)
	disp.TaskFinished(testTI(store.TISuccess, 1), testRun())
	body, _ := after.next(t) // a dead notifier does not stop the next one
	if !strings.Contains(string(body), `"state":"success"`) {
		t.Errorf("second webhook body = %s", body)
	}
	if err := disp.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if n := strings.Count(out, "notification attempt failed; retrying"); n != fastRetry.Attempts-1 {
		t.Errorf("%d retry warnings, want %d:\n%s", n, fastRetry.Attempts-1, out)
	}
	if strings.Contains(out, "/hook") {
		t.Errorf("log shows the webhook URL path, which may hold a token:\n%s", out)
	}
	for _, want := range []string{"notification not delivered", "after 3 attempt(s)", "connection refused", "notify.hcl:5,"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestRetryAfterServerErrorThenDelivered(t *testing.T) {
	hook := newReceiver(t, http.StatusInternalServerError, http.StatusOK)
	d := parseDAG(t, `dag "etl" {
  on_failure {
    webhook { url = "`+hook.URL+`" }
  }
  task "load" { command = "false" }
}`)
	st := newStore(t)
	var logs logBuffer
	disp := newDispatcher(t, st, d, SMTPConfig{}, &logs)
	run := testRun()
	if _, err := st.CreateDagRun(context.Background(), run, []store.TaskInstance{{TIKey: store.TIKey{TaskID: "load"}, State: store.TIFailed}}); err != nil {
		t.Fatal(err)
	}
	run.State = store.RunFailed
	disp.RunFinished(run)
	body, _ := hook.next(t)
	var p WebhookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Event != "on_failure" || p.TaskID != "" || p.State != "failed" || strings.Join(p.FailedTasks, ",") != "load" ||
		p.LogURL != "http://aird.example:8080/dags/etl/runs/"+run.RunID {
		t.Errorf("run payload = %+v", p)
	}
	if err := disp.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := hook.calls.Load(); n != 2 {
		t.Errorf("%d requests, want 2 (500, then 200)", n)
	}
	if !strings.Contains(logs.String(), "attempts=2") {
		t.Errorf("log does not show delivery on the second attempt:\n%s", logs.String())
	}
}

func TestPermanentClientErrorNotRetried(t *testing.T) {
	hook := newReceiver(t, http.StatusNotFound)
	_, err := fastRetry.do(context.Background(), func(ctx context.Context) error {
		return HTTPSender{}.Send(ctx, Event{Kind: dag.OnFailure}, dag.Notification{Type: dag.NotifyWebhook, URL: hook.URL + "/secret-path"})
	})
	if err == nil || !isPermanent(err) || hook.calls.Load() != 1 {
		t.Fatalf("err=%v calls=%d: want one permanent failure", err, hook.calls.Load())
	}
	if strings.Contains(err.Error(), "secret-path") {
		t.Errorf("error shows the URL path, which may hold a token: %v", err)
	}
}

func TestCloseDrainsQueuedNotifications(t *testing.T) {
	release := make(chan struct{})
	var got atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		got.Add(1)
	}))
	t.Cleanup(srv.Close)
	d := parseDAG(t, `dag "etl" {
  task "load" {
    command = "true"
    on_success {
      webhook { url = "`+srv.URL+`" }
    }
  }
}`)
	disp := newDispatcher(t, newStore(t), d, SMTPConfig{}, io.Discard)
	for range 5 {
		disp.TaskFinished(testTI(store.TISuccess, 1), testRun())
	}
	close(release)
	if err := disp.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got.Load() != 5 {
		t.Errorf("%d of 5 queued notifications delivered before Close returned", got.Load())
	}
	disp.TaskFinished(testTI(store.TISuccess, 1), testRun()) // after Close: dropped, no panic
}

func TestCloseAbandonsAfterGrace(t *testing.T) {
	stuck := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stuck:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(stuck); srv.Close() })
	d := parseDAG(t, `dag "etl" {
  task "load" {
    command = "true"
    on_success {
      webhook { url = "`+srv.URL+`" }
    }
  }
}`)
	disp := newDispatcher(t, newStore(t), d, SMTPConfig{}, io.Discard)
	disp.TaskFinished(testTI(store.TISuccess, 1), testRun())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := disp.Close(ctx); err == nil || !strings.Contains(err.Error(), "abandoned") {
		t.Fatalf("Close = %v, want the stuck delivery abandoned", err)
	}
}

func TestNoNotifiersNoWork(t *testing.T) {
	d := parseDAG(t, `dag "etl" {
  task "load" { command = "true" }
}`)
	disp := newDispatcher(t, newStore(t), d, SMTPConfig{}, io.Discard)
	disp.TaskFinished(testTI(store.TISuccess, 1), testRun())
	disp.TaskFinished(testTI(store.TIRunning, 1), testRun())
	if n := len(disp.jobs); n != 0 {
		t.Errorf("%d jobs queued for a DAG without notifiers", n)
	}
	var delivered *bool
	disp.SLAMissed(store.SLAMiss{DagID: "etl", TaskID: "load"}, testRun(), func(ok bool) { delivered = &ok })
	if delivered == nil || !*delivered {
		t.Error("an SLA miss without notifiers must count as notified at once")
	}
}

func TestFullQueueDropsInsteadOfBlocking(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 8)
	var got atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
		got.Add(1)
	}))
	t.Cleanup(srv.Close)
	d := parseDAG(t, `dag "etl" {
  task "load" {
    command = "true"
    on_success {
      webhook { url = "`+srv.URL+`" }
    }
  }
}`)
	var logs logBuffer
	disp := New(context.Background(), Options{
		Store: newStore(t), DAGs: func(string) *dag.DAG { return d }, Retry: fastRetry,
		Workers: 1, QueueSize: 1, Log: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	disp.TaskFinished(testTI(store.TISuccess, 1), testRun())
	// Once the only worker is busy with the first event, one more fits in
	// the queue and the next is dropped at once.
	<-started
	disp.TaskFinished(testTI(store.TISuccess, 1), testRun())
	disp.TaskFinished(testTI(store.TISuccess, 1), testRun())
	close(release)
	if err := disp.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got.Load() != 2 || !strings.Contains(logs.String(), "delivery queue full") {
		t.Errorf("%d delivered, log:\n%s\nwant 2 delivered and the third dropped with a warning", got.Load(), logs.String())
	}
}
