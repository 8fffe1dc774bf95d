package command

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/airctl/airctl/provision"
	"github.com/airctl/airctl/provision/config"
	"github.com/airctl/airctl/provision/graph"
	"github.com/airctl/airctl/provision/render"
)

// meta is one invocation's state: streams, directory, output style. It is
// never shared between invocations.
type meta struct {
	ctx            context.Context
	env            Env
	stdout, stderr io.Writer
	name, usage    string // the running command
	// dir is the configuration directory (the working directory after
	// -chdir); relative paths in arguments resolve against it.
	dir   string
	color bool
	// json switches diagnostics to JSON lines on stdout (-json).
	json   bool
	jsonUI *render.JSON
	// cfg, once loaded, supplies the source snippets of diagnostics.
	cfg *config.Config
	// stdin is buffered once so several prompts in one run do not lose
	// input read ahead by an earlier one.
	stdin *bufio.Reader
}

func (m *meta) opts() render.Options { return render.Options{Color: m.color} }

// flagSet returns a flag set for the running command with -no-color
// registered; parse handles -help and errors.
func (m *meta) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet(m.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.BoolFunc("no-color", "disable colour", func(string) error { m.color = false; return nil })
	return fs
}

// parse parses args; when it returns false the command must return code
// (0 after -help, 1 after a bad flag).
func (m *meta) parse(fs *flag.FlagSet, args []string) (code int, ok bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return exitOK, true
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(m.stdout, m.usage)
		return exitOK, false
	}
	fmt.Fprintf(m.stderr, "Error: %v\n\nRun \"airctl %s -help\" for the options.\n", err, m.name)
	return exitError, false
}

// usageError reports wrong arguments (not flags) and points to -help.
func (m *meta) usageError(format string, args ...any) int {
	fmt.Fprintf(m.stderr, "Error: "+format+"\n\nRun \"airctl %s -help\" for usage.\n", append(args, m.name)...)
	return exitError
}

// path resolves a path argument against the configuration directory, as
// Terraform resolves paths after -chdir.
func (m *meta) path(p string) string { return resolve(m.dir, p) }

// loadConfig loads the configuration directory and prints its
// diagnostics; nil means it had errors.
func (m *meta) loadConfig() *config.Config {
	cfg, diags := config.LoadDir(m.dir)
	m.cfg = cfg
	m.diagnostics(diags)
	if diags.HasErrors() {
		return nil
	}
	return cfg
}

// diagnostics prints hcl diagnostics with file:line:col and the source
// snippet (or as JSON lines with -json). File names are shown relative to
// the configuration directory, as the user wrote them.
func (m *meta) diagnostics(diags hcl.Diagnostics) {
	if len(diags) == 0 {
		return
	}
	diags = m.relative(diags)
	files := m.files()
	if m.json {
		m.jsonUI.Diagnostics(render.Diagnostics(diags, files))
		return
	}
	m.writeDiagnostics(files, diags)
}

// writeDiagnostics writes diagnostics as text with their source snippets
// from files.
func (m *meta) writeDiagnostics(files map[string]*hcl.File, diags hcl.Diagnostics) {
	for _, d := range diags {
		var b strings.Builder
		if err := config.WriteDiagnostics(&b, files, hcl.Diagnostics{d}, 0, m.color); err != nil {
			b.Reset()
			b.WriteString(d.Error() + "\n")
		}
		fmt.Fprintf(m.stderr, "\n%s\n", strings.TrimRight(withColumn(b.String(), d), "\n"))
	}
}

// withColumn turns hcl's "on main.tf line 4" into "on main.tf:4:3", so
// every error names the exact position, as editors and CI annotations
// expect.
func withColumn(text string, d *hcl.Diagnostic) string {
	if d.Subject == nil {
		return text
	}
	r := d.Subject
	return strings.Replace(text, fmt.Sprintf("on %s line %d", r.Filename, r.Start.Line),
		fmt.Sprintf("on %s:%d:%d", r.Filename, r.Start.Line, r.Start.Column), 1)
}

// files are the loaded sources keyed as relative diagnostics name them.
func (m *meta) files() map[string]*hcl.File {
	if m.cfg == nil {
		return nil
	}
	files := map[string]*hcl.File{}
	for name, f := range m.cfg.Files() {
		files[m.rel(name)] = f
	}
	return files
}

// relative copies diags with file names relative to the configuration
// directory.
func (m *meta) relative(diags hcl.Diagnostics) hcl.Diagnostics {
	out := make(hcl.Diagnostics, len(diags))
	for i, d := range diags {
		c := *d
		if c.Subject != nil {
			s := *c.Subject
			s.Filename = m.rel(s.Filename)
			c.Subject = &s
		}
		if c.Context != nil {
			s := *c.Context
			s.Filename = m.rel(s.Filename)
			c.Context = &s
		}
		out[i] = &c
	}
	return out
}

func (m *meta) rel(name string) string {
	if !filepath.IsAbs(name) {
		return name
	}
	if r, err := filepath.Rel(m.dir, name); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return name
}

// showError prints err: hcl diagnostics inside it (from the engine) with
// their source, everything else as "Error: ...". A joined error (several
// failed resources) prints each part.
func (m *meta) showError(err error) {
	for _, e := range flatten(err) {
		var diags provision.DiagnosticsError
		if errors.As(e, &diags) {
			m.diagnostics(hcl.Diagnostics(diags))
			continue
		}
		if m.json {
			m.jsonUI.Diagnostics([]*render.Diagnostic{render.ErrorDiagnostic(e)})
			continue
		}
		fmt.Fprintf(m.stderr, "\n%s %s\n", m.opts().Error(), e)
	}
}

// flatten splits joined errors into their parts.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	// The walk prefixes a failed node's error with its key, which the
	// engine's own message usually starts with already.
	if ne, ok := err.(graph.NodeError[string]); ok && strings.HasPrefix(ne.Err.Error(), ne.Node) {
		return flatten(ne.Err)
	}
	return []error{err}
}

// fail prints err and returns the error exit code.
func (m *meta) fail(err error) int {
	m.showError(err)
	return exitError
}

// readLine reads one line of input, giving up when ctx is cancelled
// (Ctrl-C at a prompt).
func (m *meta) readLine(ctx context.Context) (string, error) {
	if m.stdin == nil {
		m.stdin = bufio.NewReader(m.env.Stdin)
	}
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		line, err := m.stdin.ReadString('\n')
		if err == io.EOF && line != "" {
			err = nil
		}
		ch <- result{strings.TrimRight(line, "\r\n"), err}
	}()
	select {
	case r := <-ch:
		return r.line, r.err
	case <-ctx.Done():
		return "", fmt.Errorf("input interrupted: %w", context.Cause(ctx))
	}
}
