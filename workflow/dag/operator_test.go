package dag

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

const operatorsSrc = `dag "ops" {
  params = { limit = 10 }
  task "ping" {
    http {
      conn_id         = "api"
      method          = "post"
      url             = "/v1/items?day=${run.ds}"
      headers         = { X-Day = run.ds }
      body            = jsonencode({ limit = params.limit })
      expected_status = [200, 201]
      check_jsonpath  = "$.ok"
      check_regexp    = "ok"
      timeout         = "5s"
    }
  }
  task "count" {
    sql {
      conn_id    = "warehouse"
      statement  = "SELECT count(*) FROM t WHERE day = $1 AND n < $2 AND ${task.ping.output} = ''"
      parameters = [run.ds, params.limit, 1.5, true]
      check      = "SELECT true"
    }
    depends_on = [task.ping]
  }
  task "up" {
    gcs_upload {
      bucket = "b"
      object = "o/${run.ds}"
      source = "/tmp/x"
    }
  }
  task "down" {
    gcs_download {
      bucket      = "b"
      object      = "o"
      destination = "/tmp/y"
    }
  }
  task "remote" {
    ssh {
      conn_id = "box"
      command = "uptime"
    }
  }
  task "wait" {
    wait_for {
      file { path = "/data/${run.ds_nodash}.csv" }
      poke_interval = "5s"
      timeout       = "10m"
      mode          = "reschedule"
    }
  }
  task "wait_default" {
    wait_for {
      external_task {
        dag_id  = "other"
        task_id = "done"
      }
    }
  }
}
`

func TestParseOperators(t *testing.T) {
	d := mustParseOne(t, operatorsSrc)
	kinds := map[string]string{}
	for _, task := range d.Tasks {
		kinds[task.ID] = task.Kind()
	}
	wantKinds := map[string]string{
		"ping": KindHTTP, "count": KindSQL, "up": KindGCSUpload, "down": KindGCSDownload,
		"remote": KindSSH, "wait": KindWaitFor, "wait_default": KindWaitFor,
	}
	if !reflect.DeepEqual(kinds, wantKinds) {
		t.Errorf("kinds = %v, want %v", kinds, wantKinds)
	}
	ping := d.Task("ping").Op
	if ping.ConnID != "api" || ping.Method != "POST" || !reflect.DeepEqual(ping.ExpectedStatus, []int{200, 201}) ||
		ping.Timeout != 5*time.Second || ping.CheckRegexp.String() != "ok" {
		t.Errorf("http settings = %+v", ping)
	}
	wait := d.Task("wait")
	if *wait.Sensor != (Sensor{PokeInterval: 5 * time.Second, Timeout: 10 * time.Minute, Reschedule: true}) || wait.Op.Kind != SensorFile {
		t.Errorf("sensor = %+v / %s", wait.Sensor, wait.Op.Kind)
	}
	def := d.Task("wait_default")
	if *def.Sensor != (Sensor{PokeInterval: DefaultPokeInterval, Timeout: DefaultSensorTimeout}) || def.Op.Kind != SensorExternalTask {
		t.Errorf("default sensor = %+v / %s", def.Sensor, def.Op.Kind)
	}
	if got := d.Task("count").OutputRefs(); !reflect.DeepEqual(got, []string{"ping"}) {
		t.Errorf("OutputRefs = %v", got)
	}
	if !d.Task("ping").OutputRead() || d.Task("count").OutputRead() {
		t.Errorf("OutputRead: ping %v (read by count), count %v (read by none)", d.Task("ping").OutputRead(), d.Task("count").OutputRead())
	}
}

func TestRenderOperatorFields(t *testing.T) {
	d := mustParseOne(t, operatorsSrc)
	rc := RunContext{RunID: "r1", LogicalDate: time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC), Outputs: map[string]string{"ping": "'pong'"}}
	r, diags := d.Task("ping").Render(rc)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := map[string]string{"url": "/v1/items?day=2024-03-04", "body": `{"limit":10}`, "check_jsonpath": "$.ok"}
	if !reflect.DeepEqual(r.Fields, want) || !reflect.DeepEqual(r.Headers, map[string]string{"X-Day": "2024-03-04"}) {
		t.Errorf("http rendered = %+v", r)
	}
	r, diags = d.Task("count").Render(rc)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if got := r.Fields["statement"]; !strings.HasSuffix(got, "AND 'pong' = ''") {
		t.Errorf("statement = %q, want the upstream output substituted", got)
	}
	if want := []any{"2024-03-04", int64(10), 1.5, true}; !reflect.DeepEqual(r.Parameters, want) {
		t.Errorf("parameters = %#v, want %#v", r.Parameters, want)
	}
	r, diags = d.Task("wait").Render(rc)
	if diags.HasErrors() || r.Fields["path"] != "/data/20240304.csv" {
		t.Errorf("sensor path = %q %v", r.Fields["path"], diags)
	}
}

func TestCommandReadsUpstreamOutput(t *testing.T) {
	d := mustParseOne(t, `dag "o" {
  task "up" { command = "echo 42" }
  task "down" {
    command    = "echo got ${task.up.output}"
    depends_on = [task.up]
  }
}`)
	r, diags := d.Task("down").Render(RunContext{Outputs: map[string]string{"up": "42"}})
	if diags.HasErrors() || r.Command != "echo got 42" {
		t.Errorf("command = %q %v", r.Command, diags)
	}
	r, diags = d.Task("down").Render(RunContext{})
	if diags.HasErrors() || r.Command != "echo got " {
		t.Errorf("without output: command = %q %v, want the empty string substituted", r.Command, diags)
	}
}

func TestParseOperatorErrors(t *testing.T) {
	tests := []struct {
		name, src       string
		summary, detail string
		line, col       int
	}{
		{"two kinds", `dag "a" {
  task "x" {
    command = "true"
    http { url = "http://x" }
  }
}`, "Conflicting task kinds", `Task "x" already runs command (at test.hcl:3,5-12); a task runs exactly one of command, http, sql`, 4, 5},
		{"two blocks", `dag "a" {
  task "x" {
    gcs_download {
      bucket      = "b"
      object      = "o"
      destination = "/tmp/o"
    }
    http { url = "http://x" }
  }
}`, "Conflicting task kinds", `already runs gcs_download`, 8, 5},
		{"nothing to run", `dag "a" {
  task "x" { retries = 1 }
}`, "Missing required argument", `or one of the blocks http, sql, gcs_upload, gcs_download, ssh, wait_for`, 2, 14},
		{"bad sensor duration", `dag "a" {
  task "x" {
    wait_for {
      file { path = "/x" }
      poke_interval = "often"
    }
  }
}`, "Invalid duration", `"poke_interval" must be a duration`, 5, 23},
		{"bad http timeout", `dag "a" {
  task "x" {
    http {
      url     = "http://x"
      timeout = "-1s"
    }
  }
}`, "Invalid duration", `"timeout" must not be negative`, 5, 17},
		{"zero poke interval", `dag "a" {
  task "x" {
    wait_for {
      file { path = "/x" }
      poke_interval = "0s"
    }
  }
}`, "Invalid duration", `"poke_interval" must be more than zero`, 5, 23},
		{"bad mode", `dag "a" {
  task "x" {
    wait_for {
      file { path = "/x" }
      mode = "sleep"
    }
  }
}`, "Invalid sensor mode", `mode "sleep" must be "poke"`, 5, 14},
		{"no condition", `dag "a" {
  task "x" {
    wait_for { mode = "poke" }
  }
}`, "Missing sensor condition", "file, gcs_object, http, sql", 3, 16},
		{"two conditions", `dag "a" {
  task "x" {
    wait_for {
      file { path = "/x" }
      external_task { dag_id = "d" }
    }
  }
}`, "Conflicting sensor conditions", "already waits for file at test.hcl:4,7-11", 5, 7},
		{"sql without conn", `dag "a" {
  task "x" {
    sql { statement = "SELECT 1" }
  }
}`, "Missing required argument", `"conn_id" is required`, 3, 11},
		{"sql statement and file", `dag "a" {
  task "x" {
    sql {
      conn_id   = "w"
      statement = "SELECT 1"
      file      = "q.sql"
    }
  }
}`, "Invalid sql block", "exactly one of statement, file; it has 2", 3, 5},
		{"conn id not literal", `dag "a" {
  task "x" {
    ssh {
      conn_id = run.ds
      command = "true"
    }
  }
}`, "Variables not allowed", "", 4, 17},
		{"bad conn id", `dag "a" {
  task "x" {
    ssh {
      conn_id = "my box"
      command = "true"
    }
  }
}`, "Invalid conn_id", `conn_id "my box" must be letters`, 4, 17},
		{"bad status", `dag "a" {
  task "x" {
    http {
      url             = "http://x"
      expected_status = [200, 7000]
    }
  }
}`, "Invalid expected_status", "between 100 and 599", 5, 25},
		{"bad regexp", `dag "a" {
  task "x" {
    http {
      url          = "http://x"
      check_regexp = "("
    }
  }
}`, "Invalid check_regexp", "not a valid regular expression", 5, 22},
		{"bad method", `dag "a" {
  task "x" {
    http {
      url    = "http://x"
      method = "FETCH"
    }
  }
}`, "Invalid HTTP method", `"FETCH"`, 5, 16},
		{"unknown field", `dag "a" {
  task "x" {
    http { uri = "http://x" }
  }
}`, "Missing required argument", `"url" is required`, 3, 12},
		{"output of non-upstream", `dag "a" {
  task "up" { command = "true" }
  task "x" { command = "echo ${task.up.output}" }
}`, "Output of a task that is not upstream", "add task.up to its depends_on", 3, 32},
		{"task reference without output", `dag "a" {
  task "up" { command = "true" }
  task "x" {
    command    = "echo ${task.up.state}"
    depends_on = [task.up]
  }
}`, "Invalid task reference", "task.<id>.output", 4, 26},
		{"bad field type", `dag "a" {
  task "x" {
    http {
      url     = "http://x"
      headers = ["a"]
    }
  }
}`, "Invalid headers", "headers must be an object of strings", 5, 17},
		{"bad parameter", `dag "a" {
  task "x" {
    sql {
      conn_id    = "w"
      statement  = "SELECT $1"
      parameters = [["nested"]]
    }
  }
}`, "Invalid parameters", "parameter 1 is a tuple", 6, 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dags, _, diags := ParseFile("test.hcl", []byte(tc.src))
			if dags != nil {
				t.Errorf("file with errors returned %d DAGs", len(dags))
			}
			errs := errorsOf(diags)
			if tc.name == "unknown field" {
				// HCL reports the unsupported argument as well.
				errs = errs[:1]
			}
			if len(errs) != 1 {
				t.Fatalf("got %d errors, want 1: %s", len(errs), diags.Error())
			}
			e := errs[0]
			if e.Summary != tc.summary || !strings.Contains(e.Detail, tc.detail) {
				t.Errorf("got %q / %q\nwant %q / containing %q", e.Summary, e.Detail, tc.summary, tc.detail)
			}
			if e.Subject == nil {
				t.Fatal("no Subject range")
			}
			if e.Subject.Filename != "test.hcl" || e.Subject.Start.Line != tc.line || e.Subject.Start.Column != tc.col {
				t.Errorf("at %s, want test.hcl:%d,%d", e.Subject, tc.line, tc.col)
			}
		})
	}
}

func TestCheckConnections(t *testing.T) {
	d := mustParseOne(t, operatorsSrc)
	known := map[string]bool{"api": true, "box": true}
	diags := d.CheckConnections(func(id string) bool { return known[id] })
	if len(diags) != 1 {
		t.Fatalf("got %d diagnostics, want 1 (warehouse): %s", len(diags), diags.Error())
	}
	e := diags[0]
	if e.Summary != "Unknown connection" || !strings.Contains(e.Detail, `conn_id "warehouse"`) ||
		!strings.Contains(e.Detail, "aird connections add warehouse") || e.Subject.Start.Line != 17 {
		t.Errorf("got %s: %s at %s", e.Summary, e.Detail, e.Subject)
	}
}
