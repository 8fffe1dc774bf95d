package dag

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
)

func TestTmpHeap(t *testing.T) {
	runtime.MemProfileRate = 512
	dir := t.TempDir()
	writeDAGFiles(t, dir, 1000, 10)
	b, _ := LoadDir(context.Background(), dir)
	runtime.GC()
	f, _ := os.Create("/tmp/heap.out")
	pprof.WriteHeapProfile(f)
	f.Close()
	runtime.KeepAlive(b)
}
