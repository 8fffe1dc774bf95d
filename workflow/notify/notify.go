// Package notify delivers aird's on_failure, on_retry, on_success and
// sla_miss notifications: e-mail over SMTP, Slack incoming webhooks and
// generic JSON webhooks. Delivery is asynchronous and retried with jittered
// backoff; a notifier that stays broken is logged, never fails a task.
//
// Notifiers are declared in DAG files, at DAG and task level:
//
//	dag "etl" {
//	  on_failure {                # the run failed: once per run
//	    webhook {
//	      url     = "https://hooks.example.com/aird"
//	      headers = { "X-Token" = var.hook_token }
//	    }
//	  }
//	  on_retry {                  # the default of every task
//	    slack {
//	      webhook_url = var.slack_hook
//	      text        = "${run.dag_id}.${ti.task_id} try ${ti.try_number} failed"
//	    }
//	  }
//	  task "load" {
//	    command = "..."
//	    sla     = "1h"            # see package sla
//	    on_failure {              # this task failed for good
//	      email {
//	        to      = ["ops@example.com"]
//	        subject = "${ti.task_id} failed on ${run.ds}"
//	        body    = "Log: ${ti.log_url}"
//	      }
//	    }
//	  }
//	}
//
// dag.DAG.TaskNotifiers states which blocks apply to an event. Strings see
// run.*, params.*, var.*, ti.* (dag_id, task_id, run_id, try_number,
// state, log_url) and event; unset subject, body and text default to a
// summary. A webhook receives WebhookPayload as JSON. E-mail uses the
// aird.hcl smtp block (password from AIRD_SMTP_PASSWORD).
package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/airctl/airctl/workflow/dag"
)

// Event is what happened, as every sender reports it.
type Event struct {
	Kind        dag.NotifyKind
	DagID       string
	TaskID      string // empty for a run event
	RunID       string
	Try         int
	State       string // the task's state, or the run's for a run event
	LogicalDate time.Time
	LogURL      string // the task's log page, or the run's page
	// Deadline is the SLA deadline (sla_miss only).
	Deadline time.Time
	// FailedTasks are the run's failed tasks (run events only).
	FailedTasks []string
}

// subject names the event in one line, for e-mail subjects and chat.
func (e Event) subject() string {
	what := e.DagID
	if e.TaskID != "" {
		what += "." + e.TaskID
	}
	switch e.Kind {
	case dag.SLAMiss:
		return fmt.Sprintf("SLA missed: %s (run %s, deadline %s)", what, e.RunID, e.Deadline.UTC().Format(time.RFC3339))
	case dag.OnRetry:
		return fmt.Sprintf("Retrying: %s (run %s, try %d failed)", what, e.RunID, e.Try)
	default:
		return fmt.Sprintf("%s: %s (run %s)", e.State, what, e.RunID)
	}
}

// Sender delivers one rendered notification of an event.
type Sender interface {
	Send(ctx context.Context, ev Event, n dag.Notification) error
}

// permanentError marks a delivery failure that retrying cannot fix (a 4xx
// answer, a rejected recipient).
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

func permanent(err error) error { return permanentError{err} }

// isPermanent reports whether err should not be retried.
func isPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
