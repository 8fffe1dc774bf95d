package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Encode returns the canonical JSON form of s: resources, instances, output
// names, attribute object keys, sensitive paths and dependencies are sorted
// and indentation is fixed, so the same state always gives the same bytes
// (clean diffs in version control, and byte comparison for Equal).
func Encode(s *State) ([]byte, error) {
	c := s.DeepCopy()
	if err := c.normalize(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// URLs and shell snippets are common in attributes; keep them readable.
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	return buf.Bytes(), nil
}

// Decode parses and validates a state document.
func Decode(data []byte) (*State, error) {
	var probe struct {
		Version          int     `json:"version"`
		TerraformVersion *string `json:"terraform_version"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("state is not valid JSON: %w", err)
	}
	if err := checkVersion(probe.Version, probe.TerraformVersion != nil); err != nil {
		return nil, err
	}
	var s State
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("state does not match airctl's state format %d: %w", FormatVersion, err)
	}
	if err := s.normalize(); err != nil {
		return nil, err
	}
	return &s, nil
}

func checkVersion(v int, terraform bool) error {
	switch {
	case terraform:
		return fmt.Errorf("this is a Terraform state file (format %d), not airctl state: bring existing resources under airctl with `airctl import ADDR ID`", v)
	case v == FormatVersion:
		return nil
	case v > FormatVersion:
		return fmt.Errorf("state format %d was written by a newer airctl (this one reads format %d): upgrade airctl", v, FormatVersion)
	}
	return fmt.Errorf("state format version %d is not supported (want %d)", v, FormatVersion)
}

// normalize validates s and puts it into canonical order in place.
func (s *State) normalize() error {
	if s.Version == 0 {
		s.Version = FormatVersion
	}
	if s.Outputs == nil {
		s.Outputs = map[string]Output{}
	}
	if s.Resources == nil {
		s.Resources = []*Resource{}
	}
	for name, o := range s.Outputs {
		n, err := normalizeOutput(o)
		if err != nil {
			return fmt.Errorf("output %q: %w", name, err)
		}
		s.Outputs[name] = n
	}
	for _, r := range s.Resources {
		if err := r.normalize(); err != nil {
			return err
		}
	}
	slices.SortFunc(s.Resources, func(a, b *Resource) int { return compareAddr(a.Addr(), b.Addr()) })
	return checkDuplicates(s.Resources)
}

func (r *Resource) normalize() error {
	if r.Mode == "" {
		r.Mode = Managed
	}
	if r.Mode != Managed && r.Mode != Data {
		return fmt.Errorf("resource %s.%s: mode %q is neither %q nor %q", r.Type, r.Name, r.Mode, Managed, Data)
	}
	if r.Type == "" || r.Name == "" {
		return fmt.Errorf("a resource in state has an empty type or name (%q.%q)", r.Type, r.Name)
	}
	if r.Instances == nil {
		r.Instances = []*Instance{}
	}
	for _, in := range r.Instances {
		if err := in.normalize(); err != nil {
			return fmt.Errorf("%s: %w", r.Addr().Instance(in.IndexKey), err)
		}
	}
	slices.SortFunc(r.Instances, func(a, b *Instance) int { return compareAddr(Address{Key: a.IndexKey}, Address{Key: b.IndexKey}) })
	return nil
}

func (in *Instance) normalize() error {
	attrs, err := canonicalJSON(in.Attributes, "{}")
	if err != nil {
		return fmt.Errorf("attributes: %w", err)
	}
	if attrs[0] != '{' {
		return errors.New("attributes must be a JSON object")
	}
	in.Attributes = attrs
	in.SensitiveAttributes = sortedSet(in.SensitiveAttributes)
	in.Dependencies = sortedSet(in.Dependencies)
	switch {
	case in.Status != "" && in.Status != Tainted && in.Status != Creating:
		return fmt.Errorf("status %q is not %q or %q", in.Status, Tainted, Creating)
	case in.Status == Creating && in.ImportID == "":
		return fmt.Errorf("status %q needs an import_id", Creating)
	}
	return nil
}

func normalizeOutput(o Output) (Output, error) {
	var err error
	if o.Value, err = canonicalJSON(o.Value, "null"); err != nil {
		return o, fmt.Errorf("value: %w", err)
	}
	if o.Type, err = canonicalJSON(o.Type, `"dynamic"`); err != nil {
		return o, fmt.Errorf("type: %w", err)
	}
	return o, nil
}

// canonicalJSON re-encodes raw with sorted object keys and no insignificant
// space. Numbers keep their exact text (json.Number), so large IDs survive.
func canonicalJSON(raw json.RawMessage, empty string) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return json.RawMessage(empty), nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return json.RawMessage(bytes.TrimRight(buf.Bytes(), "\n")), nil
}

func sortedSet(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}

func checkDuplicates(rs []*Resource) error {
	for i := 1; i < len(rs); i++ {
		if rs[i].Addr() == rs[i-1].Addr() {
			return fmt.Errorf("state lists resource %s twice", rs[i].Addr())
		}
	}
	for _, r := range rs {
		for i := 1; i < len(r.Instances); i++ {
			if r.Instances[i].IndexKey == r.Instances[i-1].IndexKey {
				return fmt.Errorf("state lists %s twice", r.Addr().Instance(r.Instances[i].IndexKey))
			}
		}
	}
	return nil
}
