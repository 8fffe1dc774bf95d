package deploy

import (
	"fmt"
	"io/fs"
	"os"
	"path"

	"github.com/airctl/airctl/deploy/release"
)

// Release layout: what goes where inside releases/<hash>/.
const (
	binPath  = "bin/aird"
	dagsDir  = "dags"
	confDir  = "config"
	unitsDir = "units"
)

// buildPlan turns rel into the release's files: the binary, every rendered
// file (units under units/, the rest under config/, each with where it is
// installed) and the DAG folder.
func buildPlan(rel Release) (*release.Plan, error) {
	if err := rel.Settings.Validate(); err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	if len(rel.Files) == 0 {
		return nil, fmt.Errorf("deploy: no rendered files: render them with deploy/render first")
	}
	if fi, err := os.Stat(rel.Binary); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("deploy: aird binary %q: want a regular file (build it with `make build`): %v", rel.Binary, err)
	}
	p := release.NewPlan(rel.Settings.EnableUnits())
	if err := p.AddFile(binPath, rel.Binary, 0o755, nil); err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	for _, f := range rel.Files {
		dir, mode := confDir, fs.FileMode(0o644)
		if f.Unit {
			dir = unitsDir
		}
		if f.Secret {
			mode = 0o600 // readable by the deploy user only, as on the host
		}
		inst := &release.Install{Path: f.Path, Mode: f.Mode.Perm(), Owner: f.Owner, Group: f.Group}
		if err := p.AddBytes(path.Join(dir, path.Base(f.Path)), mode, f.Content, inst); err != nil {
			return nil, fmt.Errorf("deploy: %w", err)
		}
	}
	if rel.Dags != "" {
		if err := p.AddDir(dagsDir, rel.Dags); err != nil {
			return nil, fmt.Errorf("deploy: DAG folder: %w", err)
		}
	}
	return p, nil
}
