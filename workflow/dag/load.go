package dag

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/sync/errgroup"
)

// Bag is the result of loading a DAG folder.
type Bag struct {
	DAGs   map[string]*DAG
	Errors map[string]hcl.Diagnostics // by file path; only files with errors
	Files  map[string]*hcl.File       // parsed files, for diagnostic snippets
}

// fileResult is what parsing one file produced, with the file's size and
// modification time as stat'ed before reading (for Loader's cache).
type fileResult struct {
	dags  []*DAG
	file  *hcl.File
	diags hcl.Diagnostics
	size  int64
	mod   time.Time
}

// LoadDir loads every *.hcl file under dir, recursively, skipping hidden
// files and directories (editor droppings, and the ..data folders of
// Kubernetes ConfigMap mounts, whose visible files are symlinks that are
// followed). The error is only for an unreadable dir or a cancelled ctx;
// per-file problems go in Bag.Errors.
//
// A file with any error contributes no DAGs (see ParseFile). A DAG ID
// defined in two files is an error in the later file in lexical path
// order, which then contributes no DAGs either, so the result does not
// depend on parsing order.
func LoadDir(ctx context.Context, dir string) (*Bag, error) {
	b, _, err := new(Loader).Load(ctx, dir)
	return b, err
}

// findFiles lists the DAG files under dir in lexical order. Entries that
// cannot be read below dir are reported as file errors, not failures.
func findFiles(dir string) ([]string, map[string]hcl.Diagnostics, error) {
	var paths []string
	errs := map[string]hcl.Diagnostics{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil && path == dir:
			return err
		case err != nil:
			errs[path] = readErrorDiag(path, err)
			return nil // WalkDir already skips an unreadable dir
		case path != dir && strings.HasPrefix(d.Name(), "."):
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		case !d.IsDir() && strings.HasSuffix(d.Name(), ".hcl"):
			paths = append(paths, path)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read DAG folder: %w", err)
	}
	return paths, errs, nil
}

func readErrorDiag(path string, err error) hcl.Diagnostics {
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Failed to read DAG file",
		Detail:   fmt.Sprintf("%s: %s.", path, err),
	}}
}

// parseAll reads and parses the files concurrently, one worker per CPU:
// parsing is CPU-bound and files are independent. results[i] is paths[i].
func parseAll(ctx context.Context, paths []string) ([]fileResult, error) {
	results := make([]fileResult, len(paths))
	p := newParser()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, path := range paths {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			results[i] = p.loadFile(path)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return results, ctx.Err()
}

func (p *parser) loadFile(path string) fileResult {
	var size int64
	var mod time.Time
	if fi, err := os.Stat(path); err == nil {
		size, mod = fi.Size(), fi.ModTime()
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return fileResult{diags: readErrorDiag(path, err)}
	}
	dags, file, diags := p.parseFile(path, src)
	return fileResult{dags: dags, file: file, diags: diags, size: size, mod: mod}
}

// add merges one file's result, rejecting DAG IDs already loaded from an
// earlier file.
func (b *Bag) add(path string, r fileResult) {
	if r.file != nil {
		b.Files[path] = r.file
	}
	diags := r.diags
	if !diags.HasErrors() {
		for _, d := range r.dags {
			if prev, dup := b.DAGs[d.ID]; dup {
				diags = append(diags, duplicateDiag("DAG", d.ID, prev.Range, d.Range))
			}
		}
	}
	if diags.HasErrors() {
		b.Errors[path] = diags
		return
	}
	for _, d := range r.dags {
		b.DAGs[d.ID] = d
	}
}

// FormatErrors writes every file's diagnostics with source snippets, files
// in lexical order. Write errors are ignored: this is a best-effort report
// to a terminal or log.
func (b *Bag) FormatErrors(w io.Writer, color bool) {
	wr := hcl.NewDiagnosticTextWriter(w, b.Files, 0, color)
	for _, path := range slices.Sorted(maps.Keys(b.Errors)) {
		_ = wr.WriteDiagnostics(b.Errors[path])
	}
}
