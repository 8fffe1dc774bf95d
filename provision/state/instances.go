package state

import (
	"slices"
)

// Resource returns the resource that addr (its key ignored) names, or nil.
func (s *State) Resource(addr Address) *Resource {
	i := s.resourceIndex(addr)
	if i < 0 {
		return nil
	}
	return s.Resources[i]
}

func (s *State) resourceIndex(addr Address) int {
	want := addr.Resource().normal()
	return slices.IndexFunc(s.Resources, func(r *Resource) bool { return r.Addr() == want })
}

// Addr is the address of the whole resource.
func (r *Resource) Addr() Address {
	return Address{Mode: r.Mode, Type: r.Type, Name: r.Name}.normal()
}

// Instance returns the instance with the given key, or nil.
func (r *Resource) Instance(k IndexKey) *Instance {
	for _, in := range r.Instances {
		if in.IndexKey == k {
			return in
		}
	}
	return nil
}

// Instance returns the instance at addr, or nil. The returned pointer is the
// state's own: changes to it change the state.
func (s *State) Instance(addr Address) *Instance {
	r := s.Resource(addr)
	if r == nil {
		return nil
	}
	return r.Instance(addr.Key)
}

// SetInstance stores inst at addr, replacing any instance already there and
// creating the resource if needed (recording provider; an empty provider
// keeps the one already recorded). inst.IndexKey is set from addr.
func (s *State) SetInstance(addr Address, provider string, inst *Instance) {
	inst.IndexKey = addr.Key
	r := s.Resource(addr)
	if r == nil {
		r = &Resource{Mode: addr.mode(), Type: addr.Type, Name: addr.Name}
		s.Resources = append(s.Resources, r)
	}
	if provider != "" {
		r.Provider = provider
	}
	for i, old := range r.Instances {
		if old.IndexKey == addr.Key {
			r.Instances[i] = inst
			return
		}
	}
	r.Instances = append(r.Instances, inst)
}

// RemoveInstance deletes the instance at addr and reports whether it was
// there. A resource left without instances is removed too, so `state list`
// never shows empty entries.
func (s *State) RemoveInstance(addr Address) bool {
	ri := s.resourceIndex(addr)
	if ri < 0 {
		return false
	}
	r := s.Resources[ri]
	n := len(r.Instances)
	r.Instances = slices.DeleteFunc(r.Instances, func(in *Instance) bool { return in.IndexKey == addr.Key })
	if len(r.Instances) == 0 {
		s.Resources = slices.Delete(s.Resources, ri, ri+1)
	}
	return len(r.Instances) != n
}

// RemoveResource deletes a resource with all its instances.
func (s *State) RemoveResource(addr Address) bool {
	ri := s.resourceIndex(addr)
	if ri < 0 {
		return false
	}
	s.Resources = slices.Delete(s.Resources, ri, ri+1)
	return true
}

// Addresses lists every instance address in `state list` order.
func (s *State) Addresses() []Address {
	var out []Address
	for _, r := range s.Resources {
		for _, in := range r.Instances {
			out = append(out, r.Addr().Instance(in.IndexKey))
		}
	}
	slices.SortFunc(out, compareAddr)
	return out
}
