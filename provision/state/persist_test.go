package state

import (
	"errors"
	"testing"
)

func TestPrepareRules(t *testing.T) {
	stored := sample(t) // serial 4
	t.Run("first write keeps a migrated lineage and serial", func(t *testing.T) {
		snap, err := Prepare(nil, stored, false)
		if err != nil || snap.Lineage != stored.Lineage || snap.Serial != 4 {
			t.Fatalf("Prepare(nil, …) = %+v, %v", snap, err)
		}
	})
	t.Run("first write of a new state", func(t *testing.T) {
		snap, err := Prepare(nil, New("v"), false)
		if err != nil || snap.Serial != 1 || len(snap.Lineage) != 36 {
			t.Fatalf("Prepare(nil, New) = %+v, %v", snap, err)
		}
	})
	t.Run("unchanged", func(t *testing.T) {
		if snap, err := Prepare(stored, sample(t), false); snap != nil || err != nil {
			t.Fatalf("Prepare of an equal state = %+v, %v; want nothing to write", snap, err)
		}
	})
	t.Run("changed", func(t *testing.T) {
		next := sample(t)
		next.RemoveInstance(MustParseAddress("data.google_project.p"))
		snap, err := Prepare(stored, next, false)
		if err != nil || snap.Serial != 5 || next.Serial != 4 {
			t.Fatalf("Prepare = %+v, %v; want serial 5 and next untouched", snap, err)
		}
	})
	t.Run("stale", func(t *testing.T) {
		next := sample(t)
		next.Serial = 3
		next.RemoveInstance(MustParseAddress("data.google_project.p"))
		if _, err := Prepare(stored, next, false); !errors.Is(err, ErrStale) {
			t.Fatalf("Prepare of a lower serial = %v", err)
		}
		if snap, err := Prepare(stored, next, true); err != nil || snap.Serial != 5 {
			t.Fatalf("forced Prepare = %+v, %v", snap, err)
		}
	})
	t.Run("lineage", func(t *testing.T) {
		next := sample(t)
		next.Lineage = "other"
		if _, err := Prepare(stored, next, false); !errors.Is(err, ErrLineageMismatch) {
			t.Fatalf("Prepare of another lineage = %v", err)
		}
		next.Lineage = ""
		if snap, err := Prepare(stored, next, false); err != nil || snap != nil {
			t.Fatalf("an empty lineage should continue the stored one: %+v, %v", snap, err)
		}
	})
}
