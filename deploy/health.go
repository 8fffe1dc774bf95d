package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/airctl/airctl/deploy/ssh"
)

// healthBody is the part of aird's /health (Airflow's format) the gate
// reads.
type healthBody struct {
	Metadatabase struct {
		Status string `json:"status"`
	} `json:"metadatabase"`
	Scheduler struct {
		Status    string  `json:"status"`
		Heartbeat *string `json:"latest_scheduler_heartbeat"`
	} `json:"scheduler"`
}

// healthClient reaches the webserver on the host's loopback through the SSH
// connection, so the gate needs no open port and checks this very host,
// not whatever a load balancer picks.
func healthClient(c *ssh.Client) *http.Client {
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			DialContext:       c.DialContext,
			DisableKeepAlives: true, // each probe proves a fresh accept works
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// waitHealthy probes until the webserver answers 200 with a healthy
// database and a scheduler heartbeat taken after since (host clock: the
// moment the new scheduler was started), or until timeout.
func waitHealthy(ctx context.Context, c *ssh.Client, port int, path string, since time.Time, timeout, interval time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := healthClient(c)
	url := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) + path
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	var last error // the latest verdict, rather than the deadline cutting a probe short
	for {
		err := probe(ctx, client, url, since)
		if err == nil {
			return nil
		}
		if c.Err() != nil {
			return fmt.Errorf("health gate: %w", c.Err())
		}
		if last == nil || ctx.Err() == nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("health gate: %s on the host did not pass within %s: %w", path, timeout, last)
		case <-ticker.C:
		}
	}
}

var errUnhealthy = errors.New("unhealthy")

func probe(ctx context.Context, client *http.Client, url string, since time.Time) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: GET %s: %s", errUnhealthy, url, resp.Status)
	}
	return judge(body, since)
}

// judge reads a /health body. aird answers 200 even when a component is
// down (as Airflow does, for load balancers), so the body decides.
func judge(body []byte, since time.Time) error {
	var h healthBody
	if err := json.Unmarshal(body, &h); err != nil {
		return fmt.Errorf("%w: /health is not JSON: %w", errUnhealthy, err)
	}
	if h.Metadatabase.Status != "healthy" {
		return fmt.Errorf("%w: metadata database is %q", errUnhealthy, h.Metadatabase.Status)
	}
	if h.Scheduler.Status != "healthy" || h.Scheduler.Heartbeat == nil {
		return fmt.Errorf("%w: scheduler is %q (no recent heartbeat)", errUnhealthy, h.Scheduler.Status)
	}
	beat, err := time.Parse(time.RFC3339Nano, *h.Scheduler.Heartbeat)
	if err != nil {
		return fmt.Errorf("%w: scheduler heartbeat %q: %w", errUnhealthy, *h.Scheduler.Heartbeat, err)
	}
	if beat.Before(since) {
		return fmt.Errorf("%w: last scheduler heartbeat %s predates the restart at %s: the new scheduler has not reported yet",
			errUnhealthy, beat.UTC().Format(time.RFC3339Nano), since.UTC().Format(time.RFC3339Nano))
	}
	return nil
}
