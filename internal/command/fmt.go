package command

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/airctl/airctl/provision/config"
)

const fmtUsage = `Usage: airctl [global options] fmt [options] [TARGET...]

  Rewrites configuration files (*.tf, *.tfvars, *.airctl.hcl) in the
  canonical HCL layout. TARGET is a file or a directory (default: the
  current directory); "-" formats stdin to stdout.

Options:
  -check       Change nothing; exit 3 if any file needs formatting
               (0 if none, 1 on errors such as syntax errors).
  -diff        Show the changes as a unified diff.
  -write=false Do not rewrite files (implied by -check).
  -list=false  Do not list the files that need formatting.
  -recursive   Also format files in subdirectories.
`

type fmtRun struct {
	check, diff, write, list, recursive bool
	changed                             int
}

func runFmt(m *meta, args []string) int {
	fs := m.flagSet()
	var r fmtRun
	fs.BoolVar(&r.check, "check", false, "only check")
	fs.BoolVar(&r.diff, "diff", false, "show a diff")
	fs.BoolVar(&r.write, "write", true, "rewrite files")
	fs.BoolVar(&r.list, "list", true, "list changed files")
	fs.BoolVar(&r.recursive, "recursive", false, "descend into directories")
	if code, ok := m.parse(fs, args); !ok {
		return code
	}
	if r.check {
		r.write = false
	}
	targets := fs.Args()
	if len(targets) == 0 {
		targets = []string{"."}
	}
	failed := false
	for _, t := range targets {
		if t == "-" {
			failed = m.fmtStdin(&r) || failed
			continue
		}
		failed = m.fmtTarget(&r, t) || failed
	}
	switch {
	case failed:
		return exitError
	case r.check && r.changed > 0:
		return exitUnformatted
	}
	return exitOK
}

// fmtTarget formats a file or directory and reports whether anything
// failed.
func (m *meta) fmtTarget(r *fmtRun, target string) bool {
	path := m.path(target)
	st, err := os.Stat(path)
	if err != nil {
		m.showError(fmt.Errorf("fmt: %w", err))
		return true
	}
	if !st.IsDir() {
		return m.fmtFile(r, path, target)
	}
	files, err := formattable(path, r.recursive)
	if err != nil {
		m.showError(err)
		return true
	}
	failed := false
	for _, f := range files {
		failed = m.fmtFile(r, f, m.rel(f)) || failed
	}
	return failed
}

// formattable lists the configuration and variable files under dir.
func formattable(dir string, recursive bool) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != dir && (!recursive || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasPrefix(name, ".") && (strings.HasSuffix(name, ".tf") || strings.HasSuffix(name, ".tfvars") || strings.HasSuffix(name, ".airctl.hcl")) {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	if err != nil {
		return nil, fmt.Errorf("fmt: %w", err)
	}
	return out, nil
}

func (m *meta) fmtFile(r *fmtRun, path, shown string) bool {
	src, err := os.ReadFile(path)
	if err != nil {
		m.showError(fmt.Errorf("fmt: %w", err))
		return true
	}
	out, err := config.FormatFile(shown, src)
	if err != nil {
		m.showFormatError(err, shown, src)
		return true
	}
	if string(out) == string(src) {
		return false
	}
	r.changed++
	if r.list {
		fmt.Fprintln(m.stdout, shown)
	}
	if r.diff {
		fmt.Fprint(m.stdout, unifiedDiff(shown, string(src), string(out)))
	}
	if r.write {
		if err := os.WriteFile(path, out, 0o644); err != nil {
			m.showError(fmt.Errorf("fmt: %w", err))
			return true
		}
	}
	return false
}

func (m *meta) fmtStdin(r *fmtRun) bool {
	src, err := m.readInput("-")
	if err != nil {
		m.showError(err)
		return true
	}
	out, err := config.FormatFile("<stdin>", src)
	if err != nil {
		m.showFormatError(err, "<stdin>", src)
		return true
	}
	switch {
	case r.check:
		if string(out) != string(src) {
			r.changed++
		}
	case r.diff:
		fmt.Fprint(m.stdout, unifiedDiff("<stdin>", string(src), string(out)))
	default:
		m.stdout.Write(out)
	}
	return false
}

// showFormatError shows syntax errors with their source snippet.
func (m *meta) showFormatError(err error, name string, src []byte) {
	var diags hcl.Diagnostics
	if !errors.As(err, &diags) {
		m.showError(err)
		return
	}
	file, _ := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	m.writeDiagnostics(map[string]*hcl.File{name: file}, diags)
}
