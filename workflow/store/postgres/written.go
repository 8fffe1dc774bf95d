package postgres

import (
	"sync"

	"github.com/airctl/airctl/workflow/store"
)

// writtenMax bounds the memory of written: a worker needs an entry only
// between its two updates of a try, so a few thousand cover any
// concurrency.
const writtenMax = 4096

// written remembers, per task instance, the row this process last wrote
// with the version (xmin) the write gave it. A worker updates a task
// instance twice in a row (claim, then finish) and usually nothing touches
// the row in between, so the second update skips the read: it applies fn to
// the remembered row and writes on condition that the version is still the
// same, which proves the copy current. A stale entry costs one write that
// matches no row, then the normal read.
type written struct {
	mu   sync.Mutex
	rows map[store.TIKey]versionedTI
}

type versionedTI struct {
	ti      store.TaskInstance
	version uint32
}

// take returns and forgets the row last written for k.
func (w *written) take(k store.TIKey) (versionedTI, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	v, ok := w.rows[k]
	delete(w.rows, k)
	return v, ok
}

func (w *written) put(ti store.TaskInstance, version uint32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.rows == nil {
		w.rows = map[store.TIKey]versionedTI{}
	}
	if len(w.rows) >= writtenMax {
		for k := range w.rows { // any entry: it is only a hint
			delete(w.rows, k)
			break
		}
	}
	w.rows[ti.TIKey] = versionedTI{ti, version}
}
