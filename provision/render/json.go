package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/airctl/airctl/provision"
	"github.com/airctl/airctl/provision/config"
	"github.com/airctl/airctl/provision/state"
)

// JSON writes the machine-readable UI: one JSON object per line with
// "@level", "@message", "@module", "@timestamp" and "type", modelled on
// Terraform's (version, planned_change, resource_drift, change_summary,
// apply_start, apply_progress, apply_complete, apply_errored,
// refresh_start, refresh_complete, outputs, diagnostic). Methods may be
// called from several goroutines.
type JSON struct {
	mu sync.Mutex
	w  io.Writer
	// Now stamps messages; tests fix it.
	Now func() time.Time
}

// NewJSON returns a JSON writer to w.
func NewJSON(w io.Writer) *JSON {
	return &JSON{w: w, Now: time.Now}
}

// UIVersion is the version of the JSON message format.
const UIVersion = "1.0"

func (j *JSON) write(level, msg, typ string, fields map[string]any) {
	m := map[string]any{"@level": level, "@message": msg, "@module": "airctl.ui", "@timestamp": j.Now().Format(time.RFC3339Nano), "type": typ}
	for k, v := range fields {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		// Only unencodable values fail, which the fields never hold; say
		// so in the stream rather than lose the message silently.
		b, _ = json.Marshal(map[string]any{"@level": "error", "@message": "encoding UI message: " + err.Error(), "type": "diagnostic"})
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.w.Write(append(b, '\n'))
}

// Version announces the airctl version; it is the first message.
func (j *JSON) Version(v string) {
	j.write("info", "airctl "+v, "version", map[string]any{"airctl": v, "ui": UIVersion})
}

// PlannedChanges writes a resource_drift message per drifted object, a
// resource_adopted (airctl's own type) per adopted object, a
// planned_change per change (no-ops left out), and the planned outputs.
func (j *JSON) PlannedChanges(p *provision.Plan) {
	for _, c := range p.Drift {
		action := "update"
		if c.Action == provision.Delete {
			action = "delete"
		}
		j.write("info", c.Addr.String()+": Drift detected ("+action+")", "resource_drift",
			map[string]any{"change": map[string]any{"resource": resourceJSON(c.Addr), "action": action}})
	}
	for _, a := range p.Adopted {
		j.write("info", a.Addr.String()+": Adopting "+a.ImportID+" from an interrupted apply", "resource_adopted",
			map[string]any{"resource": resourceJSON(a.Addr), "id": a.ImportID})
	}
	for _, c := range resourceChanges(p) {
		change := map[string]any{"resource": resourceJSON(c.Addr), "action": jsonAction(c.Action)}
		if r := jsonReason(c); r != "" {
			change["reason"] = r
		}
		j.write("info", c.Addr.String()+": Plan to "+jsonAction(c.Action), "planned_change", map[string]any{"change": change})
	}
	outs := map[string]any{}
	for _, oc := range p.Outputs {
		if a := outputAction(oc); a != "" {
			outs[oc.Name] = map[string]any{"sensitive": oc.Sensitive, "action": a}
		}
	}
	if len(outs) > 0 {
		j.write("info", fmt.Sprintf("Outputs: %d", len(outs)), "outputs", map[string]any{"outputs": outs})
	}
}

// ChangeSummary writes "Plan: X to add, ..." (operation "plan") or "Apply
// complete! Resources: ..." (operation "apply" or "destroy").
func (j *JSON) ChangeSummary(operation string, add, change, remove int) {
	msg := fmt.Sprintf("Plan: %d to add, %d to change, %d to destroy.", add, change, remove)
	switch operation {
	case "apply":
		msg = fmt.Sprintf("Apply complete! Resources: %d added, %d changed, %d destroyed.", add, change, remove)
	case "destroy":
		msg = fmt.Sprintf("Destroy complete! Resources: %d destroyed.", remove)
	}
	j.write("info", msg, "change_summary", map[string]any{"changes": map[string]any{"add": add, "change": change, "remove": remove, "operation": operation}})
}

// Event writes one progress event.
func (j *JSON) Event(ev provision.Event) {
	hook := map[string]any{"resource": resourceJSON(ev.Addr)}
	if ev.Type != provision.RefreshStart && ev.Type != provision.RefreshDone {
		hook["action"] = jsonAction(ev.Action)
	}
	if ev.ID != "" {
		hook["id_key"], hook["id_value"] = "id", ev.ID
	}
	level, msg := "info", EventLine(ev)
	switch ev.Type {
	case provision.ApplyProgress, provision.ApplyDone, provision.ApplyErrored:
		hook["elapsed_seconds"] = int(ev.Elapsed / time.Second)
	case provision.RefreshDone:
		msg = ev.Addr.String() + ": Refresh complete" + bracket(idPart(ev.ID))
	}
	if ev.Err != nil {
		level = "error"
		hook["error"] = ev.Err.Error()
	}
	j.write(level, msg, string(ev.Type), map[string]any{"hook": hook})
}

// Outputs writes the outputs after an apply, sensitive values left out.
func (j *JSON) Outputs(outs map[string]state.Output) {
	m := map[string]any{}
	for name, o := range outs {
		entry := map[string]any{"sensitive": o.Sensitive, "type": json.RawMessage(o.Type)}
		if !o.Sensitive {
			entry["value"] = json.RawMessage(o.Value)
		}
		m[name] = entry
	}
	j.write("info", fmt.Sprintf("Outputs: %d", len(outs)), "outputs", map[string]any{"outputs": m})
}

// Diagnostics writes one diagnostic message per diagnostic, with its range
// and the source line when files has it.
func (j *JSON) Diagnostics(diags []*Diagnostic) {
	for _, d := range diags {
		level := "error"
		if d.Severity == "warning" {
			level = "warn"
		}
		j.write(level, d.Summary, "diagnostic", map[string]any{"diagnostic": d})
	}
}

// Diagnostic is the JSON form of an hcl diagnostic, as in Terraform's
// machine-readable UI and `validate -json`.
type Diagnostic struct {
	Severity string       `json:"severity"`
	Summary  string       `json:"summary"`
	Detail   string       `json:"detail"`
	Range    *DiagRange   `json:"range,omitempty"`
	Snippet  *DiagSnippet `json:"snippet,omitempty"`
}

// DiagRange is a source range; line and column count from 1.
type DiagRange struct {
	Filename string  `json:"filename"`
	Start    DiagPos `json:"start"`
	End      DiagPos `json:"end"`
}

// DiagPos is a position in a source file.
type DiagPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// DiagSnippet is the source line of a diagnostic.
type DiagSnippet struct {
	Code                 string `json:"code"`
	StartLine            int    `json:"start_line"`
	HighlightStartOffset int    `json:"highlight_start_offset"`
	HighlightEndOffset   int    `json:"highlight_end_offset"`
}

// Diagnostics converts hcl diagnostics for JSON output; files (keyed as
// the diagnostics name them, may be nil) supply the source snippets.
func Diagnostics(diags hcl.Diagnostics, files map[string]*hcl.File) []*Diagnostic {
	out := make([]*Diagnostic, 0, len(diags))
	for _, d := range diags {
		jd := &Diagnostic{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			jd.Severity = "warning"
		}
		if d.Subject != nil {
			r := d.Subject
			jd.Range = &DiagRange{Filename: r.Filename,
				Start: DiagPos{r.Start.Line, r.Start.Column, r.Start.Byte},
				End:   DiagPos{r.End.Line, r.End.Column, r.End.Byte}}
			if f := files[r.Filename]; f != nil {
				jd.Snippet = snippet(f.Bytes, jd.Range)
			}
		}
		out = append(out, jd)
	}
	return out
}

// ErrorDiagnostic wraps a plain error as a diagnostic.
func ErrorDiagnostic(err error) *Diagnostic {
	summary, detail, _ := strings.Cut(err.Error(), "\n")
	return &Diagnostic{Severity: "error", Summary: summary, Detail: detail}
}

func snippet(src []byte, r *DiagRange) *DiagSnippet {
	if src == nil || r.Start.Byte > len(src) {
		return nil
	}
	lineStart := strings.LastIndexByte(string(src[:r.Start.Byte]), '\n') + 1
	lineEnd := strings.IndexByte(string(src[lineStart:]), '\n')
	if lineEnd < 0 {
		lineEnd = len(src) - lineStart
	}
	code := string(src[lineStart : lineStart+lineEnd])
	end := min(r.End.Byte-lineStart, len(code))
	return &DiagSnippet{Code: code, StartLine: r.Start.Line, HighlightStartOffset: r.Start.Byte - lineStart, HighlightEndOffset: max(end, r.Start.Byte-lineStart)}
}

// resourceJSON describes an address as Terraform's UI does.
func resourceJSON(a state.Address) map[string]any {
	var key any
	if i, ok := a.Key.Int(); ok {
		key = i
	} else if s, ok := a.Key.Str(); ok {
		key = s
	}
	return map[string]any{
		"addr": a.String(), "module": "", "resource": a.String(),
		"implied_provider": config.ImpliedProvider(a.Type),
		"resource_type":    a.Type, "resource_name": a.Name, "resource_key": key,
	}
}

func jsonAction(a provision.Action) string {
	switch a {
	case provision.NoOp:
		return "noop"
	case provision.DeleteThenCreate, provision.CreateThenDelete:
		return "replace"
	}
	return string(a)
}

// jsonReason gives Terraform's reason codes for replace and delete.
func jsonReason(c *provision.Change) string {
	switch {
	case strings.HasPrefix(c.Reason, "tainted"):
		return "replace_because_tainted"
	case strings.HasPrefix(c.Reason, "requested"):
		return "replace_by_request"
	case strings.HasPrefix(c.Reason, "no longer"):
		return "delete_because_no_resource_config"
	case len(c.ReplacePaths) > 0:
		return "replace_because_cannot_update"
	}
	return ""
}

func outputAction(oc *provision.OutputChange) string {
	switch {
	case isNull(oc.Before) && isNull(oc.After):
		return ""
	case oc.Before == cty.NilVal:
		return "create"
	case oc.After == cty.NilVal:
		return "delete"
	case plainEqual(oc.Before, oc.After):
		return ""
	}
	return "update"
}

// ValueJSON encodes v (marks removed) as plain JSON, for output -json.
func ValueJSON(v cty.Value) (json.RawMessage, error) {
	v, _ = v.UnmarkDeep()
	return ctyjson.Marshal(v, v.Type())
}
