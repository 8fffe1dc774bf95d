package command

import (
	"fmt"
	"path/filepath"

	"github.com/airctl/airctl/deploy/render"
)

const renderUsage = `Usage: airctl [global options] render -out=DIR [options]

  Writes the files a deploy would install (systemd units, the Redis
  snippet, aird.hcl and the secrets env file aird.env) under DIR, mirroring
  their paths on the host (DIR/etc/systemd/system/aird-scheduler.service,
  ...), for review and for "systemd-analyze verify". Values come from the
  deploy block evaluated against the current state, and templates from the
  project's templates/ directory where it has a file of the same name.

  Secrets appear only in DIR/etc/aird/aird.env (mode 0600); every other
  file refers to them. With several deploy blocks, each renders into
  DIR/NAME.

Options:
  -out=DIR             Where to write (required).
  -var 'NAME=VALUE'    Set a variable. Repeatable.
  -var-file=FILE       Read variables from a .tfvars file. Repeatable.
  -input=false         Fail instead of asking for missing variables.
  -no-color            No colour in the output.
`

func runRender(m *meta, args []string) int {
	fs := m.flagSet()
	out := fs.String("out", "", "directory to write to")
	vf := varFlags{m: m}
	vf.register(fs)
	if code, ok := m.parse(fs, args); !ok {
		return code
	}
	switch {
	case fs.NArg() > 0:
		return m.usageError("render takes no arguments, got %q", fs.Args())
	case *out == "":
		return m.usageError("render needs -out=DIR: the directory to write the files to")
	}
	specs, ok := m.deploySpecs(m.ctx, &vf)
	if !ok {
		return exitError
	}
	for _, spec := range specs {
		dir := m.path(*out)
		if len(specs) > 1 {
			dir = filepath.Join(dir, spec.Name)
		}
		files, err := m.renderFiles(spec.Settings)
		if err != nil {
			return m.fail(fmt.Errorf("deploy %q: %w", spec.Name, err))
		}
		if err := render.WriteDir(dir, files); err != nil {
			return m.fail(fmt.Errorf("deploy %q: %w", spec.Name, err))
		}
		for _, f := range files {
			fmt.Fprintf(m.stdout, "%s\n", filepath.Join(dir, f.Path))
		}
	}
	return exitOK
}
