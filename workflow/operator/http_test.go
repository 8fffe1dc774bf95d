package operator_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/connections"
	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/operator"
)

// apiServer answers POST /v1/items with what it received, and
// GET /v1/health with {"ok": <healthy>}.
func apiServer(t *testing.T, healthy func() bool) (*httptest.Server, connections.Connection) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		switch r.URL.Path {
		case "/v1/items":
			body, _ := io.ReadAll(r.Body)
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(map[string]any{
				"ok": true, "method": r.Method, "day": r.URL.Query().Get("day"), "body": string(body),
				"user": user, "pass": pass, "team": r.Header.Get("X-Team"), "trace": r.Header.Get("X-Trace"),
				"items": []any{map[string]any{"id": 7}},
			})
		case "/v1/slow": // answers only when the client gives up
			<-r.Context().Done()
		case "/v1/health":
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": healthy()})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	host, port, err := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	return srv, connections.Connection{
		ConnID: "api", ConnType: "http", Host: host, Port: p, Login: "svc", Password: "s3cret",
		Extra: `{"X-Team": "data"}`,
	}
}

func TestHTTPOperatorThroughConnection(t *testing.T) {
	_, conn := apiServer(t, func() bool { return true })
	op := build(t, `
    http {
      conn_id         = "api"
      method          = "POST"
      url             = "/v1/items?day=${run.ds}"
      headers         = { X-Trace = "t-1" }
      body            = jsonencode({ n = 3 })
      expected_status = [201]
      check_jsonpath  = "$.items[0].id"
      check_regexp    = "\"ok\":true"
    }`, dag.RunContext{LogicalDate: time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC)})
	var log syncBuffer
	res, err := op.Run(t.Context(), &operator.Env{Log: &log, Conns: conns{"api": conn}})
	if err != nil {
		t.Fatalf("%v\nlog:\n%s", err, log.String())
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(res.Output), &got); err != nil {
		t.Fatalf("output is not the response body: %q", res.Output)
	}
	want := map[string]any{"method": "POST", "day": "2024-05-06", "body": `{"n":3}`, "user": "svc", "pass": "s3cret", "team": "data", "trace": "t-1"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("server saw %s = %v, want %v", k, got[k], v)
		}
	}
	if !strings.Contains(log.String(), "POST http://") || strings.Contains(log.String(), "s3cret") {
		t.Errorf("log should show the request without the password:\n%s", log.String())
	}
}

func TestHTTPOperatorFailures(t *testing.T) {
	srv, conn := apiServer(t, func() bool { return false })
	env := &operator.Env{Conns: conns{"api": conn}}
	cases := []struct{ name, body, want string }{
		{"unexpected status", `http { url = "` + srv.URL + `/nope" }`, "http status 404, expected 2xx"},
		{"status not listed", `http {
      url             = "` + srv.URL + `/v1/health"
      expected_status = [201, 202]
    }`, "http status 200, expected 201 or 202"},
		{"jsonpath false", `http {
      url            = "` + srv.URL + `/v1/health"
      check_jsonpath = "$.ok"
    }`, "check_jsonpath $.ok is missing, null, false"},
		{"jsonpath missing", `http {
      url            = "` + srv.URL + `/v1/health"
      check_jsonpath = "$.status.code"
    }`, "check_jsonpath $.status.code is missing"},
		{"regexp", `http {
      url          = "` + srv.URL + `/v1/health"
      check_regexp = "\"ok\":\\s*true"
    }`, "does not match check_regexp"},
		{"relative without conn", `http { url = "/v1/health" }`, "url \"/v1/health\" is relative"},
		{"unknown conn", `http {
      conn_id = "nope"
      url     = "/v1/health"
    }`, `connection "nope"`},
		{"refused", `http { url = "http://127.0.0.1:1/x" }`, "connect: connection refused"},
		{"timeout", `http {
      url     = "` + srv.URL + `/v1/slow"
      timeout = "50ms"
    }`, "Client.Timeout exceeded"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := build(t, c.body, dag.RunContext{}).Run(t.Context(), env)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want containing %q", err, c.want)
			}
		})
	}
}

func TestHTTPSensorPokesUntilHealthy(t *testing.T) {
	var pokes atomic.Int32
	srv, _ := apiServer(t, func() bool { return pokes.Add(1) >= 3 })
	op := build(t, `
    wait_for {
      http {
        url            = "`+srv.URL+`/v1/health"
        check_jsonpath = "$.ok"
      }
      poke_interval = "1ms"
    }`, dag.RunContext{})
	var log syncBuffer
	if _, err := op.Run(t.Context(), &operator.Env{Log: &log}); err != nil {
		t.Fatal(err)
	}
	if pokes.Load() != 3 || strings.Count(log.String(), "not yet") != 2 {
		t.Errorf("pokes = %d, log:\n%s", pokes.Load(), log.String())
	}
}
