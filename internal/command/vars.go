package command

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision/config"
	"github.com/airctl/airctl/provision/state"
)

// varFlags collects -var and -var-file in command-line order, since a
// later one overrides an earlier one.
type varFlags struct {
	m    *meta
	args []config.VarArg
	// input is -input: whether missing variables may be prompted for.
	input bool
}

func (v *varFlags) register(fs *flag.FlagSet) {
	fs.Func("var", "set a variable: -var 'NAME=VALUE' (repeatable)", func(s string) error {
		v.args = append(v.args, config.VarArg{Assign: s})
		return nil
	})
	fs.Func("var-file", "read variables from a .tfvars file (repeatable)", func(s string) error {
		v.args = append(v.args, config.VarArg{File: v.m.path(s)})
		return nil
	})
	fs.BoolVar(&v.input, "input", true, "ask for missing variables on a terminal")
}

func (v *varFlags) given() bool { return len(v.args) > 0 }

// variables resolves every variable. Missing required ones are asked for
// on a terminal; otherwise (CI) the command fails naming them and the ways
// to set them.
func (m *meta) variables(ctx context.Context, cfg *config.Config, vf *varFlags) (map[string]cty.Value, bool) {
	opts := config.VarOptions{Env: m.env.Environ, Args: vf.args}
	vals, diags := config.ResolveVariables(cfg, opts)
	missing := config.MissingVariables(diags)
	if missing != nil && vf.input && m.env.StdinTTY && !m.json {
		prompted, err := m.promptVariables(ctx, missing.Variables)
		if err != nil {
			m.showError(err)
			return nil, false
		}
		opts.Prompted = prompted
		vals, diags = config.ResolveVariables(cfg, opts)
		missing = config.MissingVariables(diags)
	}
	m.diagnostics(diags)
	if missing != nil {
		m.showError(missingVariablesError(missing.Names(), m.env.StdinTTY && vf.input))
	}
	return vals, !diags.HasErrors()
}

func missingVariablesError(names []string, triedPrompt bool) error {
	var b strings.Builder
	fmt.Fprintf(&b, "no value for required variable(s): %s\n\nSet them with any of:\n", strings.Join(names, ", "))
	for _, n := range names {
		fmt.Fprintf(&b, "  -var '%s=VALUE'     or the environment variable TF_VAR_%s\n", n, n)
	}
	b.WriteString("  -var-file=FILE, terraform.tfvars or *.auto.tfvars in the configuration directory")
	if !triedPrompt {
		b.WriteString("\n\nairctl asks for missing variables only when stdin is a terminal and -input is not false.")
	}
	return fmt.Errorf("%s", b.String())
}

// promptVariables asks for each variable as Terraform does.
func (m *meta) promptVariables(ctx context.Context, vars []*config.Variable) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range vars {
		fmt.Fprintf(m.stdout, "%s\n", m.opts().Bold("var."+v.Name))
		if v.Description != "" {
			fmt.Fprintf(m.stdout, "  %s\n", v.Description)
		}
		fmt.Fprint(m.stdout, "\n  Enter a value: ")
		line, err := m.readLine(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading var.%s: %w", v.Name, err)
		}
		fmt.Fprintln(m.stdout)
		out[v.Name] = line
	}
	return out, nil
}

// addrList collects repeatable resource address flags (-target, -replace).
type addrList struct {
	addrs []state.Address
}

func (a *addrList) register(fs *flag.FlagSet, name, usage string) {
	fs.Func(name, usage, func(s string) error {
		addr, err := state.ParseAddress(s)
		if err != nil {
			return err
		}
		a.addrs = append(a.addrs, addr)
		return nil
	})
}
