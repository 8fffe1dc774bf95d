package provision

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
	ctymsgpack "github.com/zclconf/go-cty/cty/msgpack"

	"github.com/airctl/airctl/provision/marks"
	"github.com/airctl/airctl/provision/provider"
	"github.com/airctl/airctl/provision/state"
)

// planFileVersion is bumped when the saved plan format changes; an
// airctl refuses plan files of another version.
const planFileVersion = 1

// planFile is the saved form of a Plan (`plan -out`). Values go through
// msgpack, which, unlike JSON, keeps unknown values.
type planFile struct {
	Version      int                    `json:"version"`
	ConfigHash   string                 `json:"config_hash"`
	PriorLineage string                 `json:"prior_lineage"`
	PriorSerial  uint64                 `json:"prior_serial"`
	Destroy      bool                   `json:"destroy,omitempty"`
	Targets      []string               `json:"targets,omitempty"`
	Replace      []string               `json:"replace,omitempty"`
	Variables    map[string]savedValue  `json:"variables"`
	Changes      []savedChange          `json:"changes"`
	Outputs      map[string]savedOutput `json:"outputs,omitempty"`
}

type savedValue struct {
	Type      json.RawMessage `json:"type"`
	Value     []byte          `json:"value"`
	Sensitive []string        `json:"sensitive,omitempty"`
}

type savedChange struct {
	Addr                string     `json:"addr"`
	Provider            string     `json:"provider"`
	Action              Action     `json:"action"`
	Before              savedValue `json:"before"`
	After               savedValue `json:"after"`
	ReplacePaths        []string   `json:"replace_paths,omitempty"`
	Reason              string     `json:"reason,omitempty"`
	Dependencies        []string   `json:"dependencies,omitempty"`
	CreateBeforeDestroy bool       `json:"create_before_destroy,omitempty"`
}

type savedOutput struct {
	Before    *savedValue `json:"before,omitempty"`
	After     *savedValue `json:"after,omitempty"`
	Sensitive bool        `json:"sensitive,omitempty"`
}

// WritePlan saves p for a later `apply FILE`.
func WritePlan(w io.Writer, p *Plan) error {
	if p.Errored {
		return fmt.Errorf("cannot save a plan that failed")
	}
	f := planFile{
		Version: planFileVersion, ConfigHash: p.ConfigHash, PriorLineage: p.PriorLineage, PriorSerial: p.PriorSerial,
		Destroy: p.Destroy, Targets: addrStrings(p.Targets), Replace: addrStrings(p.Replace),
		Variables: map[string]savedValue{}, Outputs: map[string]savedOutput{},
	}
	var err error
	for name, v := range p.Variables {
		if f.Variables[name], err = encodeValue(v); err != nil {
			return fmt.Errorf("variable %s: %w", name, err)
		}
	}
	for _, c := range p.Changes {
		sc, err := encodeChange(c)
		if err != nil {
			return fmt.Errorf("%s: %w", c.Addr, err)
		}
		f.Changes = append(f.Changes, sc)
	}
	for _, o := range p.Outputs {
		if f.Outputs[o.Name], err = encodeOutput(o); err != nil {
			return fmt.Errorf("output %s: %w", o.Name, err)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(f)
}

func encodeChange(c *Change) (savedChange, error) {
	sc := savedChange{Addr: c.Addr.String(), Provider: c.Provider, Action: c.Action, Reason: c.Reason, Dependencies: c.Dependencies, CreateBeforeDestroy: c.CreateBeforeDestroy}
	var err error
	if sc.Before, err = encodeValue(c.Before); err != nil {
		return sc, err
	}
	if sc.After, err = encodeValue(c.After); err != nil {
		return sc, err
	}
	for _, p := range c.ReplacePaths {
		sc.ReplacePaths = append(sc.ReplacePaths, state.FormatPath(p))
	}
	return sc, nil
}

func encodeOutput(o *OutputChange) (savedOutput, error) {
	so := savedOutput{Sensitive: o.Sensitive}
	for _, side := range []struct {
		v   cty.Value
		dst **savedValue
	}{{o.Before, &so.Before}, {o.After, &so.After}} {
		if side.v == cty.NilVal {
			continue
		}
		sv, err := encodeValue(side.v)
		if err != nil {
			return so, err
		}
		*side.dst = &sv
	}
	return so, nil
}

func encodeValue(v cty.Value) (savedValue, error) {
	plain, pvms := v.UnmarkDeepWithPaths()
	ty, err := ctyjson.MarshalType(plain.Type())
	if err != nil {
		return savedValue{}, err
	}
	raw, err := ctymsgpack.Marshal(plain, plain.Type())
	if err != nil {
		return savedValue{}, err
	}
	sv := savedValue{Type: ty, Value: raw}
	for _, pvm := range pvms {
		if _, ok := pvm.Marks[marks.Sensitive]; ok {
			sv.Sensitive = append(sv.Sensitive, state.FormatPath(pvm.Path))
		}
	}
	return sv, nil
}

func decodeValue(sv savedValue) (cty.Value, error) {
	ty, err := ctyjson.UnmarshalType(sv.Type)
	if err != nil {
		return cty.NilVal, err
	}
	v, err := ctymsgpack.Unmarshal(sv.Value, ty)
	if err != nil {
		return cty.NilVal, err
	}
	pvms := make([]cty.PathValueMarks, 0, len(sv.Sensitive))
	for _, s := range sv.Sensitive {
		p, err := state.ParsePath(s)
		if err != nil {
			return cty.NilVal, err
		}
		pvms = append(pvms, cty.PathValueMarks{Path: p, Marks: cty.NewValueMarks(marks.Sensitive)})
	}
	return v.MarkWithPaths(pvms), nil
}

func addrStrings(as []state.Address) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.String())
	}
	return out
}

// ReadPlan loads a saved plan. Schemas come from the engine's providers,
// and the plan is refused if the configuration changed since it was made.
func (e *Engine) ReadPlan(r io.Reader) (*Plan, error) {
	var f planFile
	if err := json.NewDecoder(r).Decode(&f); err != nil {
		return nil, fmt.Errorf("read saved plan: %w", err)
	}
	if f.Version != planFileVersion {
		return nil, fmt.Errorf("saved plan has format version %d; this airctl reads version %d: plan again with this airctl", f.Version, planFileVersion)
	}
	hash, err := ConfigHash(e.Config.Dir)
	if err != nil {
		return nil, err
	}
	if hash != f.ConfigHash {
		return nil, fmt.Errorf("%w: the configuration files changed since the plan was made; run plan again", ErrStalePlan)
	}
	return e.decodePlan(f)
}

func (e *Engine) decodePlan(f planFile) (*Plan, error) {
	p := &Plan{ConfigHash: f.ConfigHash, PriorLineage: f.PriorLineage, PriorSerial: f.PriorSerial, Destroy: f.Destroy, Variables: map[string]cty.Value{}}
	var err error
	if p.Targets, err = parseAddrs(f.Targets); err != nil {
		return nil, err
	}
	if p.Replace, err = parseAddrs(f.Replace); err != nil {
		return nil, err
	}
	for name, sv := range f.Variables {
		if p.Variables[name], err = decodeValue(sv); err != nil {
			return nil, fmt.Errorf("saved plan variable %s: %w", name, err)
		}
	}
	for _, sc := range f.Changes {
		c, err := e.decodeChange(sc)
		if err != nil {
			return nil, fmt.Errorf("saved plan change %s: %w", sc.Addr, err)
		}
		p.Changes = append(p.Changes, c)
	}
	if p.Outputs, err = decodeOutputs(f.Outputs); err != nil {
		return nil, err
	}
	p.sort()
	return p, nil
}

func (e *Engine) decodeChange(sc savedChange) (*Change, error) {
	addr, err := state.ParseAddress(sc.Addr)
	if err != nil {
		return nil, err
	}
	c := &Change{Addr: addr, Provider: sc.Provider, Action: sc.Action, Reason: sc.Reason, Dependencies: sc.Dependencies, CreateBeforeDestroy: sc.CreateBeforeDestroy}
	if c.Before, err = decodeValue(sc.Before); err != nil {
		return nil, err
	}
	if c.After, err = decodeValue(sc.After); err != nil {
		return nil, err
	}
	for _, s := range sc.ReplacePaths {
		p, err := state.ParsePath(s)
		if err != nil {
			return nil, err
		}
		c.ReplacePaths = append(c.ReplacePaths, p)
	}
	c.Schema, err = e.schemaOf(c.Provider, addr)
	return c, err
}

func (e *Engine) schemaOf(providerAddr string, addr state.Address) (*provider.Schema, error) {
	typeName := providerAddr
	if i := strings.IndexByte(typeName, '.'); i >= 0 {
		typeName = typeName[:i]
	}
	factory := e.Providers[typeName]
	if factory == nil {
		return nil, fmt.Errorf("provider %q is not available in this airctl", typeName)
	}
	ps := factory().Schema()
	sch := ps.Resources[addr.Type]
	if addr.Mode == state.Data {
		sch = ps.DataSources[addr.Type]
	}
	if sch == nil {
		return nil, fmt.Errorf("provider %s has no %s type %q", typeName, kindWord(addr.Mode), addr.Type)
	}
	return sch, nil
}

func decodeOutputs(in map[string]savedOutput) ([]*OutputChange, error) {
	var out []*OutputChange
	for name, so := range in {
		oc := &OutputChange{Name: name, Sensitive: so.Sensitive, Before: cty.NilVal, After: cty.NilVal}
		for _, side := range []struct {
			sv  *savedValue
			dst *cty.Value
		}{{so.Before, &oc.Before}, {so.After, &oc.After}} {
			if side.sv == nil {
				continue
			}
			v, err := decodeValue(*side.sv)
			if err != nil {
				return nil, fmt.Errorf("saved plan output %s: %w", name, err)
			}
			*side.dst = v
		}
		out = append(out, oc)
	}
	return out, nil
}

func parseAddrs(ss []string) ([]state.Address, error) {
	out := make([]state.Address, 0, len(ss))
	for _, s := range ss {
		a, err := state.ParseAddress(s)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}
