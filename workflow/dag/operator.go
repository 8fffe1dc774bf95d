package dag

import (
	"fmt"
	"maps"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Task kinds: a task runs a shell command or exactly one operator block.
const (
	KindCommand     = "command"
	KindHTTP        = "http"
	KindSQL         = "sql"
	KindGCSUpload   = "gcs_upload"
	KindGCSDownload = "gcs_download"
	KindSSH         = "ssh"
	KindWaitFor     = "wait_for"
)

// Sensor kinds, the blocks allowed inside wait_for.
const (
	SensorFile         = "file"
	SensorHTTP         = "http"
	SensorSQL          = "sql"
	SensorGCSObject    = "gcs_object"
	SensorExternalTask = "external_task"
)

// Sensor defaults, as in Airflow.
const (
	DefaultPokeInterval  = time.Minute
	DefaultSensorTimeout = 7 * 24 * time.Hour
	DefaultHTTPTimeout   = 30 * time.Second
)

// Operator is a task's operator block (or a sensor's condition block).
// conn_id and the settings that shape a request (method, expected_status,
// check_regexp, timeout) are fixed at load; the other fields are run-time
// expressions rendered like command (see Rendered.Fields):
//
//	task "ping" {
//	  http {
//	    conn_id         = "api"                  # base URL, auth, headers
//	    method          = "POST"
//	    url             = "/v1/load?day=${run.ds}"
//	    headers         = { X-Run = run.id }
//	    body            = jsonencode({ rows = params.rows })
//	    expected_status = [200, 201]             # default: any 2xx
//	    check_jsonpath  = "$.ok"                 # must select a truthy value
//	    timeout         = "10s"
//	  }
//	}
//	task "count" {
//	  sql {
//	    conn_id    = "warehouse"                 # a postgres connection
//	    statement  = "SELECT count(*) FROM t WHERE day = $1"  # or file = "q.sql"
//	    parameters = [run.ds]
//	    check      = "SELECT count(*) > 0 FROM t" # first cell must be truthy
//	  }
//	}
//	task "wait" {
//	  wait_for {
//	    file { path = "/data/${run.ds_nodash}/*.csv" }  # or http, sql, gcs_object, external_task
//	    poke_interval = "30s"
//	    timeout       = "1h"
//	    mode          = "reschedule"           # free the worker slot between pokes
//	  }
//	}
//
// gcs_upload {bucket, object, source}, gcs_download {bucket, object,
// destination} (both with an optional conn_id) and ssh {conn_id, command}
// take the fields named. A task's output, read downstream as task.<id>.output, is the response
// body, the first cell, the gs:// URL, the downloaded path or the last
// stdout line; a sensor has none.
type Operator struct {
	Kind   string // one of the Kind*/Sensor* names of its block
	ConnID string // "" when the block has none
	// HTTP settings.
	Method         string
	ExpectedStatus []int // nil: any 2xx
	CheckRegexp    *regexp.Regexp
	Timeout        time.Duration // request timeout
	Range          hcl.Range     // the block header

	fields map[string]templated // by name
}

// templated is a run-time field of an operator block.
type templated struct {
	expr hcl.Expression
	typ  fieldType
}

// Sensor is the wait_for settings of a sensor task; Task.Op holds its
// condition block.
type Sensor struct {
	PokeInterval time.Duration
	Timeout      time.Duration
	// Reschedule frees the worker slot between pokes instead of sleeping.
	Reschedule bool
}

// fieldType is how a templated field is rendered.
type fieldType int

const (
	fieldString fieldType = iota
	fieldStringMap
	fieldList // sql parameters: strings, numbers and bools kept as such
)

// opField is one templated field of an operator block.
type opField struct {
	name     string
	typ      fieldType
	required bool
}

// opSchema is what one operator block accepts.
type opSchema struct {
	fields    []opField
	static    []string // attributes decoded at load
	needsConn bool
	// oneOf lists fields of which exactly one must be set.
	oneOf []string
}

func httpSchema() opSchema {
	return opSchema{
		fields: []opField{
			{name: "url", required: true}, {name: "headers", typ: fieldStringMap},
			{name: "body"}, {name: "check_jsonpath"},
		},
		static: []string{"conn_id", "method", "expected_status", "check_regexp", "timeout"},
	}
}

func sqlSchema() opSchema {
	return opSchema{
		fields: []opField{
			{name: "statement"}, {name: "file"},
			{name: "parameters", typ: fieldList}, {name: "check"},
		},
		static: []string{"conn_id"}, needsConn: true, oneOf: []string{"statement", "file"},
	}
}

func gcsSchema(pathField string) opSchema {
	return opSchema{
		fields: []opField{{name: "bucket", required: true}, {name: "object", required: true}, {name: pathField, required: true}},
		static: []string{"conn_id"},
	}
}

// taskOpSchemas are the operator blocks of a task, by block type.
func taskOpSchemas() map[string]opSchema {
	return map[string]opSchema{
		KindHTTP:        httpSchema(),
		KindSQL:         sqlSchema(),
		KindGCSUpload:   gcsSchema("source"),
		KindGCSDownload: gcsSchema("destination"),
		KindSSH: {
			fields: []opField{{name: "command", required: true}},
			static: []string{"conn_id"}, needsConn: true,
		},
	}
}

// sensorSchemas are the condition blocks of wait_for, by block type.
func sensorSchemas() map[string]opSchema {
	sql := sqlSchema()
	sql.fields = []opField{{name: "statement", required: true}, {name: "parameters", typ: fieldList}}
	sql.oneOf = nil
	return map[string]opSchema{
		SensorFile:         {fields: []opField{{name: "path", required: true}}},
		SensorHTTP:         httpSchema(),
		SensorSQL:          sql,
		SensorGCSObject:    {fields: []opField{{name: "bucket", required: true}, {name: "object", required: true}}, static: []string{"conn_id"}},
		SensorExternalTask: {fields: []opField{{name: "dag_id", required: true}, {name: "task_id", required: true}}},
	}
}

// taskKinds lists the ways a task can say what it runs, for messages.
func taskKinds() []string {
	return []string{KindCommand, KindHTTP, KindSQL, KindGCSUpload, KindGCSDownload, KindSSH, KindWaitFor}
}

func (s opSchema) bodySchema() *hcl.BodySchema {
	b := &hcl.BodySchema{}
	for _, f := range s.fields {
		b.Attributes = append(b.Attributes, hcl.AttributeSchema{Name: f.name, Required: f.required})
	}
	for _, n := range s.static {
		b.Attributes = append(b.Attributes, hcl.AttributeSchema{Name: n, Required: n == "conn_id" && s.needsConn})
	}
	return b
}

// Kind is what the task runs: KindCommand or its operator block's type.
func (t *Task) Kind() string {
	switch {
	case t.Sensor != nil:
		return KindWaitFor
	case t.Op != nil:
		return t.Op.Kind
	}
	return KindCommand
}

// decodeTaskKind checks that the task has exactly one of command and the
// operator blocks, and decodes that block.
func (p *parser) decodeTaskKind(t *Task, content *hcl.BodyContent, body hcl.Body) hcl.Diagnostics {
	var found []string
	var first hcl.Range
	if attr, ok := content.Attributes["command"]; ok {
		found, first = append(found, KindCommand), attr.NameRange
	}
	var diags hcl.Diagnostics
	for _, blk := range content.Blocks {
		if !slices.Contains(taskKinds(), blk.Type) {
			continue
		}
		found = append(found, blk.Type)
		if len(found) > 1 {
			diags = append(diags, errorDiag(blk.DefRange, "Conflicting task kinds",
				fmt.Sprintf("Task %q already runs %s (at %s); a task runs exactly one of %s.",
					t.ID, found[0], first, strings.Join(taskKinds(), ", ")))...)
			continue
		}
		first = blk.DefRange
		if blk.Type == KindWaitFor {
			diags = append(diags, p.decodeWaitFor(t, blk)...)
		} else {
			t.Op, diags = p.decodeOperator(blk, taskOpSchemas()[blk.Type], diags)
		}
	}
	if len(found) == 0 {
		diags = append(diags, errorDiag(body.MissingItemRange(), "Missing required argument",
			fmt.Sprintf("The argument \"command\" is required, or one of the blocks %s.", strings.Join(taskKinds()[1:], ", ")))...)
	}
	return diags
}

// decodeWaitFor decodes a sensor: its settings and one condition block.
func (p *parser) decodeWaitFor(t *Task, blk *hcl.Block) hcl.Diagnostics {
	schema := &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "poke_interval"}, {Name: "timeout"}, {Name: "mode"}}}
	kinds := slices.Sorted(maps.Keys(sensorSchemas()))
	for _, k := range kinds {
		schema.Blocks = append(schema.Blocks, hcl.BlockHeaderSchema{Type: k})
	}
	content, diags := blk.Body.Content(schema)
	s := &Sensor{PokeInterval: DefaultPokeInterval, Timeout: DefaultSensorTimeout}
	a := &staticAttrs{attrs: content.Attributes, ctx: &hcl.EvalContext{Functions: p.funcs}}
	a.duration("poke_interval", &s.PokeInterval)
	a.duration("timeout", &s.Timeout)
	if s.PokeInterval == 0 {
		a.errorf(content.Attributes["poke_interval"].Expr.Range(), "Invalid duration", "\"poke_interval\" must be more than zero.")
	}
	var mode string
	if rng, ok := a.str("mode", &mode); ok {
		switch mode {
		case "poke":
		case "reschedule":
			s.Reschedule = true
		default:
			a.errorf(rng, "Invalid sensor mode", "mode %q must be \"poke\" (hold the worker slot between pokes) or \"reschedule\" (free it).", mode)
		}
	}
	diags = append(diags, a.diags...)
	t.Sensor = s
	switch len(content.Blocks) {
	case 0:
		return append(diags, errorDiag(blk.Body.MissingItemRange(), "Missing sensor condition",
			fmt.Sprintf("wait_for needs one block saying what to wait for: %s.", strings.Join(kinds, ", ")))...)
	case 1:
		c := content.Blocks[0]
		t.Op, diags = p.decodeOperator(c, sensorSchemas()[c.Type], diags)
		return diags
	}
	return append(diags, errorDiag(content.Blocks[1].DefRange, "Conflicting sensor conditions",
		fmt.Sprintf("wait_for already waits for %s at %s; write one condition per sensor task.", content.Blocks[0].Type, content.Blocks[0].DefRange))...)
}

// decodeOperator decodes one operator block against its schema.
func (p *parser) decodeOperator(blk *hcl.Block, s opSchema, diags hcl.Diagnostics) (*Operator, hcl.Diagnostics) {
	op := &Operator{Kind: blk.Type, Method: "GET", Timeout: DefaultHTTPTimeout, Range: blk.DefRange, fields: map[string]templated{}}
	content, d := blk.Body.Content(s.bodySchema())
	diags = append(diags, d...)
	for _, f := range s.fields {
		if attr, ok := content.Attributes[f.name]; ok {
			op.fields[f.name] = templated{expr: attr.Expr, typ: f.typ}
		}
	}
	if len(s.oneOf) > 0 {
		diags = append(diags, checkOneOf(blk, content, s.oneOf)...)
	}
	a := &staticAttrs{attrs: content.Attributes, ctx: &hcl.EvalContext{Functions: p.funcs}}
	if rng, ok := a.str("conn_id", &op.ConnID); ok && !idPattern.MatchString(op.ConnID) {
		a.errorf(rng, "Invalid conn_id", "conn_id %q must be letters, digits, '_', '.' and '-', naming a connection added with `aird connections add`.", op.ConnID)
	}
	decodeHTTPSettings(a, op)
	return op, append(diags, a.diags...)
}

// checkOneOf requires exactly one of names in a block.
func checkOneOf(blk *hcl.Block, content *hcl.BodyContent, names []string) hcl.Diagnostics {
	var set []string
	for _, n := range names {
		if _, ok := content.Attributes[n]; ok {
			set = append(set, n)
		}
	}
	if len(set) == 1 {
		return nil
	}
	return errorDiag(blk.DefRange, "Invalid "+blk.Type+" block",
		fmt.Sprintf("A %s block needs exactly one of %s; it has %d.", blk.Type, strings.Join(names, ", "), len(set)))
}

// decodeHTTPSettings decodes the static HTTP attributes, when present.
func decodeHTTPSettings(a *staticAttrs, op *Operator) {
	if rng, ok := a.str("method", &op.Method); ok {
		op.Method = strings.ToUpper(op.Method)
		if !slices.Contains([]string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}, op.Method) {
			a.errorf(rng, "Invalid HTTP method", "method %q is not an HTTP method such as GET or POST.", op.Method)
		}
	}
	if v, rng, ok := a.value("expected_status", cty.List(cty.Number)); ok {
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			var code int64
			acc := big.Below
			if !e.IsNull() {
				code, acc = e.AsBigFloat().Int64()
			}
			if acc != big.Exact || code < 100 || code > 599 {
				a.errorf(rng, "Invalid expected_status", "expected_status must list HTTP status codes between 100 and 599, such as [200, 204].")
				return
			}
			op.ExpectedStatus = append(op.ExpectedStatus, int(code))
		}
	}
	var re string
	if rng, ok := a.str("check_regexp", &re); ok {
		compiled, err := regexp.Compile(re)
		if err != nil {
			a.errorf(rng, "Invalid check_regexp", "check_regexp is not a valid regular expression: %s.", err)
		} else {
			op.CheckRegexp = compiled
		}
	}
	a.duration("timeout", &op.Timeout)
}

// CheckConnections reports, at the operator block, every task whose
// conn_id known does not recognise. Parsing cannot do it: connections live
// in the metadata DB and the environment, which a caller that has them
// (such as the DAG folder loader of the scheduler) passes as known.
func (d *DAG) CheckConnections(known func(connID string) bool) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, t := range d.Tasks {
		if t.Op == nil || t.Op.ConnID == "" || known(t.Op.ConnID) {
			continue
		}
		diags = append(diags, errorDiag(t.Op.Range, "Unknown connection",
			fmt.Sprintf("Task %q uses conn_id %q, which is not defined; add it with `aird connections add %s --conn-uri ...` or set AIRD_CONN_%s.",
				t.ID, t.Op.ConnID, t.Op.ConnID, strings.ToUpper(t.Op.ConnID)))...)
	}
	return diags
}

// evaluate renders the block's templated fields.
func (op *Operator) evaluate(ctx *hcl.EvalContext) (Rendered, hcl.Diagnostics) {
	r := Rendered{Fields: map[string]string{}}
	var diags hcl.Diagnostics
	for _, name := range slices.Sorted(maps.Keys(op.fields)) {
		f := op.fields[name]
		var d hcl.Diagnostics
		switch f.typ {
		case fieldStringMap: // only http headers
			r.Headers, d = evalStringMap(ctx, f.expr, name)
		case fieldList: // only sql parameters
			r.Parameters, d = evalParameters(ctx, f.expr)
		default:
			r.Fields[name], d = evalString(ctx, f.expr, name)
		}
		diags = append(diags, d...)
	}
	return r, diags
}

// evalParameters evaluates sql parameters as Go values the database driver
// encodes: strings, whole numbers as int64, other numbers as float64, bools.
func evalParameters(ctx *hcl.EvalContext, e hcl.Expression) ([]any, hcl.Diagnostics) {
	v, diags := e.Value(ctx)
	if diags.HasErrors() || v.IsNull() || !v.IsWhollyKnown() {
		return nil, diags
	}
	if ty := v.Type(); !ty.IsTupleType() && !ty.IsListType() {
		return nil, append(diags, errorDiag(e.Range(), "Invalid parameters", "parameters must be a list, such as [run.ds, params.limit].")...)
	}
	var out []any
	for it := v.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		switch {
		case ev.IsNull():
			out = append(out, nil)
		case ev.Type() == cty.String:
			out = append(out, ev.AsString())
		case ev.Type() == cty.Bool:
			out = append(out, ev.True())
		case ev.Type() == cty.Number:
			bf := ev.AsBigFloat()
			if i, acc := bf.Int64(); acc == big.Exact {
				out = append(out, i)
			} else {
				f, _ := bf.Float64()
				out = append(out, f)
			}
		default:
			return nil, append(diags, errorDiag(e.Range(), "Invalid parameters",
				fmt.Sprintf("parameter %d is a %s; parameters must be strings, numbers or bools.", len(out)+1, ev.Type().FriendlyName()))...)
		}
	}
	return out, diags
}
