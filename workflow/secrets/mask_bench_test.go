package secrets

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// BenchmarkMaskWriter streams a task log with 100 registered secrets
// through a masking writer and reports its time per byte as a ratio to
// copying the same log unmasked, measured in the same run.
func BenchmarkMaskWriter(b *testing.B) {
	var secrets []string
	for i := range 100 {
		secrets = append(secrets, fmt.Sprintf("secret-value-%03d-xyz", i))
	}
	m := NewMasker(secrets...)
	var log strings.Builder
	for i := 0; log.Len() < 1<<20; i++ {
		fmt.Fprintf(&log, "[2026-01-01T00:00:00Z] step %d: connecting as etl to db.internal:5432 with %s\n", i, secrets[i%len(secrets)])
	}
	lines := strings.SplitAfter(log.String(), "\n")
	write := func(w io.Writer) {
		for _, l := range lines {
			w.Write([]byte(l))
		}
	}
	var base, masked time.Duration
	b.SetBytes(int64(log.Len()))
	for b.Loop() {
		start := time.Now()
		write(io.Discard)
		base += time.Since(start)
		start = time.Now()
		w := m.Writer(io.Discard)
		write(w)
		w.Close()
		masked += time.Since(start)
	}
	b.ReportMetric(float64(masked)/float64(max(base, 1)), "x_vs_unmasked")
	b.ReportMetric(float64(log.Len())*float64(b.N)/masked.Seconds()/1e6, "masked_MB/s")
}
