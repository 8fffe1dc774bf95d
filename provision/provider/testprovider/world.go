package testprovider

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/airctl/airctl/provision/provider"
)

// ErrAlreadyExists is returned when creating an object whose name is taken
// by another object of the same type, as a cloud API's 409 would: it is
// how engine tests detect a duplicate create after an interrupted apply.
var ErrAlreadyExists = errors.New("already exists")

// ErrNotFound is returned for an ID the world does not hold.
var ErrNotFound = errors.New("not found")

// Object is one thing in the in-memory cloud.
type Object struct {
	ID    string
	Type  string
	Name  string
	Value cty.Value // the full state the provider reports for it
}

// World is the in-memory "cloud" behind test providers: objects by ID,
// names unique per type. Several providers may share one World.
type World struct {
	mu      sync.Mutex
	objects map[string]Object
	seq     int
	lookups map[string]string
}

// NewWorld returns an empty world.
func NewWorld() *World {
	return &World{objects: map[string]Object{}, lookups: map[string]string{}}
}

// Get returns the object with id.
func (w *World) Get(id string) (Object, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	o, ok := w.objects[id]
	return o, ok
}

// ByName returns the object of typeName called name.
func (w *World) ByName(typeName, name string) (Object, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.byNameLocked(typeName, name)
}

func (w *World) byNameLocked(typeName, name string) (Object, bool) {
	for _, o := range w.objects {
		if o.Type == typeName && o.Name == name {
			return o, true
		}
	}
	return Object{}, false
}

// Objects lists every object, ordered by type then name.
func (w *World) Objects() []Object {
	w.mu.Lock()
	out := make([]Object, 0, len(w.objects))
	for _, o := range w.objects {
		out = append(out, o)
	}
	w.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Len is the number of objects.
func (w *World) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.objects)
}

// SetLookup sets what the test_lookup data source returns for name.
func (w *World) SetLookup(name, value string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lookups[name] = value
}

func (w *World) lookup(name string) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	v, ok := w.lookups[name]
	return v, ok
}

// MutateOutside changes attributes of an object behind airctl's back, so
// the next refresh sees drift.
func (w *World) MutateOutside(id string, attrs map[string]cty.Value) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	o, ok := w.objects[id]
	if !ok {
		return fmt.Errorf("mutate %s: %w", id, ErrNotFound)
	}
	ty := o.Value.Type()
	converted := make(map[string]cty.Value, len(attrs))
	for name, v := range attrs {
		if !ty.HasAttribute(name) {
			return fmt.Errorf("mutate %s: %s has no attribute %q", id, o.Type, name)
		}
		cv, err := convert.Convert(v, ty.AttributeType(name))
		if err != nil {
			return fmt.Errorf("mutate %s: attribute %s: %w", id, name, err)
		}
		converted[name] = cv
	}
	o.Value = provider.SetAttrs(o.Value, converted)
	o.Name = provider.String(o.Value, "name")
	w.objects[id] = o
	return nil
}

// DeleteOutside removes an object behind airctl's back.
func (w *World) DeleteOutside(id string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.objects[id]; !ok {
		return fmt.Errorf("delete %s: %w", id, ErrNotFound)
	}
	delete(w.objects, id)
	return nil
}

// create stores a new object built by build from its new ID; the name must
// be free.
func (w *World) create(typeName, name string, build func(id string) cty.Value) (Object, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if o, taken := w.byNameLocked(typeName, name); taken {
		return Object{}, fmt.Errorf("%s %q %w (id %s); import it with: airctl import ADDR %s", typeName, name, ErrAlreadyExists, o.ID, o.ID)
	}
	w.seq++
	id := typeName + "-" + strconv.Itoa(w.seq)
	o := Object{ID: id, Type: typeName, Name: name, Value: build(id)}
	w.objects[id] = o
	return o, nil
}

func (w *World) update(id string, v cty.Value) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	o, ok := w.objects[id]
	if !ok {
		return fmt.Errorf("update %s: %w", id, ErrNotFound)
	}
	o.Value = v
	w.objects[id] = o
	return nil
}

// remove deletes id; an object already gone is not an error, as with a
// cloud API's 404 on delete.
func (w *World) remove(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.objects, id)
}
