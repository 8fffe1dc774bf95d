package dag

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// benchDir generates 1,000 DAG files of 10 tasks; setup is not timed.
func benchDir(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	writeDAGFiles(b, dir, 1000, 10)
	return dir
}

// BenchmarkLoadDir1000 is the full load of a 1,000-file DAG folder.
// Compare with BenchmarkReadFiles1000, the I/O floor on the same files.
func BenchmarkLoadDir1000(b *testing.B) {
	dir := benchDir(b)
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		bag, err := LoadDir(context.Background(), dir)
		if err != nil {
			b.Fatal(err)
		}
		if len(bag.DAGs) != 1000 || len(bag.Errors) != 0 {
			b.Fatalf("loaded %d DAGs, %d bad files", len(bag.DAGs), len(bag.Errors))
		}
	}
	reportCPU(b, cpu)
}

// BenchmarkReload1000Unchanged is the scheduler's periodic rescan of the
// same folder when nothing changed: stat calls only, no parsing.
func BenchmarkReload1000Unchanged(b *testing.B) {
	dir := benchDir(b)
	var l Loader
	if _, _, err := l.Load(context.Background(), dir); err != nil {
		b.Fatal(err)
	}
	cpu := processCPU()
	for b.Loop() {
		bag, changed, err := l.Load(context.Background(), dir)
		if err != nil || changed || len(bag.DAGs) != 1000 {
			b.Fatalf("reload: %v changed=%v dags=%d", err, changed, len(bag.DAGs))
		}
	}
	reportCPU(b, cpu)
}

// reportCPU reports the process CPU time per op since start, in ms; with
// GOMAXPROCS workers the wall time on an idle machine is about this
// divided by the number of cores.
func reportCPU(b *testing.B, start time.Duration) {
	if b.N > 0 {
		b.ReportMetric(float64(processCPU()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	}
}

// BenchmarkReadFiles1000 is the baseline: walking and reading the same
// files sequentially with os.ReadFile, without parsing.
func BenchmarkReadFiles1000(b *testing.B) {
	dir := benchDir(b)
	paths, _, err := findFiles(dir)
	if err != nil || len(paths) != 1000 {
		b.Fatalf("found %d files: %v", len(paths), err)
	}
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		paths, _, err := findFiles(dir)
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range paths {
			if _, err := os.ReadFile(filepath.Clean(p)); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportCPU(b, cpu)
}

// BenchmarkParseFile is one generated 10-task file, for per-file cost.
func BenchmarkParseFile(b *testing.B) {
	src := []byte(genDAGFile(1, 10))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, diags := ParseFile("bench.hcl", src); diags.HasErrors() {
			b.Fatal(diags.Error())
		}
	}
}

// BenchmarkNextInterval is the scheduler's per-DAG hot call.
func BenchmarkNextInterval(b *testing.B) {
	d := mustParseOne(b, genDAGFile(1, 1))
	now := d.StartDate.AddDate(1, 0, 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := d.NextInterval(nil, now); !ok {
			b.Fatal("no interval")
		}
	}
}
