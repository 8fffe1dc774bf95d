package dag

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"
)

const notifySrc = `dag "etl" {
  params = { table = "events" }
  on_failure {
    webhook { url = "http://hooks.local/run-failed" }
  }
  on_retry {
    slack {
      webhook_url = var.slack_hook
      text        = "${run.dag_id}.${ti.task_id} try ${ti.try_number} failed (${event})"
    }
  }
  sla_miss {
    email { to = ["ops@example.com"] }
  }
  task "extract" {
    command = "true"
    sla     = "1h30m"
    on_failure {
      email {
        to      = ["ops@example.com", "${params.table}-owner@example.com"]
        subject = "${ti.task_id} ${ti.state} on ${run.ds}"
        body    = "see ${ti.log_url}"
      }
      webhook {
        url     = "http://hooks.local/${run.dag_id}"
        headers = { Authorization = "Bearer ${var.token}" }
      }
    }
  }
  task "load" {
    command = "true"
    on_retry {}
    sla_miss {
      webhook { url = "http://hooks.local/sla" }
    }
  }
}`

func TestNotifiersParseAndRule(t *testing.T) {
	d := mustParseOne(t, notifySrc)
	extract, load := d.Task("extract"), d.Task("load")
	if extract.SLA != 90*time.Minute || load.SLA != 0 || d.MaxSLA() != 90*time.Minute {
		t.Errorf("sla: extract %s, load %s, max %s", extract.SLA, load.SLA, d.MaxSLA())
	}
	types := func(ns []Notifier) string {
		var s []string
		for _, n := range ns {
			s = append(s, n.Type)
		}
		return strings.Join(s, ",")
	}
	cases := []struct {
		name string
		got  []Notifier
		want string
	}{
		{"extract on_failure: its own", d.TaskNotifiers(extract, OnFailure), "email,webhook"},
		{"load on_failure: the DAG's is run-level only", d.TaskNotifiers(load, OnFailure), ""},
		{"extract on_retry: DAG default", d.TaskNotifiers(extract, OnRetry), "slack"},
		{"load on_retry: silenced by an empty block", d.TaskNotifiers(load, OnRetry), ""},
		{"extract sla_miss: DAG default", d.TaskNotifiers(extract, SLAMiss), "email"},
		{"load sla_miss: replaced", d.TaskNotifiers(load, SLAMiss), "webhook"},
		{"extract on_success: none", d.TaskNotifiers(extract, OnSuccess), ""},
		{"run on_failure", d.RunNotifiers(OnFailure), "webhook"},
		{"run on_success: none", d.RunNotifiers(OnSuccess), ""},
		{"run on_retry: not a run event", d.RunNotifiers(OnRetry), ""},
	}
	for _, c := range cases {
		if got := types(c.got); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
	if got := NotifierVarRefs(d.TaskNotifiers(extract, OnFailure)); !reflect.DeepEqual(got, []string{"token"}) {
		t.Errorf("var refs = %v", got)
	}
}

func TestRenderNotifier(t *testing.T) {
	d := mustParseOne(t, notifySrc)
	ld := time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)
	nc := NotifyContext{
		Run:    RunContext{RunID: "manual__x", LogicalDate: ld, Params: map[string]cty.Value{"table": cty.StringVal("orders")}, Vars: map[string]string{"token": "t0k"}},
		Event:  OnFailure,
		TaskID: "extract", Try: 2, State: "failed", LogURL: "http://ui/log",
	}
	ns := d.TaskNotifiers(d.Task("extract"), OnFailure)
	email, diags := d.RenderNotifier(ns[0], nc)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	want := Notification{Type: NotifyEmail, To: []string{"ops@example.com", "orders-owner@example.com"}, Subject: "extract failed on 2024-03-01", Body: "see http://ui/log"}
	if !reflect.DeepEqual(email, want) {
		t.Errorf("email\n got %+v\nwant %+v", email, want)
	}
	hook, diags := d.RenderNotifier(ns[1], nc)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if hook.URL != "http://hooks.local/etl" || hook.Headers["Authorization"] != "Bearer t0k" {
		t.Errorf("webhook = %+v", hook)
	}
	slack, diags := d.RenderNotifier(d.TaskNotifiers(d.Task("extract"), OnRetry)[0], nc)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), `no variable "slack_hook" is set`) {
		t.Errorf("missing var: got %+v, %v", slack, diags)
	}
	nc.Run.Vars["slack_hook"] = "https://hooks.slack.local/T/B/x"
	nc.Event = OnRetry
	slack, diags = d.RenderNotifier(d.TaskNotifiers(d.Task("extract"), OnRetry)[0], nc)
	if diags.HasErrors() || slack.URL != "https://hooks.slack.local/T/B/x" || slack.Text != "etl.extract try 2 failed (on_retry)" {
		t.Errorf("slack = %+v, %v", slack, diags)
	}
}

func TestNotifierErrors(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"unknown ti attribute", `task "a" {
    command = "true"
    on_failure {
      webhook { url = "x/${ti.tries}" }
    }
  }`, "test.hcl:5,28-36: Unknown ti attribute; There is no ti.tries"},
		{"unknown root", `on_success {
    slack { webhook_url = "x/${task.a.output}" }
  }
  task "a" { command = "true" }`, "test.hcl:3,32-45: Unknown variable"},
		{"missing required", `on_failure {
    email { subject = "x" }
  }
  task "a" { command = "true" }`, `test.hcl:3,13-13: Missing required argument; The argument "to" is required`},
		{"unknown attribute", `on_failure {
    webhook {
      url  = "x"
      body = "y"
    }
  }
  task "a" { command = "true" }`, `test.hcl:5,7-11: Unsupported argument`},
		{"unknown notifier type", `on_failure {
    pager { to = "x" }
  }
  task "a" { command = "true" }`, `test.hcl:3,5-10: Unsupported block type`},
		{"duplicate event block", `on_failure {}
  on_failure {}
  task "a" { command = "true" }`, "test.hcl:3,3-13: Duplicate on_failure block"},
		{"to is not a list", `sla_miss {
    email { to = "ops@example.com" }
  }
  task "a" { command = "true" }`, "Invalid to; to must be a list of strings"},
		{"zero sla", `task "a" {
    command = "true"
    sla     = "0s"
  }`, `test.hcl:4,15-19: Invalid duration; "sla" must be longer than zero`},
		{"bad sla", `task "a" {
    command = "true"
    sla     = "soon"
  }`, `test.hcl:4,15-21: Invalid duration`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dags, _, diags := ParseFile("test.hcl", []byte("dag \"d\" {\n  "+c.src+"\n}\n"))
			if dags != nil || !strings.Contains(diags.Error(), c.want) {
				t.Errorf("got %v\nwant an error containing %q", diags.Error(), c.want)
			}
		})
	}
}
