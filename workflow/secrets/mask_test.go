package secrets

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

func TestMaskString(t *testing.T) {
	m := NewMasker("hunter2", "hunter2-long", "p@ss", "abc", "")
	for in, want := range map[string]string{
		"password is hunter2.":     "password is ***.",
		"hunter2-long and hunter2": "*** and ***",
		"hunter2hunter2":           "******",
		"p@sp@ss":                  "p@s***",
		"abc is too short to mask": "abc is too short to mask",
		"no secret here":           "no secret here",
		"hunter":                   "hunter",
		"":                         "",
	} {
		if got := m.String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
}

// writeChunks writes in through a masking writer in the given chunk sizes
// and returns what reached the underlying writer.
func writeChunks(t *testing.T, m *Masker, in string, sizes func() int) string {
	t.Helper()
	var buf bytes.Buffer
	w := m.Writer(&buf)
	for len(in) > 0 {
		n := min(sizes(), len(in))
		if k, err := w.Write([]byte(in[:n])); err != nil || k != n {
			t.Fatalf("Write = %d, %v", k, err)
		}
		in = in[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestWriterAcrossBoundaries(t *testing.T) {
	m := NewMasker("s3cr3t-token", "s3cr3t", "-----BEGIN KEY-----\nMIIB\n-----END KEY-----")
	in := "a s3cr3t, a s3cr3t-token, a s3cr3t-tok, a key:\n-----BEGIN KEY-----\nMIIB\n-----END KEY-----\nend s3cr"
	want := "a ***, a ***, a ***-tok, a key:\n***\nend s3cr"
	if got := m.String(in); got != want {
		t.Fatalf("String = %q, want %q", got, want)
	}
	// Every split of the input in two writes, and byte-by-byte.
	for cut := range len(in) + 1 {
		var buf bytes.Buffer
		w := m.Writer(&buf)
		w.Write([]byte(in[:cut]))
		w.Write([]byte(in[cut:]))
		w.Close()
		if buf.String() != want {
			t.Fatalf("split at %d: got %q, want %q", cut, buf.String(), want)
		}
	}
	if got := writeChunks(t, m, in, func() int { return 1 }); got != want {
		t.Errorf("byte by byte: got %q, want %q", got, want)
	}
}

func TestWriterHoldsBackOnlyPossiblePrefixes(t *testing.T) {
	m := NewMasker("hunter2")
	var buf bytes.Buffer
	w := m.Writer(&buf)
	w.Write([]byte("line one\nuser hun"))
	if got := buf.String(); got != "line one\nuser " {
		t.Errorf("after a possible prefix: written %q, want everything before it", got)
	}
	w.Write([]byte("gry\n"))
	if got := buf.String(); got != "line one\nuser hungry\n" {
		t.Errorf("once the prefix is ruled out: written %q", got)
	}
	w.Write([]byte("hunte"))
	w.Close()
	if got := buf.String(); got != "line one\nuser hungry\nhunte" {
		t.Errorf("Close did not flush the held-back tail: %q", got)
	}
}

func TestWriterManySecrets(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = "abcdef" // small, so secrets overlap and share prefixes
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	var secrets []string
	for range 1000 {
		secrets = append(secrets, word(4+r.IntN(12)))
	}
	m := NewMasker(secrets...)
	var in strings.Builder
	for range 2000 {
		if r.IntN(3) == 0 {
			in.WriteString(secrets[r.IntN(len(secrets))])
		} else {
			in.WriteString(word(r.IntN(8)))
		}
		in.WriteByte(" \n"[r.IntN(2)])
	}
	want := m.String(in.String())
	for _, s := range secrets {
		if strings.Contains(want, s) {
			t.Fatalf("masked output still contains secret %q", s)
		}
	}
	for i := range 20 {
		got := writeChunks(t, m, in.String(), func() int { return 1 + r.IntN(40) })
		if got != want {
			t.Fatalf("random chunking %d differs from String", i)
		}
	}
}

// Secrets added while a writer is open apply from then on, and Add is safe
// to call concurrently with writes (run with -race).
func TestAddWhileWriting(t *testing.T) {
	m := NewMasker()
	var buf bytes.Buffer
	w := m.Writer(&buf)
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() { m.Add(fmt.Sprintf("secret-%d", i)) })
		wg.Go(func() { fmt.Fprintf(w, "line %d\n", i) })
	}
	wg.Wait()
	fmt.Fprint(w, "secret-7 done\n")
	w.Close()
	if !strings.HasSuffix(buf.String(), "*** done\n") {
		t.Errorf("a secret added before the write was not masked: %q", buf.String())
	}
}

func TestMaskerEmpty(t *testing.T) {
	m := NewMasker("ab") // shorter than MinSecretLen: ignored
	if !m.Empty() {
		t.Fatal("a masker with no secret long enough is not empty")
	}
	m.Add("s3cret-value")
	if m.Empty() {
		t.Fatal("a masker with a secret says it is empty")
	}
}
