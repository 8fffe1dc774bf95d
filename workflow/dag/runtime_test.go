package dag

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

const renderSrc = `dag "r" {
  timezone = "Asia/Seoul"
  params   = { table = "events", limit = 10, opts = { full = true } }
  task "t" {
    command = <<-EOT
      load ${params.table} ${run.ds} ${run.ds_nodash} limit=${params.limit}
      ${upper(var.region)} ${var["api-key"]} $${HOME} ${format("%s/%s", run.dag_id, run.task_id)}
    EOT
    env = merge({ TABLE = params.table, TS = run.ts, START = run.data_interval_start,
      END = run.data_interval_end, RUN = run.id, FULL = params.opts.full },
      { for k in ["A", "B"] : k => lower(k) })
    working_dir = "/data/${var.region}/${run.logical_date}"
  }
}
`

func TestRender(t *testing.T) {
	d := mustParseOne(t, renderSrc)
	task := d.Task("t")
	// 2024-03-09T16:00Z is already the 10th in Seoul: ds must follow the
	// DAG timezone, not UTC.
	logical := time.Date(2024, 3, 9, 16, 0, 0, 0, time.UTC)
	params, err := d.MergeParams(map[string]any{"limit": 5})
	if err != nil {
		t.Fatal(err)
	}
	rc := RunContext{
		RunID:             "scheduled__2024-03-10T00:00:00+09:00",
		LogicalDate:       logical,
		DataIntervalStart: logical,
		DataIntervalEnd:   logical.Add(24 * time.Hour),
		Params:            params,
		Vars:              map[string]string{"region": "kr", "api-key": "s3cret", "unused": "x"},
	}
	got, diags := task.Render(rc)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	want := Rendered{
		Command: "load events 2024-03-10 20240310 limit=5\nKR s3cret ${HOME} r/t\n",
		Env: map[string]string{
			"TABLE": "events", "TS": "2024-03-10T01:00:00+09:00",
			"START": "2024-03-10T01:00:00+09:00", "END": "2024-03-11T01:00:00+09:00",
			"RUN": rc.RunID, "FULL": "true", "A": "a", "B": "b",
		},
		WorkingDir: "/data/kr/2024-03-10T01:00:00+09:00",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Render:\n got %#v\nwant %#v", got, want)
	}
}

func TestRenderDefaultParams(t *testing.T) {
	d := mustParseOne(t, renderSrc)
	got, diags := d.Task("t").Render(RunContext{Vars: map[string]string{"region": "kr", "api-key": "k"}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if !strings.Contains(got.Command, "limit=10") {
		t.Errorf("nil rc.Params should fall back to the DAG params: %q", got.Command)
	}
}

func TestVarRefs(t *testing.T) {
	d := mustParseOne(t, renderSrc)
	if got, want := d.Task("t").VarRefs(), []string{"api-key", "region"}; !reflect.DeepEqual(got, want) {
		t.Errorf("VarRefs = %q, want %q", got, want)
	}
	plain := mustParseOne(t, `dag "p" {
  task "t" { command = "echo ${run.ds}" }
}`)
	if got := plain.Task("t").VarRefs(); len(got) != 0 {
		t.Errorf("VarRefs = %q, want none", got)
	}
}

func TestRenderMissingVar(t *testing.T) {
	d := mustParseOne(t, renderSrc)
	_, diags := d.Task("t").Render(RunContext{Vars: map[string]string{"region": "kr"}})
	errs := errorsOf(diags)
	if len(errs) != 1 {
		t.Fatalf("got %d errors, want 1: %s", len(errs), diags.Error())
	}
	e := errs[0]
	if e.Summary != "Missing variable" || e.Detail != `Task "t" uses var.api-key, but no variable "api-key" is set.` {
		t.Errorf("got %q / %q", e.Summary, e.Detail)
	}
	if e.Subject == nil || e.Subject.Start.Line != 7 || e.Subject.Start.Column != 30 {
		t.Errorf("at %v, want test.hcl:7,30", e.Subject)
	}
	// var.region is used twice but reported once, at its first use.
	_, diags = d.Task("t").Render(RunContext{})
	var got []string
	for _, e := range errorsOf(diags) {
		got = append(got, fmt.Sprintf("%d:%s", e.Subject.Start.Line, e.Detail))
	}
	want := []string{
		`7:Task "t" uses var.region, but no variable "region" is set.`,
		`7:Task "t" uses var.api-key, but no variable "api-key" is set.`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestRenderRuntimeError(t *testing.T) {
	d := mustParseOne(t, `dag "e" {
  params = { n = "3" }
  task "t" { command = "echo ${jsondecode(params.n) + 1}" }
}`)
	// A run conf can make an expression fail only at run time; the error
	// must still point at the expression.
	params, err := d.MergeParams(map[string]any{"n": "not json"})
	if err != nil {
		t.Fatal(err)
	}
	_, diags := d.Task("t").Render(RunContext{Params: params})
	if !diags.HasErrors() || diags[0].Subject == nil || diags[0].Subject.Start.Line != 3 {
		t.Errorf("want an error on line 3, got %v", diags)
	}
}

func TestRenderHandBuiltTask(t *testing.T) {
	expr, diags := hclsyntax.ParseTemplate([]byte("run ${run.id} on ${run.ds}"), "x.hcl", hcl.Pos{Line: 1, Column: 1})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	task := &Task{ID: "t", Command: expr}
	got, diags := task.Render(RunContext{RunID: "manual__1", LogicalDate: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)})
	if diags.HasErrors() || got.Command != "run manual__1 on 2024-01-02" {
		t.Errorf("got %q, %v", got.Command, diags)
	}
}

func TestMergeParams(t *testing.T) {
	d := mustParseOne(t, `dag "m" {
  params = { table = "events", limit = 10, flag = false, list = ["a"] }
}`)
	tests := []struct {
		name    string
		conf    map[string]any
		want    map[string]cty.Value
		wantErr string
	}{
		{"no conf", nil, map[string]cty.Value{
			"table": cty.StringVal("events"), "limit": cty.NumberIntVal(10),
			"flag": cty.False, "list": cty.TupleVal([]cty.Value{cty.StringVal("a")}),
		}, ""},
		{"overlay and convert", map[string]any{"limit": "25", "flag": true, "extra": map[string]any{"k": 1.5}, "list": []any{"x", 2}},
			map[string]cty.Value{
				"table": cty.StringVal("events"), "limit": cty.NumberIntVal(25), "flag": cty.True,
				"extra": cty.ObjectVal(map[string]cty.Value{"k": cty.NumberFloatVal(1.5)}),
				"list":  cty.TupleVal([]cty.Value{cty.StringVal("x"), cty.NumberIntVal(2)}),
			}, ""},
		{"null overrides", map[string]any{"table": nil}, nil, ""},
		{"wrong type", map[string]any{"limit": "ten"}, nil, `param "limit": a number is required`},
		{"not JSON", map[string]any{"table": make(chan int)}, nil, `param "table": encode: json: unsupported type`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.MergeParams(tc.conf)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				if !got["table"].IsNull() {
					t.Errorf("table = %#v, want null", got["table"])
				}
				return
			}
			if !cty.ObjectVal(got).RawEquals(cty.ObjectVal(tc.want)) {
				t.Errorf("got %#v\nwant %#v", got, tc.want)
			}
		})
	}
	if !d.Params["limit"].RawEquals(cty.NumberIntVal(10)) {
		t.Error("MergeParams modified the DAG's params")
	}
}

func TestMergeParamsErrorWraps(t *testing.T) {
	d := mustParseOne(t, `dag "m" {
  params = { limit = 10 }
}`)
	_, err := d.MergeParams(map[string]any{"limit": []any{1}})
	if err == nil || errors.Unwrap(err) == nil {
		t.Errorf("want a wrapped error, got %v", err)
	}
}

// TestRenderConcurrent lets -race check that rendering shares no mutable
// state: the scheduler renders many task instances of a DAG at once.
func TestRenderConcurrent(t *testing.T) {
	d := mustParseOne(t, renderSrc)
	task := d.Task("t")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			rc := RunContext{
				RunID:       fmt.Sprintf("run-%d", i),
				LogicalDate: time.Date(2024, 1, 1+i, 0, 0, 0, 0, time.UTC),
				Vars:        map[string]string{"region": "kr", "api-key": "k"},
			}
			if r, diags := task.Render(rc); diags.HasErrors() || r.Env["RUN"] != rc.RunID {
				t.Errorf("render %d: %q %v", i, r.Env["RUN"], diags)
			}
		})
	}
	wg.Wait()
}

func TestStaticAttributesUseFunctions(t *testing.T) {
	d := mustParseOne(t, `dag "f" {
  description = upper(format("%s-%d", "etl", 2))
  tags        = split(",", "a,b")
  params      = merge({ a = 1 }, { b = jsondecode("[1,2]") })
  task "t" {
    command = "true"
    retries = max(1, 3)
  }
}`)
	if d.Description != "ETL-2" || !reflect.DeepEqual(d.Tags, []string{"a", "b"}) || len(d.Params) != 2 || d.Tasks[0].Retries != 3 {
		t.Errorf("got %q %q %v %d", d.Description, d.Tags, d.Params, d.Tasks[0].Retries)
	}
}
