package dag

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Loader reloads a DAG folder repeatedly, re-parsing only the files whose
// size or modification time changed since its last load: the scheduler
// rescans every parse interval, and most scans find nothing new.
type Loader struct {
	mu    sync.Mutex
	cache map[string]cachedFile
}

type cachedFile struct {
	size int64
	mod  time.Time
	res  fileResult
}

// Load returns the folder's DAGs and whether any file was added, changed
// or removed since the previous Load (always true the first time).
func (l *Loader) Load(ctx context.Context, dir string) (*Bag, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	paths, walkErrs, err := findFiles(dir)
	if err != nil {
		return nil, false, err
	}
	next, stale := l.reuse(paths)
	results, err := parseAll(ctx, stale)
	if err != nil {
		return nil, false, fmt.Errorf("load DAGs from %s: %w", dir, err)
	}
	for i, path := range stale {
		next[path] = cachedFile{size: results[i].size, mod: results[i].mod, res: results[i]}
	}
	changed := l.cache == nil || len(stale) > 0 || len(next) != len(l.cache)
	l.cache = next
	b := &Bag{DAGs: map[string]*DAG{}, Errors: walkErrs, Files: map[string]*hcl.File{}}
	for _, path := range paths {
		b.add(path, next[path].res)
	}
	return b, changed || len(walkErrs) > 0, nil
}

// reuse keeps cached results of unchanged files and lists the rest.
func (l *Loader) reuse(paths []string) (map[string]cachedFile, []string) {
	next := make(map[string]cachedFile, len(paths))
	var stale []string
	for _, path := range paths {
		fi, err := os.Stat(path)
		c, ok := l.cache[path]
		if err == nil && ok && c.size == fi.Size() && c.mod.Equal(fi.ModTime()) {
			next[path] = c
			continue
		}
		stale = append(stale, path)
	}
	return next, stale
}
