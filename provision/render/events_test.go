package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision"
	"github.com/airctl/airctl/provision/config"
	"github.com/airctl/airctl/provision/state"
)

// events covers every event type and action the engine emits.
func events() []provision.Event {
	vm, bucket, img := addr("test_vm.web"), addr(`test_bucket.logs["eu"]`), addr("data.test_image.debian")
	return []provision.Event{
		{Type: provision.RefreshStart, Addr: vm, ID: "vm-1"},
		{Type: provision.RefreshDone, Addr: vm, ID: "vm-1"},
		{Type: provision.ApplyStart, Addr: vm, Action: provision.Create},
		{Type: provision.ApplyProgress, Addr: vm, Action: provision.Create, Elapsed: 10*time.Second + 300*time.Millisecond},
		{Type: provision.ApplyDone, Addr: vm, Action: provision.Create, Elapsed: 62 * time.Second, ID: "vm-2"},
		{Type: provision.ApplyStart, Addr: bucket, Action: provision.Update, ID: "b-1"},
		{Type: provision.ApplyProgress, Addr: bucket, Action: provision.Update, ID: "b-1", Elapsed: 20 * time.Second},
		{Type: provision.ApplyDone, Addr: bucket, Action: provision.Update, Elapsed: time.Second, ID: "b-1"},
		{Type: provision.ApplyStart, Addr: vm, Action: provision.Delete},
		{Type: provision.ApplyProgress, Addr: vm, Action: provision.Delete, Elapsed: 10 * time.Second},
		{Type: provision.ApplyDone, Addr: vm, Action: provision.Delete, Elapsed: 12 * time.Second},
		{Type: provision.ApplyStart, Addr: img, Action: provision.Read},
		{Type: provision.ApplyDone, Addr: img, Action: provision.Read, ID: "debian-12"},
		{Type: provision.ApplyStart, Addr: bucket, Action: provision.Create},
		{Type: provision.ApplyErrored, Addr: bucket, Action: provision.Create, Elapsed: 3 * time.Second, Err: errors.New("quota exceeded")},
	}
}

func TestProgressLines(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, Options{})
	for _, ev := range events() {
		p.Event(ev)
	}
	golden(t, "progress", b.String())
}

// TestProgressConcurrent checks that lines from parallel operations never
// interleave (run with -race).
func TestProgressConcurrent(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, Options{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for _, ev := range events() {
				p.Event(ev)
			}
		})
	}
	wg.Wait()
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if !strings.Contains(line, ": ") {
			t.Fatalf("interleaved line %q", line)
		}
	}
}

func fixedJSON(b *bytes.Buffer) *JSON {
	j := NewJSON(b)
	j.Now = func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) }
	return j
}

func TestJSONLines(t *testing.T) {
	var b bytes.Buffer
	j := fixedJSON(&b)
	j.Version("1.2.3")
	p := &provision.Plan{
		Drift: []*provision.Change{{Addr: addr("test_vm.db"), Action: provision.Delete, Before: vm(nil), After: vmNull(), Schema: vmSchema}},
		Changes: []*provision.Change{
			{Addr: addr("test_vm.a"), Action: provision.DeleteThenCreate, Before: vm(nil), After: vm(nil), Schema: vmSchema, ReplacePaths: []cty.Path{cty.GetAttrPath("zone")}},
			{Addr: addr("test_vm.b[1]"), Action: provision.Create, Before: vmNull(), After: vm(nil), Schema: vmSchema},
			{Addr: addr("test_vm.c"), Action: provision.DeleteThenCreate, Before: vm(nil), After: vm(nil), Schema: vmSchema, Reason: "tainted: its creation did not finish"},
			{Addr: addr("test_vm.d"), Action: provision.Delete, Before: vm(nil), After: vmNull(), Schema: vmSchema, Reason: "no longer in the configuration"},
			{Addr: addr("test_vm.e"), Action: provision.NoOp, Before: vm(nil), After: vm(nil), Schema: vmSchema},
		},
		Outputs: []*provision.OutputChange{
			{Name: "ip", Before: cty.NilVal, After: cty.UnknownVal(cty.String)},
			{Name: "pw", Before: cty.StringVal("a"), After: cty.StringVal("b"), Sensitive: true},
		},
	}
	j.PlannedChanges(p)
	add, change, destroy := p.Summary()
	j.ChangeSummary("plan", add, change, destroy)
	for _, ev := range events() {
		j.Event(ev)
	}
	j.ChangeSummary("apply", 2, 0, 1)
	ip, _ := state.NewOutput(cty.StringVal("203.0.113.7"), false)
	pw, _ := state.NewOutput(cty.StringVal("hunter2"), true)
	j.Outputs(map[string]state.Output{"ip": ip, "pw": pw})

	cfg, diags := config.Load(".", map[string][]byte{"main.tf": []byte("resource \"test_vm\" \"x\" {\n  name = var.nope\n}\n")})
	if !diags.HasErrors() {
		t.Fatal("expected a diagnostic from the broken config")
	}
	j.Diagnostics(Diagnostics(diags, cfg.Files()))
	j.Diagnostics([]*Diagnostic{ErrorDiagnostic(errors.New("state is locked\nby someone"))})

	for i, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", i+1, err, line)
		}
		for _, k := range []string{"@level", "@message", "@timestamp", "type"} {
			if _, ok := m[k]; !ok {
				t.Errorf("line %d has no %s: %s", i+1, k, line)
			}
		}
	}
	if strings.Contains(b.String(), "hunter2") {
		t.Error("a sensitive output value is in the JSON stream")
	}
	golden(t, "json", b.String())
}

func TestDiagnosticSnippet(t *testing.T) {
	src := "a = 1\nb = nope\n"
	cfg, _ := config.Load(".", map[string][]byte{"x.tf": []byte(src)})
	d := Diagnostics(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "s", Subject: &hcl.Range{
		Filename: "x.tf", Start: hcl.Pos{Line: 2, Column: 5, Byte: 10}, End: hcl.Pos{Line: 2, Column: 9, Byte: 14},
	}}}, cfg.Files())
	if d[0].Snippet == nil || d[0].Snippet.Code != "b = nope" || d[0].Snippet.HighlightStartOffset != 4 || d[0].Snippet.HighlightEndOffset != 8 {
		t.Fatalf("snippet = %+v", d[0].Snippet)
	}
}

func TestOutputsAndValue(t *testing.T) {
	s, _ := state.NewOutput(cty.StringVal("x"), false)
	secret, _ := state.NewOutput(cty.StringVal("hunter2"), true)
	nested, _ := state.NewOutput(cty.ObjectVal(map[string]cty.Value{
		"names": cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}),
		"by-id": cty.MapVal(map[string]cty.Value{"x": cty.NumberIntVal(1)}),
		"empty": cty.ListValEmpty(cty.String),
	}), false)
	var b bytes.Buffer
	if err := Outputs(&b, map[string]state.Output{"s": s, "secret": secret, "nested": nested}); err != nil {
		t.Fatal(err)
	}
	golden(t, "outputs_state", b.String())
}

func TestInstance(t *testing.T) {
	var b bytes.Buffer
	if err := Instance(&b, addr(`test_vm.web["a"]`), vmSchema, vm(nil)); err != nil {
		t.Fatal(err)
	}
	if err := Instance(&b, addr("data.x.y"), nil, cty.ObjectVal(map[string]cty.Value{"id": cty.StringVal("i"), "n": cty.NumberIntVal(3)})); err != nil {
		t.Fatal(err)
	}
	golden(t, "instance", b.String())
}
