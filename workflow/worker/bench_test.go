package worker

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/secrets"
)

// BenchmarkCommandTry measures what a command try costs now that its log
// goes through the secret masker, its stdout is also scanned for the last
// line and it gets an output folder, against the plain Exec into the log
// file that tries used before. It reports the ratio as x_plain.
func BenchmarkCommandTry(b *testing.B) {
	dir := b.TempDir()
	spec := Spec{Command: "seq 1 2000; echo done", Env: os.Environ(), KillGrace: time.Second}
	open := func(b *testing.B) *os.File {
		f, err := os.Create(filepath.Join(dir, "try.log"))
		if err != nil {
			b.Fatal(err)
		}
		return f
	}
	measure := func(b *testing.B, try func(f *os.File) Outcome) time.Duration {
		start := time.Now()
		for range b.N {
			f := open(b)
			if o := try(f); !o.OK() {
				b.Fatalf("try failed: %+v", o)
			}
			f.Close()
		}
		return time.Since(start) / time.Duration(b.N)
	}
	var plain time.Duration
	b.Run("plain", func(b *testing.B) {
		plain = measure(b, func(f *os.File) Outcome { return Exec(b.Context(), spec, f) })
	})
	b.Run("masked_output", func(b *testing.B) {
		per := measure(b, func(f *os.File) Outcome {
			m := secrets.NewMasker("s3cret-value", "another-secret")
			log := &lockedWriter{w: m.Writer(f)}
			o := runCommand(b.Context(), spec, log, nil, true, f.Name()+".output")
			if err := log.Close(); err != nil {
				b.Fatal(err)
			}
			return o
		})
		if plain > 0 {
			b.ReportMetric(float64(per)/float64(plain), "x_plain")
		}
	})
}
