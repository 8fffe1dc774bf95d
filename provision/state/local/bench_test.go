package local

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/airctl/airctl/provision/state"
	"github.com/airctl/airctl/provision/state/statetest"
)

// BenchmarkWrite1000 is one state write after a resource operation in a
// 1,000-resource apply: the engine does this after every operation.
func BenchmarkWrite1000(b *testing.B) {
	be, err := New(filepath.Join(b.TempDir(), DefaultFile))
	if err != nil {
		b.Fatal(err)
	}
	s := statetest.Sample()
	for i := range 1000 {
		statetest.Touch(s, fmt.Sprintf("r%d", i))
	}
	if err := be.Write(b.Context(), s); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i++
		s.Instance(state.MustParseAddress("terraform_data.r1")).Dependencies = []string{fmt.Sprint(i)}
		if err := be.Write(b.Context(), s); err != nil {
			b.Fatal(err)
		}
	}
}
