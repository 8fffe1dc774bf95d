package dag

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLoaderReparsesOnlyChangedFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, id string) {
		t.Helper()
		src := "dag \"" + id + "\" {\n  task \"t\" { command = \"true\" }\n}\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.hcl", "a")
	write("b.hcl", "b")
	var l Loader
	ctx := context.Background()
	b1, changed, err := l.Load(ctx, dir)
	if err != nil || !changed || len(b1.DAGs) != 2 {
		t.Fatalf("first load: %v changed=%v dags=%d", err, changed, len(b1.DAGs))
	}
	b2, changed, err := l.Load(ctx, dir)
	if err != nil || changed || b2.DAGs["a"] != b1.DAGs["a"] {
		t.Fatalf("unchanged folder: err %v changed=%v, same DAG object %v", err, changed, b2.DAGs["a"] == b1.DAGs["a"])
	}
	write("b.hcl", "b2")
	// Ensure a different mtime even on coarse-grained filesystems.
	future := time.Now().Add(time.Minute)
	if err := os.Chtimes(filepath.Join(dir, "b.hcl"), future, future); err != nil {
		t.Fatal(err)
	}
	b3, changed, err := l.Load(ctx, dir)
	if err != nil || !changed || b3.DAGs["b2"] == nil || b3.DAGs["b"] != nil || b3.DAGs["a"] != b1.DAGs["a"] {
		t.Fatalf("after edit: err %v changed=%v dags=%v", err, changed, b3.DAGs)
	}
	if err := os.Remove(filepath.Join(dir, "a.hcl")); err != nil {
		t.Fatal(err)
	}
	b4, changed, err := l.Load(ctx, dir)
	if err != nil || !changed || len(b4.DAGs) != 1 {
		t.Fatalf("after removal: err %v changed=%v dags=%d", err, changed, len(b4.DAGs))
	}
}
