package secrets

import (
	"io"
	"sync"
)

// Mask replaces every secret in masked output.
const Mask = "***"

// MinSecretLen is the shortest value a Masker hides: masking every "a" or
// "1" would make logs unreadable while hiding nothing worth guessing.
const MinSecretLen = 4

// Masker replaces known secret values with Mask. It is safe for concurrent
// use; secrets added later apply to writers already open.
//
// The secrets form a byte trie, so scanning costs one table lookup per
// byte that cannot start a secret and a short walk where one may, however
// many secrets there are.
type Masker struct {
	mu   sync.RWMutex
	root [256]*trieNode
}

type trieNode struct {
	next map[byte]*trieNode
	end  bool // a secret ends here
}

// NewMasker returns a masker for secrets.
func NewMasker(secrets ...string) *Masker {
	m := &Masker{}
	for _, s := range secrets {
		m.Add(s)
	}
	return m
}

// Add registers one more secret; values shorter than MinSecretLen are
// ignored.
func (m *Masker) Add(s string) {
	if len(s) < MinSecretLen {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.root[s[0]]
	if n == nil {
		n = &trieNode{}
		m.root[s[0]] = n
	}
	for i := 1; i < len(s); i++ {
		if n.next == nil {
			n.next = map[byte]*trieNode{}
		}
		c := n.next[s[i]]
		if c == nil {
			c = &trieNode{}
			n.next[s[i]] = c
		}
		n = c
	}
	n.end = true
}

// Empty reports whether no secret is registered, so nothing would be masked.
func (m *Masker) Empty() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, n := range m.root {
		if n != nil {
			return false
		}
	}
	return true
}

// String returns s with every secret masked.
func (m *Masker) String(s string) string {
	out, _ := m.mask(nil, []byte(s), true)
	return string(out)
}

// mask appends buf to out with secrets masked, leftmost-longest. Unless
// final, it stops at the first position where buf's tail could still grow
// into a secret (or a longer one), and returns that tail to keep for the
// next call.
func (m *Masker) mask(out, buf []byte, final bool) ([]byte, []byte) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	plain := 0 // start of the bytes not yet copied to out
	for i := 0; i < len(buf); i++ {
		if m.root[buf[i]] == nil {
			continue
		}
		n, wait := m.matchAt(buf[i:], final)
		switch {
		case wait:
			return append(out, buf[plain:i]...), buf[i:]
		case n > 0:
			out = append(append(out, buf[plain:i]...), Mask...)
			i += n - 1
			plain = i + 1
		}
	}
	return append(out, buf[plain:]...), nil
}

// matchAt returns the length of the longest secret at the start of b, or
// wait if b ends inside the trie, so a secret (or a longer one) may still
// complete once more bytes arrive.
func (m *Masker) matchAt(b []byte, final bool) (n int, wait bool) {
	node := m.root[b[0]]
	j := 1
	if node.end {
		n = 1
	}
	for ; j < len(b); j++ {
		c := node.next[b[j]]
		if c == nil {
			return n, false
		}
		node = c
		if node.end {
			n = j + 1
		}
	}
	return n, !final && len(node.next) > 0
}

// Writer returns a writer that masks secrets in everything written through
// it to w, also when a secret is split across writes. It holds back less
// than the longest secret, and only while the output ends with what could
// be the start of a secret; Close writes what is
// held back (it does not close w).
func (m *Masker) Writer(w io.Writer) io.WriteCloser {
	return &maskWriter{m: m, w: w}
}

type maskWriter struct {
	m       *Masker
	w       io.Writer
	mu      sync.Mutex
	pending []byte
	out     []byte
}

// Write reports len(p) once p is accepted: bytes held back are written
// later, so a short count would be misleading.
func (mw *maskWriter) Write(p []byte) (int, error) {
	mw.mu.Lock()
	defer mw.mu.Unlock()
	buf := p // no copy unless a tail is pending
	if len(mw.pending) > 0 {
		buf = append(mw.pending, p...)
	}
	return len(p), mw.flush(buf, false)
}

func (mw *maskWriter) Close() error {
	mw.mu.Lock()
	defer mw.mu.Unlock()
	return mw.flush(mw.pending, true)
}

func (mw *maskWriter) flush(buf []byte, final bool) error {
	var rest []byte
	mw.out, rest = mw.m.mask(mw.out[:0], buf, final)
	// rest aliases buf, which may be pending or the caller's p: copy it.
	mw.pending = append(mw.pending[:0:0], rest...)
	if len(mw.out) == 0 {
		return nil
	}
	_, err := mw.w.Write(mw.out)
	return err
}
