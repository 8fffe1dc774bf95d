package operator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/airctl/airctl/workflow/connections"
	"github.com/airctl/airctl/workflow/dag"
)

// HTTP sends one request and checks the response; its output is the body.
type HTTP struct {
	ConnID  string // optional: base URL, basic auth and default headers
	Method  string
	URL     string // absolute, or relative to the connection's base URL
	Headers map[string]string
	Body    string
	// ExpectedStatus lists the accepted status codes; nil accepts 2xx.
	ExpectedStatus []int
	// CheckJSONPath, when set, must select a truthy value in the JSON body.
	CheckJSONPath string
	// CheckRegexp, when set, must match the body.
	CheckRegexp *regexp.Regexp
	Timeout     time.Duration
}

// maxBody bounds how much of a response is read: a body is kept as the
// task output, so more than the output limit is never useful.
const maxBody = 16 << 20

func newHTTP(op *dag.Operator, r dag.Rendered) *HTTP {
	return &HTTP{
		ConnID: op.ConnID, Method: op.Method, URL: r.Fields["url"], Headers: r.Headers, Body: r.Fields["body"],
		ExpectedStatus: op.ExpectedStatus, CheckJSONPath: r.Fields["check_jsonpath"], CheckRegexp: op.CheckRegexp, Timeout: op.Timeout,
	}
}

// Run sends the request; a status or check mismatch fails the task.
func (h *HTTP) Run(ctx context.Context, env *Env) (Result, error) {
	status, body, err := h.do(ctx, env)
	if err != nil {
		return Result{}, err
	}
	if err := h.check(status, body); err != nil {
		return Result{}, err
	}
	return Result{Output: body}, nil
}

// do sends the request and returns the status and body.
func (h *HTTP) do(ctx context.Context, env *Env) (int, string, error) {
	conn, err := env.optionalConn(ctx, h.ConnID)
	if err != nil {
		return 0, "", err
	}
	req, err := h.request(ctx, conn)
	if err != nil {
		return 0, "", err
	}
	env.logf("%s %s", req.Method, req.URL.Redacted())
	client := &http.Client{Timeout: h.Timeout}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("http %s %s: %w", req.Method, req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return 0, "", fmt.Errorf("read response of %s: %w", req.URL.Redacted(), err)
	}
	env.logf("response: %s, %d bytes", resp.Status, len(data))
	return resp.StatusCode, string(data), nil
}

// request builds the request: the connection gives the base URL
// (schema://host:port, schema defaulting to http, as in Airflow), basic
// auth from login/password and default headers from a JSON extra.
func (h *HTTP) request(ctx context.Context, conn *connections.Connection) (*http.Request, error) {
	target, err := resolveURL(conn, h.URL)
	if err != nil {
		return nil, err
	}
	var body io.Reader
	if h.Body != "" {
		body = strings.NewReader(h.Body)
	}
	req, err := http.NewRequestWithContext(ctx, h.Method, target, body)
	if err != nil {
		return nil, fmt.Errorf("http request %s %s: %w", h.Method, target, err)
	}
	if conn != nil {
		if err := connHeaders(conn, req.Header); err != nil {
			return nil, err
		}
		if conn.Login != "" || conn.Password != "" {
			req.SetBasicAuth(conn.Login, conn.Password)
		}
	}
	for k, v := range h.Headers {
		req.Header.Set(k, v)
	}
	return req, nil
}

func resolveURL(conn *connections.Connection, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("url %q: %w", raw, err)
	}
	if u.IsAbs() {
		return raw, nil
	}
	if conn == nil || conn.Host == "" {
		return "", fmt.Errorf("url %q is relative: write an absolute URL or set conn_id to a connection whose host is the base URL", raw)
	}
	base := conn.Host
	if !strings.Contains(base, "://") {
		scheme := conn.Schema
		if scheme == "" {
			scheme = "http"
		}
		base = scheme + "://" + base
	}
	if conn.Port != 0 {
		b, err := url.Parse(base)
		if err != nil {
			return "", fmt.Errorf("connection %s host %q: %w", conn.ConnID, conn.Host, err)
		}
		b.Host = b.Hostname() + ":" + strconv.Itoa(conn.Port)
		base = b.String()
	}
	return strings.TrimRight(base, "/") + "/" + strings.TrimLeft(raw, "/"), nil
}

// connHeaders adds the string values of a connection's JSON extra as
// headers (Airflow's HttpHook does the same).
func connHeaders(conn *connections.Connection, h http.Header) error {
	if conn.Extra == "" {
		return nil
	}
	var extra map[string]any
	if err := json.Unmarshal([]byte(conn.Extra), &extra); err != nil {
		return fmt.Errorf("connection %s: extra must be a JSON object of headers: %w", conn.ConnID, err)
	}
	for k, v := range extra {
		if s, ok := v.(string); ok {
			h.Set(k, s)
		}
	}
	return nil
}

// check applies the expected status and the body checks.
func (h *HTTP) check(status int, body string) error {
	if h.ExpectedStatus == nil && (status < 200 || status > 299) || h.ExpectedStatus != nil && !slices.Contains(h.ExpectedStatus, status) {
		return fmt.Errorf("http status %d, expected %s; body: %.200s", status, h.expected(), body)
	}
	if h.CheckRegexp != nil && !h.CheckRegexp.MatchString(body) {
		return fmt.Errorf("response body does not match check_regexp %q; body: %.200s", h.CheckRegexp, body)
	}
	if h.CheckJSONPath != "" {
		ok, err := jsonPathTruthy(body, h.CheckJSONPath)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("check_jsonpath %s is missing, null, false, empty or zero in the response; body: %.200s", h.CheckJSONPath, body)
		}
	}
	return nil
}

func (h *HTTP) expected() string {
	if h.ExpectedStatus == nil {
		return "2xx"
	}
	s := make([]string, len(h.ExpectedStatus))
	for i, c := range h.ExpectedStatus {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, " or ")
}

// HTTPPoker is the http sensor: met when the request gets an expected
// status and passes its checks. Transport errors count as not yet: the
// service may still be starting.
type HTTPPoker struct {
	Request *HTTP
}

// Poke sends the request once.
func (p *HTTPPoker) Poke(ctx context.Context, env *Env) (bool, error) {
	status, body, err := p.Request.do(ctx, env)
	if err != nil {
		if ctx.Err() != nil {
			return false, err
		}
		env.logf("not yet: %v", err)
		return false, nil
	}
	if err := p.Request.check(status, body); err != nil {
		env.logf("not yet: %v", err)
		return false, nil
	}
	return true, nil
}
