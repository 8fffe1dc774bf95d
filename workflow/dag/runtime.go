package dag

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// runValues is the run object that run-time expressions see as run.*.
// It is also the single list of valid run attribute names. Dates are in
// the DAG's timezone, so ds and ts agree on the day.
func runValues(rc RunContext, loc *time.Location, dagID, taskID string) map[string]cty.Value {
	ld := rc.LogicalDate.In(loc)
	ts := cty.StringVal(ld.Format(time.RFC3339))
	return map[string]cty.Value{
		"id":                  cty.StringVal(rc.RunID),
		"dag_id":              cty.StringVal(dagID),
		"task_id":             cty.StringVal(taskID),
		"ds":                  cty.StringVal(ld.Format(time.DateOnly)),
		"ds_nodash":           cty.StringVal(ld.Format("20060102")),
		"ts":                  ts,
		"logical_date":        ts,
		"data_interval_start": cty.StringVal(rc.DataIntervalStart.In(loc).Format(time.RFC3339)),
		"data_interval_end":   cty.StringVal(rc.DataIntervalEnd.In(loc).Format(time.RFC3339)),
	}
}

// expressions returns the task's set run-time expressions in a fixed
// order, so diagnostics come out in a stable order.
func (t *Task) expressions() []hcl.Expression {
	var out []hcl.Expression
	for _, e := range []hcl.Expression{t.Command, t.Env, t.WorkingDir} {
		if e != nil {
			out = append(out, e)
		}
	}
	if t.Op != nil {
		for _, name := range slices.Sorted(maps.Keys(t.Op.fields)) {
			out = append(out, t.Op.fields[name].expr)
		}
	}
	return out
}

// OutputRead reports whether another task of the DAG reads this task's
// output, so the worker knows to store it even when it is implicit.
func (t *Task) OutputRead() bool { return t.outputRead }

// OutputRefs returns the sorted, distinct task IDs whose output the task's
// expressions read (task.<id>.output), so the caller fetches outputs only
// when some are used.
func (t *Task) OutputRefs() []string {
	var ids []string
	for _, e := range t.expressions() {
		for _, tr := range e.Variables() {
			if id, ok := traversalKey(tr); ok && tr.RootName() == "task" {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// varRef is one var.<key> reference and where it is written.
type varRef struct {
	key string
	rng hcl.Range
}

// varRefs lists the var.<key> references of the task's expressions.
func (t *Task) varRefs() []varRef {
	var refs []varRef
	for _, e := range t.expressions() {
		for _, tr := range e.Variables() {
			if key, ok := traversalKey(tr); ok && tr.RootName() == "var" {
				refs = append(refs, varRef{key, tr.SourceRange()})
			}
		}
	}
	slices.SortFunc(refs, func(a, b varRef) int { return a.rng.Start.Byte - b.rng.Start.Byte })
	return refs
}

// VarRefs returns the sorted, distinct variable keys the task's
// expressions reference, so the caller fetches only those from the store.
func (t *Task) VarRefs() []string {
	var keys []string
	for _, r := range t.varRefs() {
		keys = append(keys, r.key)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// traversalKey returns the attribute a traversal selects from its root
// object: x.key or x["key"].
func traversalKey(tr hcl.Traversal) (string, bool) {
	if len(tr) < 2 {
		return "", false
	}
	switch step := tr[1].(type) {
	case hcl.TraverseAttr:
		return step.Name, true
	case hcl.TraverseIndex:
		if step.Key.Type() == cty.String && step.Key.IsKnown() && !step.Key.IsNull() {
			return step.Key.AsString(), true
		}
	}
	return "", false
}

// loadCheck is what the load-time check of run-time expressions needs,
// built once per DAG: names and unknown stand-ins for run and params
// (params are unknown because a run conf may override them with any type).
type loadCheck struct {
	funcs      map[string]function.Function
	runNames   []string // sorted
	paramNames []string // sorted
	run        cty.Value
	params     cty.Value
}

func newLoadCheck(params map[string]cty.Value, funcs map[string]function.Function) *loadCheck {
	lc := &loadCheck{funcs: funcs}
	run := runValues(RunContext{}, time.UTC, "", "")
	for k := range run {
		run[k] = cty.UnknownVal(cty.String)
	}
	lc.runNames = slices.Sorted(maps.Keys(run))
	lc.run = cty.ObjectVal(run)
	ps := make(map[string]cty.Value, len(params))
	for k := range params {
		ps[k] = cty.DynamicVal
	}
	lc.paramNames = slices.Sorted(maps.Keys(ps))
	lc.params = cty.ObjectVal(ps)
	return lc
}

// check validates the task's run-time expressions at load: every reference
// must name run.<attr>, params.<name> or var.<key>, and evaluating with all
// run values unknown must give the right shape (this also catches unknown
// functions). Typos thus fail the load with file:line:col, not a run.
func (lc *loadCheck) check(t *Task) hcl.Diagnostics {
	if t.Command == nil && t.Op == nil {
		return nil // decodeTaskKind already reported the missing command
	}
	var diags hcl.Diagnostics
	vars := map[string]cty.Value{}
	outputs := map[string]cty.Value{}
	for _, e := range t.expressions() {
		for _, tr := range e.Variables() {
			if tr.RootName() == "task" {
				diags = append(diags, checkOutputRef(t, tr)...)
			} else {
				diags = append(diags, lc.checkTraversal(tr)...)
			}
			key, ok := traversalKey(tr)
			switch {
			case ok && tr.RootName() == "var":
				vars[key] = cty.UnknownVal(cty.String)
			case ok && tr.RootName() == "task":
				outputs[key] = cty.ObjectVal(map[string]cty.Value{"output": cty.UnknownVal(cty.String)})
			}
		}
	}
	if diags.HasErrors() {
		return diags
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"run": lc.run, "params": lc.params, "var": cty.ObjectVal(vars), "task": cty.ObjectVal(outputs)},
		Functions: lc.funcs,
	}
	_, diags = t.evaluate(ctx)
	return diags
}

// checkTraversal validates one variable reference of a run-time expression.
func (lc *loadCheck) checkTraversal(tr hcl.Traversal) hcl.Diagnostics {
	key, hasKey := traversalKey(tr)
	switch tr.RootName() {
	case "run":
		if len(tr) < 2 || !hasKey || slices.Contains(lc.runNames, key) {
			return nil
		}
		return errorDiag(tr.SourceRange(), "Unknown run attribute",
			fmt.Sprintf("There is no run.%s; run has %s.%s", key, strings.Join(lc.runNames, ", "), didYouMean(key, lc.runNames)))
	case "params":
		if len(tr) < 2 || !hasKey || slices.Contains(lc.paramNames, key) {
			return nil
		}
		known := "This DAG declares no params."
		if len(lc.paramNames) > 0 {
			known = "The DAG's params are " + strings.Join(lc.paramNames, ", ") + "."
		}
		return errorDiag(tr.SourceRange(), "Unknown param",
			fmt.Sprintf("There is no param %q. %s%s", key, known, didYouMean(key, lc.paramNames)))
	case "var":
		if hasKey {
			return nil
		}
		return errorDiag(tr.SourceRange(), "Invalid variable reference",
			"Use var with a literal key, such as var.api_token, so the scheduler knows which variables to fetch.")
	}
	return errorDiag(tr.SourceRange(), "Unknown variable",
		fmt.Sprintf("There is no variable named %q; run-time expressions can use run, params, var and task.%s",
			tr.RootName(), didYouMean(tr.RootName(), []string{"run", "params", "var", "task"})))
}

// checkOutputRef validates a task.<id>.output reference: the task must be
// a direct upstream, so its output is there when this task renders.
func checkOutputRef(t *Task, tr hcl.Traversal) hcl.Diagnostics {
	id, ok := traversalKey(tr)
	var attr string
	if len(tr) == 3 {
		if a, isAttr := tr[2].(hcl.TraverseAttr); isAttr {
			attr = a.Name
		}
	}
	switch {
	case !ok || attr != "output":
		return errorDiag(tr.SourceRange(), "Invalid task reference",
			"A run-time expression reads another task only as task.<id>.output, such as ${task.extract.output}.")
	case !slices.Contains(t.Upstream, id):
		return errorDiag(tr.SourceRange(), "Output of a task that is not upstream",
			fmt.Sprintf("Task %q reads task.%s.output but does not depend on it; add task.%s to its depends_on so the output exists when it runs.", t.ID, id, id))
	}
	return nil
}

func errorDiag(rng hcl.Range, summary, detail string) hcl.Diagnostics {
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: rng.Ptr()}}
}

// Render evaluates the task's command, env and working_dir for one run.
// rc.Params should already be merged (see DAG.MergeParams); when nil, the
// DAG's default params are used. Every var the task references must be in
// rc.Vars.
func (t *Task) Render(rc RunContext) (Rendered, hcl.Diagnostics) {
	ctx, diags := t.renderContext(rc)
	if diags.HasErrors() {
		return Rendered{}, diags
	}
	return t.evaluate(ctx)
}

// renderContext builds the evaluation context of one run.
func (t *Task) renderContext(rc RunContext) (*hcl.EvalContext, hcl.Diagnostics) {
	loc, dagID, params, funcs := time.UTC, "", map[string]cty.Value(nil), map[string]function.Function(nil)
	if t.dag != nil {
		loc, dagID, params, funcs = t.dag.location(), t.dag.ID, t.dag.Params, t.dag.funcs
	}
	if funcs == nil {
		funcs = functions() // hand-built task
	}
	if rc.Params != nil {
		params = rc.Params
	}
	vars, diags := t.varValues(rc.Vars)
	outputs := map[string]cty.Value{}
	for _, id := range t.OutputRefs() {
		outputs[id] = cty.ObjectVal(map[string]cty.Value{"output": cty.StringVal(rc.Outputs[id])})
	}
	return &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"run":    cty.ObjectVal(runValues(rc, loc, dagID, t.ID)),
			"params": cty.ObjectVal(params),
			"var":    cty.ObjectVal(vars),
			"task":   cty.ObjectVal(outputs),
		},
		Functions: funcs,
	}, diags
}

// varValues picks the referenced variables from the store's values,
// reporting each missing one once, at its first use.
func (t *Task) varValues(store map[string]string) (map[string]cty.Value, hcl.Diagnostics) {
	vars := map[string]cty.Value{}
	missing := map[string]bool{}
	var diags hcl.Diagnostics
	for _, r := range t.varRefs() {
		v, ok := store[r.key]
		switch {
		case ok:
			vars[r.key] = cty.StringVal(v)
		case !missing[r.key]:
			missing[r.key] = true
			diags = append(diags, errorDiag(r.rng, "Missing variable",
				fmt.Sprintf("Task %q uses var.%s, but no variable %q is set.", t.ID, r.key, r.key))...)
		}
	}
	return vars, diags
}

// evaluate evaluates the run-time expressions in ctx. With unknown inputs
// (the load check) the result holds zero values but the diagnostics still
// report wrong shapes.
func (t *Task) evaluate(ctx *hcl.EvalContext) (Rendered, hcl.Diagnostics) {
	var r Rendered
	var diags hcl.Diagnostics
	if t.Op != nil {
		return t.Op.evaluate(ctx)
	}
	if t.Command == nil {
		return r, errorDiag(t.Range, "Missing command", fmt.Sprintf("Task %q has no command.", t.ID))
	}
	r.Command, diags = evalString(ctx, t.Command, "command")
	if t.Env != nil {
		env, d := evalStringMap(ctx, t.Env, "env")
		r.Env, diags = env, append(diags, d...)
	}
	if t.WorkingDir != nil {
		wd, d := evalString(ctx, t.WorkingDir, "working_dir")
		r.WorkingDir, diags = wd, append(diags, d...)
	}
	return r, diags
}

// evalString evaluates e as a non-null string.
func evalString(ctx *hcl.EvalContext, e hcl.Expression, name string) (string, hcl.Diagnostics) {
	v, diags := e.Value(ctx)
	if diags.HasErrors() {
		return "", diags
	}
	if v.IsNull() {
		return "", append(diags, errorDiag(e.Range(), "Invalid "+name, name+" must not be null.")...)
	}
	v, err := convert.Convert(v, cty.String)
	if err != nil {
		return "", append(diags, errorDiag(e.Range(), "Invalid "+name, fmt.Sprintf("%s must be a string: %s.", name, err))...)
	}
	if !v.IsKnown() {
		return "", diags
	}
	return v.AsString(), diags
}

// evalStringMap evaluates e as an object or map whose values convert to
// strings; null means empty.
func evalStringMap(ctx *hcl.EvalContext, e hcl.Expression, name string) (map[string]string, hcl.Diagnostics) {
	v, diags := e.Value(ctx)
	if diags.HasErrors() || v.IsNull() || !v.IsKnown() {
		return nil, diags
	}
	if ty := v.Type(); !ty.IsObjectType() && !ty.IsMapType() {
		return nil, append(diags, errorDiag(e.Range(), "Invalid "+name,
			fmt.Sprintf("%s must be an object of strings, such as { TABLE = params.table }.", name))...)
	}
	out := make(map[string]string, v.LengthInt())
	for k, ev := range v.AsValueMap() {
		sv, err := convert.Convert(ev, cty.String)
		if err == nil && sv.IsNull() {
			err = fmt.Errorf("must not be null")
		}
		if err != nil {
			return nil, append(diags, errorDiag(e.Range(), "Invalid "+name, fmt.Sprintf("%s.%s: %s.", name, k, err))...)
		}
		if sv.IsKnown() {
			out[k] = sv.AsString()
		}
	}
	return out, diags
}

// MergeParams overlays a run's conf (JSON-like Go values, e.g. from
// json.Unmarshal) onto the DAG's params. A conf value for a param whose
// default is a string, number or bool is converted to that type ("10" for
// a number param is fine, "ten" is an error); other values are kept as
// given. Conf keys the DAG does not declare are kept too.
func (d *DAG) MergeParams(conf map[string]any) (map[string]cty.Value, error) {
	out := make(map[string]cty.Value, len(d.Params)+len(conf))
	maps.Copy(out, d.Params)
	for _, k := range slices.Sorted(maps.Keys(conf)) {
		v, err := goToCty(conf[k])
		if err != nil {
			return nil, fmt.Errorf("param %q: %w", k, err)
		}
		if def, ok := d.Params[k]; ok && def.Type().IsPrimitiveType() && !v.IsNull() {
			if v, err = convert.Convert(v, def.Type()); err != nil {
				return nil, fmt.Errorf("param %q: %w", k, err)
			}
		}
		out[k] = v
	}
	return out, nil
}

// goToCty converts a JSON-like Go value through JSON, which is exactly the
// shape run confs arrive in.
func goToCty(v any) (cty.Value, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return cty.NilVal, fmt.Errorf("encode: %w", err)
	}
	ty, err := ctyjson.ImpliedType(b)
	if err != nil {
		return cty.NilVal, fmt.Errorf("infer type: %w", err)
	}
	val, err := ctyjson.Unmarshal(b, ty)
	if err != nil {
		return cty.NilVal, fmt.Errorf("decode: %w", err)
	}
	return val, nil
}

// didYouMean suggests the closest name, if any is close enough.
func didYouMean(given string, names []string) string {
	best, bestDist := "", 3
	for _, n := range names {
		if d := levenshtein(given, n); d < bestDist {
			best, bestDist = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

// levenshtein is the edit distance between a and b.
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
