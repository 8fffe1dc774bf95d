package command

import (
	"fmt"
	"sort"
	"strings"

	"github.com/airctl/airctl/provision/state"
)

const stateUsage = `Usage: airctl [global options] state <subcommand> [options] [args]

  Advanced state management. Prefer changing the configuration and running
  apply; these commands edit the record of what exists, not the objects.

Subcommands:
  list [ADDR...]          List the resource instances in the state.
  show ADDR               Show one resource instance's attributes.
  rm ADDR...              Forget instances (the objects keep existing).
  mv SRC DST              Record an instance or resource under a new address.
  pull                    Print the raw state (JSON) to stdout.
  push [-force] FILE      Replace the stored state with FILE ("-": stdin).

Run "airctl state <subcommand> -help" for a subcommand's options.
`

type stateCommand struct {
	usage string
	run   func(m *meta, args []string) int
}

func stateCommands() map[string]stateCommand {
	return map[string]stateCommand{
		"list": {stateListUsage, runStateList},
		"show": {stateShowUsage, runStateShow},
		"rm":   {stateRmUsage, runStateRm},
		"mv":   {stateMvUsage, runStateMv},
		"pull": {statePullUsage, runStatePull},
		"push": {statePushUsage, runStatePush},
	}
}

func runState(m *meta, args []string) int {
	if len(args) == 0 || args[0] == "-help" || args[0] == "-h" || args[0] == "--help" {
		out := m.stdout
		if len(args) == 0 {
			out = m.stderr
		}
		fmt.Fprint(out, stateUsage)
		if len(args) == 0 {
			return exitError
		}
		return exitOK
	}
	sub, ok := stateCommands()[args[0]]
	if !ok {
		fmt.Fprintf(m.stderr, "airctl: unknown state subcommand %q\n\n%s", args[0], stateUsage)
		return exitError
	}
	m.name = "state " + args[0]
	m.usage = sub.usage
	return sub.run(m, args[1:])
}

const stateListUsage = `Usage: airctl [global options] state list [options] [ADDR...]

  Lists the resource instances in the state, one address per line. With
  addresses, lists only those (a resource address matches all of its
  instances).

Options:
  -id=ID     Only the instances whose id attribute is ID.
`

func runStateList(m *meta, args []string) int {
	fs := m.flagSet()
	id := fs.String("id", "", "filter by id attribute")
	if code, ok := m.parse(fs, args); !ok {
		return code
	}
	filters, err := parseAddrs(fs.Args())
	if err != nil {
		return m.usageError("%v", err)
	}
	st, code, ok := m.readState()
	if !ok {
		return code
	}
	for _, a := range st.Addresses() {
		if matchesAny(a, filters) && (*id == "" || idAttr(st.Instance(a)) == *id) {
			fmt.Fprintln(m.stdout, a)
		}
	}
	return exitOK
}

func parseAddrs(args []string) ([]state.Address, error) {
	out := make([]state.Address, 0, len(args))
	for _, s := range args {
		a, err := state.ParseAddress(s)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// matchesAny: no filters match everything; a filter without an index key
// matches every instance of its resource.
func matchesAny(a state.Address, filters []state.Address) bool {
	if len(filters) == 0 {
		return true
	}
	for _, f := range filters {
		if a == f || (f.Key.IsZero() && a.Resource() == f.Resource()) {
			return true
		}
	}
	return false
}

const stateShowUsage = `Usage: airctl [global options] state show ADDR

  Shows the attributes recorded for one resource instance. Sensitive
  values are shown as (sensitive value).
`

func runStateShow(m *meta, args []string) int {
	fs := m.flagSet()
	if code, ok := m.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		return m.usageError("state show takes exactly one address")
	}
	addr, err := state.ParseAddress(fs.Arg(0))
	if err != nil {
		return m.usageError("%v", err)
	}
	st, code, ok := m.readState()
	if !ok {
		return code
	}
	res, inst := st.Resource(addr), st.Instance(addr)
	if inst == nil {
		return m.fail(noInstance(st, addr))
	}
	return m.showInstance(addr, res, inst)
}

// noInstance explains a missing address, listing the instances of the
// resource when it has some (the usual mistake: a missing [0] or ["key"]).
func noInstance(st *state.State, addr state.Address) error {
	var keys []string
	if r := st.Resource(addr); r != nil {
		for _, in := range r.Instances {
			keys = append(keys, r.Addr().Instance(in.IndexKey).String())
		}
	}
	sort.Strings(keys)
	if len(keys) > 0 {
		return fmt.Errorf("no instance %s in the state; the resource has: %s", addr, strings.Join(keys, ", "))
	}
	return fmt.Errorf("no instance %s in the state; \"airctl state list\" shows what is there", addr)
}
