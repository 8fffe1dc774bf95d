package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/airctl/airctl/workflow/dag"
)

// WebhookPayload is the JSON body a webhook notifier POSTs; field names
// follow Airflow's REST API.
type WebhookPayload struct {
	Event       string    `json:"event"`
	DagID       string    `json:"dag_id"`
	TaskID      string    `json:"task_id,omitempty"`
	RunID       string    `json:"dag_run_id"`
	TryNumber   int       `json:"try_number,omitempty"`
	State       string    `json:"state"`
	LogicalDate time.Time `json:"logical_date"`
	LogURL      string    `json:"log_url"`
	Message     string    `json:"message"`
	// SLADeadline is set for sla_miss, FailedTasks for a failed run.
	SLADeadline *time.Time `json:"sla_deadline,omitempty"`
	FailedTasks []string   `json:"failed_tasks,omitempty"`
}

// Payload is the webhook body of an event.
func Payload(ev Event) WebhookPayload {
	p := WebhookPayload{
		Event: string(ev.Kind), DagID: ev.DagID, TaskID: ev.TaskID, RunID: ev.RunID, TryNumber: ev.Try,
		State: ev.State, LogicalDate: ev.LogicalDate.UTC(), LogURL: ev.LogURL, Message: ev.subject(),
		FailedTasks: ev.FailedTasks,
	}
	if !ev.Deadline.IsZero() {
		d := ev.Deadline.UTC()
		p.SLADeadline = &d
	}
	return p
}

// HTTPSender posts webhook and Slack notifications.
type HTTPSender struct {
	Client *http.Client
}

// Send posts the event: the JSON payload for a webhook, {"text": ...} for
// Slack (text defaults to a one-line summary with the log link).
func (h HTTPSender) Send(ctx context.Context, ev Event, n dag.Notification) error {
	var body any
	switch n.Type {
	case dag.NotifyWebhook:
		body = Payload(ev)
	case dag.NotifySlack:
		text := n.Text
		if text == "" {
			text = fmt.Sprintf("%s <%s|log>", ev.subject(), ev.LogURL)
		}
		body = map[string]string{"text": text}
	default:
		return permanent(fmt.Errorf("notifier type %q is not sent over HTTP", n.Type))
	}
	b, err := json.Marshal(body)
	if err != nil {
		return permanent(fmt.Errorf("encode %s body: %w", n.Type, err))
	}
	return h.post(ctx, n, b)
}

func (h HTTPSender) post(ctx context.Context, n dag.Notification, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URL, bytes.NewReader(body))
	if err != nil {
		return permanent(fmt.Errorf("%s url %q: %w", n.Type, n.URL, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "aird-notify")
	for k, v := range n.Headers {
		req.Header.Set(k, v)
	}
	client := h.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := client.Do(req)
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		err = ue.Err // its message repeats the whole URL
	}
	if err != nil {
		return fmt.Errorf("post %s notification to %s: %w", n.Type, origin(req.URL), err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	err = fmt.Errorf("post %s notification to %s: %s: %q", n.Type, origin(req.URL), resp.Status, snippet)
	// 408 and 429 are worth another try, like every 5xx; other 4xx mean
	// the request itself is wrong (URL, token) and the notifier needs fixing.
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout {
		return err
	}
	return permanent(err)
}

// origin is the part of a URL safe to log: a Slack webhook URL carries its
// secret in the path.
func origin(u *url.URL) string {
	return u.Scheme + "://" + u.Host
}
