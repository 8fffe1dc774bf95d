package dag

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// NotifyKind is the event a notifier block reacts to.
type NotifyKind string

// Notifier events, named as the blocks that declare them.
const (
	OnFailure NotifyKind = "on_failure"
	OnRetry   NotifyKind = "on_retry"
	OnSuccess NotifyKind = "on_success"
	SLAMiss   NotifyKind = "sla_miss"
)

// NotifyKinds lists every notifier event.
func NotifyKinds() []NotifyKind { return []NotifyKind{OnFailure, OnRetry, OnSuccess, SLAMiss} }

// Notifier types: the blocks allowed inside an on_* or sla_miss block.
const (
	NotifyEmail   = "email"
	NotifySlack   = "slack"
	NotifyWebhook = "webhook"
)

// Notifier is one email, slack or webhook block. Its fields stay
// expressions until an event renders them (see DAG.RenderNotifier).
type Notifier struct {
	Type  string
	Attrs map[string]hcl.Expression // only the attributes written
	Range hcl.Range
}

// Notifiers are the notifier blocks of a DAG or task by event; nil when
// none is declared.
type Notifiers map[NotifyKind][]Notifier

// notifierAttrs are each type's attributes; the first one is required.
func notifierAttrs() map[string][]string {
	return map[string][]string{
		NotifyEmail:   {"to", "subject", "body"},
		NotifySlack:   {"webhook_url", "text"},
		NotifyWebhook: {"url", "headers"},
	}
}

// notifyBlockSchemas are the event blocks allowed in a dag and a task block.
func notifyBlockSchemas() []hcl.BlockHeaderSchema {
	var out []hcl.BlockHeaderSchema
	for _, k := range NotifyKinds() {
		out = append(out, hcl.BlockHeaderSchema{Type: string(k)})
	}
	return out
}

func notifierTypeSchema() *hcl.BodySchema {
	s := &hcl.BodySchema{}
	for _, typ := range []string{NotifyEmail, NotifySlack, NotifyWebhook} {
		s.Blocks = append(s.Blocks, hcl.BlockHeaderSchema{Type: typ})
	}
	return s
}

func notifierSchema(typ string) *hcl.BodySchema {
	s := &hcl.BodySchema{}
	for i, name := range notifierAttrs()[typ] {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: name, Required: i == 0})
	}
	return s
}

// TaskNotifiers returns the notifiers of a task-level event, by this rule:
//
//   - on_retry and sla_miss: the task's own block of that kind, else the
//     DAG's (a DAG-level block is the default of every task; a task block
//     replaces it rather than adding to it, so a task can silence it with
//     an empty block).
//   - on_failure and on_success: only the task's own blocks. The DAG's
//     on_failure and on_success describe the whole run and fire once when
//     it ends (see RunNotifiers), as Airflow's DAG-level callbacks do.
func (d *DAG) TaskNotifiers(t *Task, kind NotifyKind) []Notifier {
	if ns, ok := t.Notify[kind]; ok {
		return ns
	}
	if kind == OnRetry || kind == SLAMiss {
		return d.Notify[kind]
	}
	return nil
}

// RunNotifiers returns the DAG's notifiers for a finished run: on_success
// or on_failure.
func (d *DAG) RunNotifiers(kind NotifyKind) []Notifier {
	if kind != OnSuccess && kind != OnFailure {
		return nil
	}
	return d.Notify[kind]
}

// decodeNotifiers decodes the event blocks among blocks (of a dag or task
// block). An empty event block is kept (as an empty list) so that it
// overrides the DAG default.
func (p *parser) decodeNotifiers(blocks hcl.Blocks, params map[string]cty.Value) (Notifiers, hcl.Diagnostics) {
	var out Notifiers
	var diags hcl.Diagnostics
	first := map[NotifyKind]hcl.Range{}
	for _, kind := range NotifyKinds() {
		for _, blk := range blocks.OfType(string(kind)) {
			if prev, dup := first[kind]; dup {
				diags = append(diags, errorDiag(blk.DefRange, "Duplicate "+string(kind)+" block",
					fmt.Sprintf("Write every notifier of %s in one block; the first is at %s.", kind, prev))...)
				continue
			}
			first[kind] = blk.DefRange
			ns, d := decodeEventBlock(blk, params)
			diags = append(diags, d...)
			if out == nil {
				out = Notifiers{}
			}
			out[kind] = ns
		}
	}
	return out, diags
}

func decodeEventBlock(blk *hcl.Block, params map[string]cty.Value) ([]Notifier, hcl.Diagnostics) {
	content, diags := blk.Body.Content(notifierTypeSchema())
	ns := []Notifier{}
	for _, nb := range content.Blocks {
		c, d := nb.Body.Content(notifierSchema(nb.Type))
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		n := Notifier{Type: nb.Type, Attrs: map[string]hcl.Expression{}, Range: nb.DefRange}
		for name, attr := range c.Attributes {
			n.Attrs[name] = attr.Expr
		}
		diags = append(diags, checkNotifier(n, params)...)
		ns = append(ns, n)
	}
	return ns, diags
}

// decodeSLA reads a task's sla: the longest a task may take, counted from
// its run's logical date, before it is recorded and notified as a miss.
func decodeSLA(a *staticAttrs, t *Task) {
	before := len(a.diags)
	a.duration("sla", &t.SLA)
	if attr, ok := a.attrs["sla"]; ok && t.SLA == 0 && len(a.diags) == before {
		a.errorf(attr.Expr.Range(), "Invalid duration", "\"sla\" must be longer than zero, such as \"1h\"; leave it out for no SLA.")
	}
}

// NotifyContext is what a notifier's expressions see: run.*, params.*,
// var.*, event, and ti.* (the task instance; empty task fields for a run
// event).
type NotifyContext struct {
	Run    RunContext
	Event  NotifyKind
	TaskID string
	Try    int
	State  string
	LogURL string
}

// Notification is a notifier rendered for one event. Empty fields take the
// sender's defaults.
type Notification struct {
	Type    string
	To      []string // email
	Subject string   // email
	Body    string   // email
	URL     string   // slack webhook_url or webhook url
	Text    string   // slack
	Headers map[string]string
}

// tiNames are the attributes of ti.* in notifier expressions.
func tiNames() []string {
	return []string{"dag_id", "log_url", "run_id", "state", "task_id", "try_number"}
}

func tiValue(nc NotifyContext, dagID string) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{
		"dag_id":     cty.StringVal(dagID),
		"task_id":    cty.StringVal(nc.TaskID),
		"run_id":     cty.StringVal(nc.Run.RunID),
		"try_number": cty.NumberIntVal(int64(nc.Try)),
		"state":      cty.StringVal(nc.State),
		"log_url":    cty.StringVal(nc.LogURL),
	})
}

// NotifierVarRefs returns the sorted, distinct var.<key> references of
// the notifiers' expressions.
func NotifierVarRefs(ns []Notifier) []string {
	var keys []string
	for _, n := range ns {
		for _, e := range n.Attrs {
			for _, tr := range e.Variables() {
				if key, ok := traversalKey(tr); ok && tr.RootName() == "var" {
					keys = append(keys, key)
				}
			}
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// RenderNotifier evaluates n for one event. Every var it references must
// be in nc.Run.Vars; nc.Run.Params should already be merged.
func (d *DAG) RenderNotifier(n Notifier, nc NotifyContext) (Notification, hcl.Diagnostics) {
	params := d.Params
	if nc.Run.Params != nil {
		params = nc.Run.Params
	}
	vars := map[string]cty.Value{}
	var diags hcl.Diagnostics
	for _, key := range NotifierVarRefs([]Notifier{n}) {
		v, ok := nc.Run.Vars[key]
		if !ok {
			diags = append(diags, errorDiag(n.Range, "Missing variable",
				fmt.Sprintf("A %s notifier uses var.%s, but no variable %q is set.", n.Type, key, key))...)
			continue
		}
		vars[key] = cty.StringVal(v)
	}
	if diags.HasErrors() {
		return Notification{}, diags
	}
	funcs := d.funcs
	if funcs == nil {
		funcs = functions() // hand-built DAG
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"run":    cty.ObjectVal(runValues(nc.Run, d.location(), d.ID, nc.TaskID)),
			"params": cty.ObjectVal(params),
			"var":    cty.ObjectVal(vars),
			"ti":     tiValue(nc, d.ID),
			"event":  cty.StringVal(string(nc.Event)),
		},
		Functions: funcs,
	}
	return evalNotifier(ctx, n)
}

// evalNotifier evaluates every attribute of n; with unknown inputs (the
// load check) only the diagnostics matter.
func evalNotifier(ctx *hcl.EvalContext, n Notifier) (Notification, hcl.Diagnostics) {
	out := Notification{Type: n.Type}
	var diags hcl.Diagnostics
	for _, name := range slices.Sorted(maps.Keys(n.Attrs)) {
		e := n.Attrs[name]
		var d hcl.Diagnostics
		switch name {
		case "to":
			out.To, d = evalStringList(ctx, e, name)
		case "headers":
			out.Headers, d = evalStringMap(ctx, e, name)
		default:
			var s string
			s, d = evalString(ctx, e, name)
			setNotificationField(&out, name, s)
		}
		diags = append(diags, d...)
	}
	return out, diags
}

func setNotificationField(n *Notification, name, v string) {
	switch name {
	case "subject":
		n.Subject = v
	case "body":
		n.Body = v
	case "webhook_url", "url":
		n.URL = v
	case "text":
		n.Text = v
	}
}

// evalStringList evaluates e as a list of non-null strings.
func evalStringList(ctx *hcl.EvalContext, e hcl.Expression, name string) ([]string, hcl.Diagnostics) {
	v, diags := e.Value(ctx)
	if diags.HasErrors() || !v.IsWhollyKnown() {
		return nil, diags
	}
	v, err := convert.Convert(v, cty.List(cty.String))
	if err != nil || v.IsNull() {
		return nil, append(diags, errorDiag(e.Range(), "Invalid "+name,
			fmt.Sprintf("%s must be a list of strings, such as [\"ops@example.com\"].", name))...)
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		if ev.IsNull() {
			return nil, append(diags, errorDiag(e.Range(), "Invalid "+name, name+" must not contain null.")...)
		}
		out = append(out, ev.AsString())
	}
	return out, diags
}

// checkNotifier validates n's expressions at load, as loadCheck does for a
// task: references must name run, params, var, ti or event attributes that
// exist, and evaluation with unknown values must give the right shapes.
func checkNotifier(n Notifier, params map[string]cty.Value) hcl.Diagnostics {
	lc := newLoadCheck(params, functions())
	vars := map[string]cty.Value{}
	var diags hcl.Diagnostics
	for _, name := range slices.Sorted(maps.Keys(n.Attrs)) {
		for _, tr := range n.Attrs[name].Variables() {
			diags = append(diags, checkNotifyTraversal(lc, tr)...)
			if key, ok := traversalKey(tr); ok && tr.RootName() == "var" {
				vars[key] = cty.UnknownVal(cty.String)
			}
		}
	}
	if diags.HasErrors() {
		return diags
	}
	ti := map[string]cty.Value{}
	for _, k := range tiNames() {
		ti[k] = cty.UnknownVal(cty.String)
	}
	ti["try_number"] = cty.UnknownVal(cty.Number)
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"run": lc.run, "params": lc.params, "var": cty.ObjectVal(vars),
			"ti": cty.ObjectVal(ti), "event": cty.UnknownVal(cty.String),
		},
		Functions: lc.funcs,
	}
	_, diags = evalNotifier(ctx, n)
	return diags
}

func checkNotifyTraversal(lc *loadCheck, tr hcl.Traversal) hcl.Diagnostics {
	switch tr.RootName() {
	case "event":
		if len(tr) == 1 {
			return nil
		}
		return errorDiag(tr.SourceRange(), "Invalid event reference", "event is a string such as \"on_failure\"; use it as event.")
	case "ti":
		key, ok := traversalKey(tr)
		if len(tr) < 2 || (ok && slices.Contains(tiNames(), key)) {
			return nil
		}
		return errorDiag(tr.SourceRange(), "Unknown ti attribute",
			fmt.Sprintf("There is no ti.%s; ti has %s.%s", key, strings.Join(tiNames(), ", "), didYouMean(key, tiNames())))
	case "run", "params", "var":
		return lc.checkTraversal(tr)
	}
	return errorDiag(tr.SourceRange(), "Unknown variable",
		fmt.Sprintf("There is no variable named %q; notifier expressions can use run, params, var, ti and event.%s",
			tr.RootName(), didYouMean(tr.RootName(), []string{"run", "params", "var", "ti", "event"})))
}

// MaxSLA is the longest task SLA of the DAG (zero: none); it bounds how
// far back an SLA checker must look.
func (d *DAG) MaxSLA() time.Duration {
	var longest time.Duration
	for _, t := range d.Tasks {
		longest = max(longest, t.SLA)
	}
	return longest
}
