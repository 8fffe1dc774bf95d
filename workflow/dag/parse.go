package dag

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// idPattern is what DAG and task IDs may contain (Airflow's KEY_REGEX).
var idPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// maxIDLen matches Airflow's ID column width.
const maxIDLen = 250

// ParseFile parses and validates the DAGs of one file.
//
// The file format is HCL with one or more `dag "id" { ... }` blocks; see
// the package tests for a complete example. DAG-level attributes and the
// static task attributes (retries, pool, ...) are evaluated at load with
// the stdlib functions and no variables. A task's command, env and
// working_dir, and the fields of an operator block (see Operator), are
// run-time expressions over run.*, params.*, var.* and the outputs of
// upstream tasks (task.<id>.output), evaluated by Task.Render; write $${X}
// for a literal shell ${X}.
//
// A file is all or nothing, as in Airflow: when any diagnostic is an error
// the returned slice is nil, so a typo never silently drops half of a
// pipeline while the rest keeps running. The *hcl.File is returned even
// then, for diagnostic snippets.
func ParseFile(filename string, src []byte) ([]*DAG, *hcl.File, hcl.Diagnostics) {
	return newParser().parseFile(filename, src)
}

// parser holds what the files of one load share; it is safe for
// concurrent use.
type parser struct {
	funcs map[string]function.Function
	locs  locationCache
	// Schemas are built once: HCL only reads them, and rebuilding them
	// per task showed up in the load profile.
	fileSchema, dagSchema, defaultArgsSchema, taskSchema *hcl.BodySchema
}

func newParser() *parser {
	return &parser{
		funcs:             functions(),
		locs:              locationCache{m: map[string]locationResult{}},
		fileSchema:        fileSchema(),
		dagSchema:         dagSchema(),
		defaultArgsSchema: defaultArgsSchema(),
		taskSchema:        taskSchema(),
	}
}

// locationCache avoids re-reading the zoneinfo database for every DAG of a
// folder: time.LoadLocation opens and parses a file on each call.
type locationCache struct {
	mu sync.Mutex
	m  map[string]locationResult
}

type locationResult struct {
	loc *time.Location
	err error
}

func (c *locationCache) load(name string) (*time.Location, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.m[name]
	if !ok {
		r.loc, r.err = time.LoadLocation(name)
		c.m[name] = r
	}
	return r.loc, r.err
}

func fileSchema() *hcl.BodySchema {
	return &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "dag", LabelNames: []string{"id"}}}}
}

func dagSchema() *hcl.BodySchema {
	return &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{
			{Name: "description"}, {Name: "schedule"}, {Name: "timezone"},
			{Name: "start_date"}, {Name: "end_date"}, {Name: "catchup"},
			{Name: "max_active_runs"}, {Name: "max_active_tasks"},
			{Name: "tags"}, {Name: "params"},
		},
		Blocks: append([]hcl.BlockHeaderSchema{
			{Type: "default_args"},
			{Type: "task", LabelNames: []string{"id"}},
		}, notifyBlockSchemas()...),
	}
}

// taskArgNames are the static task settings, allowed both in a task and
// in default_args.
func taskArgNames() []string {
	return []string{
		"trigger_rule", "retries", "retry_delay", "retry_exponential_backoff",
		"execution_timeout", "pool", "pool_slots", "queue", "priority_weight",
	}
}

func defaultArgsSchema() *hcl.BodySchema {
	s := &hcl.BodySchema{}
	for _, n := range taskArgNames() {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: n})
	}
	return s
}

func taskSchema() *hcl.BodySchema {
	s := defaultArgsSchema()
	s.Attributes = append(s.Attributes,
		hcl.AttributeSchema{Name: "command"}, // or one operator block: see decodeTaskKind
		hcl.AttributeSchema{Name: "env"},
		hcl.AttributeSchema{Name: "working_dir"},
		hcl.AttributeSchema{Name: "depends_on"},
		hcl.AttributeSchema{Name: "sla"},
	)
	s.Blocks = append(s.Blocks, notifyBlockSchemas()...)
	for _, k := range taskKinds()[1:] {
		s.Blocks = append(s.Blocks, hcl.BlockHeaderSchema{Type: k})
	}
	return s
}

func (p *parser) parseFile(filename string, src []byte) ([]*DAG, *hcl.File, hcl.Diagnostics) {
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.Pos{Line: 1, Column: 1})
	if diags.HasErrors() {
		return nil, file, diags
	}
	content, d := file.Body.Content(p.fileSchema)
	diags = append(diags, d...)
	first := map[string]hcl.Range{}
	var dags []*DAG
	for _, blk := range content.Blocks {
		dg, d := p.decodeDAG(filename, blk)
		diags = append(diags, d...)
		if prev, dup := first[dg.ID]; dup {
			diags = append(diags, duplicateDiag("DAG", dg.ID, prev, blk.LabelRanges[0]))
			continue
		}
		first[dg.ID] = blk.DefRange
		dags = append(dags, dg)
	}
	if diags.HasErrors() {
		return nil, file, diags
	}
	return dags, file, diags
}

// duplicateDiag reports the second definition of an ID; the detail names
// the first so both places are visible.
func duplicateDiag(kind, id string, first, second hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Duplicate " + strings.ToLower(kind) + " ID",
		Detail:   fmt.Sprintf("%s %q is already defined at %s.", kind, id, first),
		Subject:  second.Ptr(),
	}
}

// checkID validates a DAG or task ID label.
func checkID(kind, id string, rng hcl.Range) hcl.Diagnostics {
	if idPattern.MatchString(id) && len(id) <= maxIDLen {
		return nil
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Invalid " + strings.ToLower(kind) + " ID",
		Detail:   fmt.Sprintf("%s ID %q must be 1 to %d characters of letters, digits, '_', '.' and '-'.", kind, id, maxIDLen),
		Subject:  rng.Ptr(),
	}}
}

// decodeDAG decodes one dag block. It always returns a DAG carrying at
// least its ID, so the caller can detect duplicates even when the block
// has errors.
func (p *parser) decodeDAG(filename string, blk *hcl.Block) (*DAG, hcl.Diagnostics) {
	d := &DAG{
		ID:             blk.Labels[0],
		Location:       time.UTC,
		MaxActiveRuns:  DefaultMaxActiveRuns,
		MaxActiveTasks: DefaultMaxActiveTasks,
		Params:         map[string]cty.Value{},
		TaskIDs:        map[string]int{},
		File:           filename,
		Range:          blk.DefRange,
		funcs:          p.funcs,
	}
	diags := checkID("DAG", d.ID, blk.LabelRanges[0])
	content, cd := blk.Body.Content(p.dagSchema)
	diags = append(diags, cd...)
	a := &staticAttrs{attrs: content.Attributes, ctx: &hcl.EvalContext{Functions: p.funcs}}
	a.str("description", &d.Description)
	a.stringList("tags", &d.Tags)
	a.object("params", &d.Params)
	a.boolean("catchup", &d.Catchup)
	a.integer("max_active_runs", 1, &d.MaxActiveRuns)
	a.integer("max_active_tasks", 1, &d.MaxActiveTasks)
	p.decodeTiming(a, d)
	diags = append(diags, a.diags...)
	notify, nd := p.decodeNotifiers(content.Blocks, d.Params)
	d.Notify, diags = notify, append(diags, nd...)
	diags = append(diags, p.decodeTasks(d, content.Blocks)...)
	// The graph checks need only the depends_on lists, so they run even
	// when other attributes are wrong: the author sees every error at once.
	return d, append(diags, d.link()...)
}

// decodeTiming decodes timezone, start_date, end_date and schedule, in
// that order: dates without an offset and cron ticks are read in the DAG's
// timezone, and a schedule needs a start_date.
func (p *parser) decodeTiming(a *staticAttrs, d *DAG) {
	p.decodeTimezone(a, d)
	before := len(a.diags)
	_, hasStart := p.date(a, "start_date", d.Location, &d.StartDate)
	startInvalid := len(a.diags) > before // already reported, so not "missing"
	endRng, hasEnd := p.date(a, "end_date", d.Location, &d.EndDate)
	if hasStart && hasEnd && d.EndDate.Before(d.StartDate) {
		a.errorf(endRng, "Invalid end_date", "end_date %s is before start_date %s.",
			d.EndDate.Format(time.RFC3339), d.StartDate.Format(time.RFC3339))
	}
	decodeSchedule(a, d, hasStart || startInvalid)
}

// decodeTimezone sets d.Location from an IANA zone name. "Local" is
// refused: it would make the schedule depend on the host's setting.
func (p *parser) decodeTimezone(a *staticAttrs, d *DAG) {
	var tz string
	rng, ok := a.str("timezone", &tz)
	if !ok {
		return
	}
	if tz == "Local" {
		a.errorf(rng, "Unknown timezone", "\"Local\" differs between hosts; name the zone, such as \"Asia/Seoul\".")
		return
	}
	loc, err := p.locs.load(tz)
	if err != nil {
		a.errorf(rng, "Unknown timezone", "%q is not an IANA time zone name: %s.", tz, err)
		return
	}
	d.Location = loc
}

// decodeSchedule sets d.Schedule; null or "" mean manual only. hasStart
// is whether start_date is written at all (even if invalid).
func decodeSchedule(a *staticAttrs, d *DAG, hasStart bool) {
	rng, ok := a.str("schedule", &d.ScheduleExpr)
	if !ok || d.ScheduleExpr == "" {
		return
	}
	sched, err := ParseSchedule(d.ScheduleExpr, d.Location)
	switch {
	case err != nil:
		a.errorf(rng, "Invalid schedule", "%s.", err)
	case !hasStart:
		a.errorf(a.attrs["schedule"].Range, "Missing start_date",
			"A scheduled DAG needs start_date, the date of its first data interval (RFC3339 or YYYY-MM-DD); remove schedule for a manual-only DAG.")
	case sched.Next(d.StartDate).IsZero():
		a.errorf(rng, "Invalid schedule", "Schedule %q never fires after start_date.", d.ScheduleExpr)
	default:
		d.Schedule = sched
	}
}

// dateLayouts are the accepted date formats; the ones without an offset
// are read in the DAG's timezone.
func dateLayouts() []string {
	return []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"}
}

// date decodes a date attribute. The result is expressed in loc so that
// dates print in the DAG's timezone whatever offset was written.
func (p *parser) date(a *staticAttrs, name string, loc *time.Location, dst *time.Time) (hcl.Range, bool) {
	var text string
	rng, ok := a.str(name, &text)
	if !ok {
		return rng, false
	}
	for _, layout := range dateLayouts() {
		if t, err := time.ParseInLocation(layout, text, loc); err == nil {
			*dst = t.In(loc)
			return rng, true
		}
	}
	a.errorf(rng, "Invalid date", "%s %q must be RFC3339 (2024-01-01T02:00:00+09:00) or YYYY-MM-DD (midnight in the DAG timezone).", name, text)
	return rng, false
}

// decodeTasks decodes default_args, then every task on top of them.
func (p *parser) decodeTasks(d *DAG, blocks hcl.Blocks) hcl.Diagnostics {
	defaults, diags := p.decodeDefaultArgs(blocks.OfType("default_args"))
	lc := newLoadCheck(d.Params, p.funcs)
	first := map[string]hcl.Range{}
	for _, blk := range blocks.OfType("task") {
		t, td := p.decodeTask(d, blk, defaults, lc)
		diags = append(diags, td...)
		if prev, dup := first[t.ID]; dup {
			diags = append(diags, duplicateDiag("Task", t.ID, prev, blk.LabelRanges[0]))
			continue
		}
		first[t.ID] = blk.DefRange
		d.TaskIDs[t.ID] = len(d.Tasks)
		d.Tasks = append(d.Tasks, t)
	}
	return diags
}

// decodeDefaultArgs returns the task template: built-in defaults overlaid
// with the (single) default_args block.
func (p *parser) decodeDefaultArgs(blocks hcl.Blocks) (Task, hcl.Diagnostics) {
	t := Task{
		TriggerRule:    AllSuccess,
		RetryDelay:     DefaultRetryDelay,
		Pool:           DefaultPool,
		PoolSlots:      1,
		Queue:          DefaultQueue,
		PriorityWeight: 1,
	}
	var diags hcl.Diagnostics
	for i, blk := range blocks {
		if i > 0 {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate default_args block",
				Detail:   fmt.Sprintf("A DAG has at most one default_args block; the first is at %s.", blocks[0].DefRange),
				Subject:  blk.DefRange.Ptr(),
			})
			continue
		}
		content, cd := blk.Body.Content(p.defaultArgsSchema)
		diags = append(diags, cd...)
		a := &staticAttrs{attrs: content.Attributes, ctx: &hcl.EvalContext{Functions: p.funcs}}
		decodeTaskArgs(a, &t)
		diags = append(diags, a.diags...)
	}
	return t, diags
}

// decodeTaskArgs overlays the static task settings present in a onto t.
func decodeTaskArgs(a *staticAttrs, t *Task) {
	var rule string
	if rng, ok := a.str("trigger_rule", &rule); ok {
		if tr := TriggerRule(rule); slices.Contains(triggerRules(), tr) {
			t.TriggerRule = tr
		} else {
			a.errorf(rng, "Invalid trigger rule", "Unknown trigger_rule %q; use one of %s.", rule, joinRules(triggerRules()))
		}
	}
	a.integer("retries", 0, &t.Retries)
	a.duration("retry_delay", &t.RetryDelay)
	a.boolean("retry_exponential_backoff", &t.RetryExponentialBackoff)
	a.duration("execution_timeout", &t.ExecutionTimeout)
	a.nonEmptyStr("pool", &t.Pool)
	a.integer("pool_slots", 1, &t.PoolSlots)
	a.nonEmptyStr("queue", &t.Queue)
	a.integer("priority_weight", 0, &t.PriorityWeight)
}

// triggerRules lists the valid trigger rules.
func triggerRules() []TriggerRule {
	return []TriggerRule{AllSuccess, AllFailed, AllDone, OneSuccess, OneFailed, NoneFailed}
}

func joinRules(rules []TriggerRule) string {
	s := make([]string, len(rules))
	for i, r := range rules {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// decodeTask decodes one task block over the defaults. The run-time
// expressions are kept as written and checked against d's params.
func (p *parser) decodeTask(d *DAG, blk *hcl.Block, defaults Task, lc *loadCheck) (*Task, hcl.Diagnostics) {
	t := defaults
	t.ID, t.Range, t.dag = blk.Labels[0], blk.DefRange, d
	diags := checkID("Task", t.ID, blk.LabelRanges[0])
	content, cd := blk.Body.Content(p.taskSchema)
	diags = append(diags, cd...)
	a := &staticAttrs{attrs: content.Attributes, ctx: &hcl.EvalContext{Functions: p.funcs}}
	decodeTaskArgs(a, &t)
	decodeSLA(a, &t)
	diags = append(diags, a.diags...)
	notify, nd := p.decodeNotifiers(content.Blocks, d.Params)
	t.Notify, diags = notify, append(diags, nd...)
	if attr, ok := content.Attributes["depends_on"]; ok {
		diags = append(diags, decodeDependsOn(attr, &t)...)
	}
	diags = append(diags, p.decodeTaskKind(&t, content, blk.Body)...)
	if attr, ok := content.Attributes["command"]; ok {
		t.Command = attr.Expr
	}
	if attr, ok := content.Attributes["env"]; ok {
		t.Env = attr.Expr
	}
	if attr, ok := content.Attributes["working_dir"]; ok {
		t.WorkingDir = attr.Expr
	}
	diags = append(diags, lc.check(&t)...)
	return &t, diags
}

// decodeDependsOn reads depends_on, a tuple of task.<id> references.
// References rather than strings let HCL report the exact position of
// each one and keep the syntax aligned with Terraform.
func decodeDependsOn(attr *hcl.Attribute, t *Task) hcl.Diagnostics {
	exprs, diags := hcl.ExprList(attr.Expr)
	if diags.HasErrors() {
		return diags
	}
	for _, e := range exprs {
		id, d := taskRef(e)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		if i := slices.Index(t.Upstream, id); i >= 0 {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate dependency",
				Detail:   fmt.Sprintf("task.%s is already listed at %s.", id, t.upRanges[i]),
				Subject:  e.Range().Ptr(),
			})
			continue
		}
		t.Upstream = append(t.Upstream, id)
		t.upRanges = append(t.upRanges, e.Range())
	}
	return diags
}

// taskRef returns the ID in a task.<id> reference.
func taskRef(e hcl.Expression) (string, hcl.Diagnostics) {
	tr, diags := hcl.AbsTraversalForExpr(e)
	if !diags.HasErrors() && len(tr) == 2 && tr.RootName() == "task" {
		if attr, ok := tr[1].(hcl.TraverseAttr); ok {
			return attr.Name, nil
		}
	}
	return "", hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Invalid dependency",
		Detail:   "Each depends_on element must be a task reference such as task.extract.",
		Subject:  e.Range().Ptr(),
	}}
}
