package command

import (
	"encoding/json"
	"fmt"

	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision/render"
	"github.com/airctl/airctl/provision/state"
)

const outputUsage = `Usage: airctl [global options] output [options] [NAME]

  Shows the output values recorded in the state by the last apply. Without
  NAME every output is listed, sensitive ones as <sensitive>.

Options:
  -json      Print as JSON. Sensitive values are shown in plain text.
  -raw       Print the value of NAME (a string, number or bool) as it is,
             without quotes or a newline, for scripts. Sensitive values
             are shown in plain text.
  -no-color  No colour in the output.
`

func runOutput(m *meta, args []string) int {
	fs := m.flagSet()
	asJSON := fs.Bool("json", false, "print as JSON")
	raw := fs.Bool("raw", false, "print a primitive value as it is")
	if code, ok := m.parse(fs, args); !ok {
		return code
	}
	switch {
	case fs.NArg() > 1:
		return m.usageError("output takes at most one output name, got %q", fs.Args())
	case *raw && *asJSON:
		return m.usageError("-raw and -json cannot be used together")
	case *raw && fs.NArg() == 0:
		return m.usageError("-raw needs the name of an output")
	}
	st, code, ok := m.readState()
	if !ok {
		return code
	}
	if fs.NArg() == 1 {
		return m.showOutput(st, fs.Arg(0), *raw, *asJSON)
	}
	if *asJSON {
		return m.outputsJSON(st.Outputs)
	}
	if len(st.Outputs) == 0 {
		fmt.Fprintln(m.stderr, "Warning: No outputs found\n\nThe state has no outputs. Declare output blocks in the configuration and run \"airctl apply\" to record them.")
		return exitOK
	}
	if err := render.Outputs(m.stdout, st.Outputs); err != nil {
		return m.fail(err)
	}
	return exitOK
}

// readState reads the state without locking (a read-only command), or an
// empty state when there is none yet.
func (m *meta) readState() (*state.State, int, bool) {
	cfg := m.loadConfig()
	if cfg == nil {
		return nil, exitError, false
	}
	b, err := m.backend(cfg)
	if err != nil {
		return nil, m.fail(err), false
	}
	defer b.close()
	st, err := b.Read(m.ctx)
	if err != nil {
		return nil, m.fail(fmt.Errorf("read the state: %w", err)), false
	}
	if st == nil {
		st = state.New(m.env.version())
	}
	return st, exitOK, true
}

func (m *meta) showOutput(st *state.State, name string, raw, asJSON bool) int {
	o, ok := st.Outputs[name]
	if !ok {
		return m.fail(fmt.Errorf("output %q not found\n\nThe state has no output of that name. If you just added it to the configuration, run \"airctl apply\": outputs are recorded in the state only by an apply", name))
	}
	v, err := o.CtyValue()
	if err != nil {
		return m.fail(fmt.Errorf("output %s: %w", name, err))
	}
	switch {
	case asJSON:
		b, err := render.ValueJSON(v)
		if err != nil {
			return m.fail(fmt.Errorf("output %s: %w", name, err))
		}
		fmt.Fprintln(m.stdout, string(b))
	case raw:
		return m.rawOutput(name, v)
	case o.Sensitive:
		fmt.Fprintln(m.stdout, render.SensitiveOutput)
	default:
		fmt.Fprintln(m.stdout, render.Value(v))
	}
	return exitOK
}

// rawOutput prints a primitive without quoting, for shell scripts.
func (m *meta) rawOutput(name string, v cty.Value) int {
	v, _ = v.UnmarkDeep()
	switch {
	case v.IsNull():
		return m.fail(fmt.Errorf("output %q is null; -raw has nothing to print", name))
	case v.Type() == cty.String:
		fmt.Fprint(m.stdout, v.AsString())
	case v.Type() == cty.Number || v.Type() == cty.Bool:
		fmt.Fprint(m.stdout, render.Value(v))
	default:
		return m.fail(fmt.Errorf("output %q is a %s; -raw prints only strings, numbers and bools: use -json for it", name, v.Type().FriendlyName()))
	}
	return exitOK
}

// outputsJSON prints every output as Terraform's `output -json` does:
// {"name": {"sensitive": bool, "type": TYPE, "value": VALUE}}.
func (m *meta) outputsJSON(outs map[string]state.Output) int {
	type entry struct {
		Sensitive bool            `json:"sensitive"`
		Type      json.RawMessage `json:"type"`
		Value     json.RawMessage `json:"value"`
	}
	all := map[string]entry{} // encoding/json sorts the names
	for name, o := range outs {
		all[name] = entry{Sensitive: o.Sensitive, Type: o.Type, Value: o.Value}
	}
	b, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return m.fail(err)
	}
	fmt.Fprintln(m.stdout, string(b))
	return exitOK
}
