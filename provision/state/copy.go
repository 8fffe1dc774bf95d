package state

import (
	"bytes"
	"encoding/json"
	"slices"
)

// DeepCopy returns a copy that shares no memory with s, so a backend can keep
// what it stored while the engine goes on changing its own state.
func (s *State) DeepCopy() *State {
	if s == nil {
		return nil
	}
	c := *s
	c.Outputs = make(map[string]Output, len(s.Outputs))
	for k, o := range s.Outputs {
		c.Outputs[k] = o.DeepCopy()
	}
	c.Resources = make([]*Resource, len(s.Resources))
	for i, r := range s.Resources {
		c.Resources[i] = r.DeepCopy()
	}
	return &c
}

// DeepCopy copies a resource and its instances.
func (r *Resource) DeepCopy() *Resource {
	c := *r
	c.Instances = make([]*Instance, len(r.Instances))
	for i, in := range r.Instances {
		c.Instances[i] = in.DeepCopy()
	}
	return &c
}

// DeepCopy copies an instance.
func (in *Instance) DeepCopy() *Instance {
	c := *in
	c.Attributes = bytes.Clone(in.Attributes)
	c.SensitiveAttributes = slices.Clone(in.SensitiveAttributes)
	c.Dependencies = slices.Clone(in.Dependencies)
	return &c
}

// DeepCopy copies an output.
func (o Output) DeepCopy() Output {
	o.Value = bytes.Clone(o.Value)
	o.Type = bytes.Clone(o.Type)
	return o
}

// Equal reports whether a and b record the same infrastructure. Serial and
// AirctlVersion are ignored; resource and instance order, duplicate
// dependencies and key order inside attributes do not matter. Backends use it
// to skip writes when nothing changed (a no-op apply must not bump serial and
// so invalidate saved plans). It runs on every state write, so JSON values are
// compared byte for byte first and only canonicalised when the bytes differ.
func Equal(a, b *State) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Lineage == b.Lineage && outputsEqual(a.Outputs, b.Outputs) && resourcesEqual(a.Resources, b.Resources)
}

func outputsEqual(a, b map[string]Output) bool {
	if len(a) != len(b) {
		return false
	}
	for name, oa := range a {
		ob, ok := b[name]
		if !ok || oa.Sensitive != ob.Sensitive || !jsonEqual(oa.Value, ob.Value, "null") || !jsonEqual(oa.Type, ob.Type, `"dynamic"`) {
			return false
		}
	}
	return true
}

func resourcesEqual(a, b []*Resource) bool {
	ia, ib := indexInstances(a), indexInstances(b)
	if ia == nil || ib == nil || len(ia) != len(ib) {
		return false
	}
	for k, x := range ia {
		y, ok := ib[k]
		if !ok || x.provider != y.provider || !instanceEqual(x.inst, y.inst) {
			return false
		}
	}
	return true
}

type placed struct {
	provider string
	inst     *Instance
}

// indexInstances maps every instance address to its instance; nil if an
// address appears twice (such a state is invalid and never equal).
func indexInstances(rs []*Resource) map[Address]placed {
	m := make(map[Address]placed)
	for _, r := range rs {
		for _, in := range r.Instances {
			addr := r.Addr().Instance(in.IndexKey)
			if _, dup := m[addr]; dup {
				return nil
			}
			m[addr] = placed{r.Provider, in}
		}
	}
	return m
}

func instanceEqual(a, b *Instance) bool {
	return a.Status == b.Status && a.ImportID == b.ImportID && a.CreateBeforeDestroy == b.CreateBeforeDestroy &&
		slices.Equal(sortedSet(a.SensitiveAttributes), sortedSet(b.SensitiveAttributes)) &&
		slices.Equal(sortedSet(a.Dependencies), sortedSet(b.Dependencies)) &&
		jsonEqual(a.Attributes, b.Attributes, "{}")
}

func jsonEqual(a, b json.RawMessage, empty string) bool {
	if bytes.Equal(a, b) {
		return true
	}
	ca, errA := canonicalJSON(a, empty)
	cb, errB := canonicalJSON(b, empty)
	return errA == nil && errB == nil && bytes.Equal(ca, cb)
}
