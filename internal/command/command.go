// Package command implements the airctl command line: global options,
// one command per file, and the Terraform-style UX they share (single-dash
// flags, -help on every command, coloured output only on a terminal, the
// state lock held for every command that writes state, Ctrl-C handling).
//
// Everything a command touches outside the configuration directory comes
// in through Env, so tests run the real command line in-process with
// their own streams, environment and providers.
package command

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/airctl/airctl/internal/version"
	"github.com/airctl/airctl/provision"
)

// Exit codes, as Terraform's.
const (
	exitOK      = 0
	exitError   = 1
	exitChanges = 2 // plan -detailed-exitcode: the plan has changes
	// exitUnformatted is fmt -check's "some files need formatting".
	exitUnformatted = 3
)

// Env is the world a command runs in.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Environ holds NAME=value pairs (normally os.Environ()): TF_VAR_*,
	// NO_COLOR, STORAGE_EMULATOR_HOST and friends are read from here, never
	// from the process, so tests control them.
	Environ []string
	// StdinTTY and StdoutTTY say whether the streams are terminals:
	// prompts need an interactive stdin, colour a terminal stdout.
	StdinTTY, StdoutTTY bool
	// Dir is the working directory; "" means the process's.
	Dir string
	// Providers make the providers by type name ("random", "google").
	Providers map[string]provision.Factory
	// Interrupts delivers one value per Ctrl-C. The first stops the
	// command gracefully (as cancelling Run's ctx does), the second aborts
	// in-flight provider operations. Nil: only ctx can stop a command.
	Interrupts <-chan struct{}
	// Version is the airctl version; "" means internal/version's.
	Version string
	// ProgressInterval is how often a long operation reports "Still
	// creating..."; 0 means the engine's default (10s).
	ProgressInterval time.Duration
}

// Getenv returns the value of the environment variable name in Environ.
func (e Env) Getenv(name string) string {
	for i := len(e.Environ) - 1; i >= 0; i-- { // the last definition wins, as in exec
		if k, v, ok := strings.Cut(e.Environ[i], "="); ok && k == name {
			return v
		}
	}
	return ""
}

func (e Env) version() string {
	if e.Version != "" {
		return e.Version
	}
	return version.Version
}

// command is one airctl subcommand.
type command struct {
	synopsis string
	// usage is the full -help text.
	usage string
	run   func(m *meta, args []string) int
}

// commands is the command table. It is built per call so that nothing is
// shared between concurrent invocations.
func commands() map[string]command {
	return map[string]command{
		"init":         {"Prepare the configuration directory: backend, state migration", initUsage, runInit},
		"validate":     {"Check whether the configuration is valid", validateUsage, runValidate},
		"fmt":          {"Reformat configuration files in the canonical style", fmtUsage, runFmt},
		"plan":         {"Show the changes required by the current configuration", planUsage, runPlan},
		"apply":        {"Create or update infrastructure", applyUsage, runApply},
		"destroy":      {"Destroy previously-created infrastructure", destroyUsage, runDestroy},
		"output":       {"Show output values from the state", outputUsage, runOutput},
		"state":        {"Advanced state management: list, show, rm, mv, pull, push", stateUsage, runState},
		"import":       {"Associate an existing object with a resource address", importUsage, runImport},
		"force-unlock": {"Release a stuck state lock", forceUnlockUsage, runForceUnlock},
		"graph":        {"Print the dependency graph in DOT format", graphUsage, runGraph},
		"version":      {"Show the airctl version", versionUsage, runVersion},
		"render":       {"Write the units and config a deploy would install, for review", renderUsage, runRender},
		"deploy":       {"Roll the current revision out to the deploy block's hosts", deployUsage, runDeploy},
		"rollback":     {"Switch the hosts back to an earlier release", rollbackUsage, runRollback},
		"releases":     {"List the releases on each host", releasesUsage, runReleases},
		"status":       {"Show release, units and health per host", statusUsage, runStatus},
		"logs":         {"Show or follow a service's journal on the hosts", logsUsage, runLogs},
		"ssh":          {"Run a command or a shell on a host", sshUsage, runSSH},
	}
}

// Run runs the airctl command line args (without the program name) and
// returns the exit code. Cancelling ctx stops the command gracefully, like
// a first Ctrl-C.
func Run(ctx context.Context, args []string, env Env) int {
	var mu sync.Mutex
	m := &meta{ctx: ctx, env: env, stdout: lockedWriter{&mu, env.Stdout}, stderr: lockedWriter{&mu, env.Stderr}}
	rest, code, done := m.globalOptions(args)
	if done {
		return code
	}
	if len(rest) == 0 {
		fmt.Fprint(m.stderr, mainUsage())
		return exitError
	}
	name := rest[0]
	if name == "help" {
		return m.help(rest[1:])
	}
	cmd, ok := commands()[name]
	if !ok {
		fmt.Fprintf(m.stderr, "airctl: unknown command %q\n\n%s", name, mainUsage())
		return exitError
	}
	m.name = name
	m.usage = cmd.usage
	return cmd.run(m, rest[1:])
}

// globalOptions consumes the options before the command name: -chdir,
// -no-color, -help and -version.
func (m *meta) globalOptions(args []string) (rest []string, code int, done bool) {
	wd := m.env.Dir
	if wd == "" {
		var err error
		if wd, err = os.Getwd(); err != nil {
			fmt.Fprintf(m.stderr, "Error: cannot determine the working directory: %v\n", err)
			return nil, exitError, true
		}
	}
	m.dir = wd
	m.color = m.env.StdoutTTY && m.env.Getenv("NO_COLOR") == ""
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		arg := strings.TrimPrefix(args[0], "-")
		arg = strings.TrimPrefix(arg, "-") // --help works too
		args = args[1:]
		switch {
		case arg == "chdir" && len(args) > 0:
			m.dir = resolve(wd, args[0])
			args = args[1:]
		case strings.HasPrefix(arg, "chdir="):
			m.dir = resolve(wd, strings.TrimPrefix(arg, "chdir="))
		case arg == "no-color":
			m.color = false
		case arg == "help" || arg == "h":
			fmt.Fprint(m.stdout, mainUsage())
			return nil, exitOK, true
		case arg == "version" || arg == "v":
			return nil, runVersion(m, nil), true
		default:
			fmt.Fprintf(m.stderr, "airctl: unknown global option -%s\n\n%s", arg, mainUsage())
			return nil, exitError, true
		}
	}
	if st, err := os.Stat(m.dir); err != nil || !st.IsDir() {
		fmt.Fprintf(m.stderr, "Error: invalid -chdir option: %s is not a directory\n", m.dir)
		return nil, exitError, true
	}
	return args, exitOK, false
}

// resolve makes p absolute against dir.
func resolve(dir, p string) string {
	if p == "" || filepath.IsAbs(p) || p == "-" {
		return p
	}
	return filepath.Join(dir, p)
}

func (m *meta) help(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(m.stdout, mainUsage())
		return exitOK
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(m.stderr, "airctl: unknown command %q\n\n%s", args[0], mainUsage())
		return exitError
	}
	fmt.Fprint(m.stdout, cmd.usage)
	return exitOK
}

func mainUsage() string {
	var b strings.Builder
	b.WriteString(`Usage: airctl [global options] <command> [options] [args]

airctl provisions an Airflow-style platform on Google Cloud from HCL
configuration (Terraform-compatible) and keeps it deployed.

Commands:
`)
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  %-13s %s\n", n, cmds[n].synopsis)
	}
	b.WriteString(`
Global options (before the command):
  -chdir=DIR    Switch to DIR before running the command.
  -no-color     Disable colour in the output.
  -help         Show this help; "airctl <command> -help" shows a command's.
  -version      Show the airctl version.
`)
	return b.String()
}
