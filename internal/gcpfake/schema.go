package gcpfake

//go:generate go run ./internal/gendiscovery -out schemas/discovery.json

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
)

// discovery.json is the part of the discovery documents shipped in
// google.golang.org/api (compute/v1, sqladmin/v1, storage/v1) that the fake
// serves: method paths and the schemas of their request bodies. Routing by
// these templates keeps the fake on the real REST paths (including quirks such
// as targetHttpsProxies.setUrlMap having no /global/ segment), and validating
// bodies against them gives GCP-like 400s for bad enums and names.
//
//go:embed schemas/discovery.json
var discoveryJSON []byte

type apiDoc struct {
	Revision string                `json:"revision"`
	Root     string                `json:"root"`
	Methods  map[string]methodDoc  `json:"methods"`
	Schemas  map[string]*schemaDoc `json:"schemas"`

	routes []*route
}

type methodDoc struct {
	HTTPMethod string `json:"httpMethod"`
	Path       string `json:"path"`
	Request    string `json:"request"`
}

type schemaDoc struct {
	Type       string                `json:"type"`
	Format     string                `json:"format"`
	Ref        string                `json:"$ref"`
	Enum       []string              `json:"enum"`
	Pattern    string                `json:"pattern"`
	Required   []string              `json:"required"`
	OutputOnly bool                  `json:"out"`
	Items      *schemaDoc            `json:"items"`
	Additional *schemaDoc            `json:"additionalProperties"`
	Properties map[string]*schemaDoc `json:"properties"`
}

type route struct {
	id     string
	method string
	segs   []string // literal segments, or "{param}"
	lits   int      // number of literal segments: more literals win
}

var (
	docsOnce sync.Once
	docs     map[string]*apiDoc
)

// apiDocs parses the embedded discovery subset once.
func apiDocs() map[string]*apiDoc {
	docsOnce.Do(func() {
		if err := json.Unmarshal(discoveryJSON, &docs); err != nil {
			panic(fmt.Sprintf("gcpfake: embedded discovery.json: %v", err))
		}
		for _, d := range docs {
			d.buildRoutes()
		}
	})
	return docs
}

func (d *apiDoc) buildRoutes() {
	for id, m := range d.Methods {
		segs := strings.Split(m.Path, "/")
		r := &route{id: id, method: m.HTTPMethod, segs: segs}
		for _, s := range segs {
			if !strings.HasPrefix(s, "{") {
				r.lits++
			}
		}
		d.routes = append(d.routes, r)
	}
	// Most literal segments first, so images/family/{family} beats
	// images/{image}; ties broken by id for determinism.
	sort.Slice(d.routes, func(i, j int) bool {
		if d.routes[i].lits != d.routes[j].lits {
			return d.routes[i].lits > d.routes[j].lits
		}
		return d.routes[i].id < d.routes[j].id
	})
}

// match finds the method serving httpMethod on rel, a path relative to the
// API root (already split on "/", segments unescaped). pathKnown reports
// whether some method serves that path with another HTTP method.
func (d *apiDoc) match(httpMethod string, rel []string) (id string, params map[string]string, pathKnown bool) {
	for _, r := range d.routes {
		p, ok := r.bind(rel)
		if !ok {
			continue
		}
		if r.method != httpMethod {
			pathKnown = true
			continue
		}
		return r.id, p, true
	}
	return "", nil, pathKnown
}

func (r *route) bind(rel []string) (map[string]string, bool) {
	if len(rel) != len(r.segs) {
		return nil, false
	}
	params := map[string]string{}
	for i, s := range r.segs {
		if strings.HasPrefix(s, "{") {
			if rel[i] == "" {
				return nil, false
			}
			params[strings.Trim(s, "{}+")] = rel[i]
			continue
		}
		if s != rel[i] {
			return nil, false
		}
	}
	return params, true
}

// splitPath splits an escaped URL path into unescaped segments, so that a
// percent-encoded "/" inside a name stays in its segment.
func splitPath(escaped string) ([]string, error) {
	parts := strings.Split(strings.Trim(escaped, "/"), "/")
	for i, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil {
			return nil, fmt.Errorf("bad path segment %q: %w", p, err)
		}
		parts[i] = u
	}
	return parts, nil
}

// validateBody checks a decoded JSON body (numbers as json.Number) against
// the request schema of methodID: enum values, patterns, required fields
// and JSON types, naming the offending field the way GCP does
// ("resource.networkInterfaces[0].accessConfigs[0].type"). Unknown fields
// are reported only when reportUnknown is set: the Go types used for strict
// decoding are the authority on those, this walk merely locates them.
func (d *apiDoc) validateBody(methodID string, body map[string]any, reportUnknown bool) *apiError {
	m, ok := d.Methods[methodID]
	if !ok || m.Request == "" {
		return nil
	}
	v := &validator{doc: d, method: methodID, reportUnknown: reportUnknown}
	return v.object(d.Schemas[m.Request], body, "resource")
}

type validator struct {
	doc           *apiDoc
	method        string
	reportUnknown bool
}

var patternCache sync.Map // pattern → *regexp.Regexp

func anchored(p string) *regexp.Regexp {
	if re, ok := patternCache.Load(p); ok {
		return re.(*regexp.Regexp)
	}
	re := regexp.MustCompile("^(?:" + p + ")$")
	patternCache.Store(p, re)
	return re
}

func (v *validator) resolve(s *schemaDoc) *schemaDoc {
	for s != nil && s.Ref != "" {
		s = v.doc.Schemas[s.Ref]
	}
	return s
}

func (v *validator) object(s *schemaDoc, obj map[string]any, path string) *apiError {
	s = v.resolve(s)
	if s == nil {
		return nil
	}
	if s.Properties == nil && s.Additional != nil {
		for k, val := range obj {
			if err := v.value(s.Additional, val, path+"."+k); err != nil {
				return err
			}
		}
		return nil
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys) // report the first bad field deterministically
	for _, k := range keys {
		p, ok := s.Properties[k]
		if !ok {
			if v.reportUnknown {
				return errInvalid("Invalid JSON payload received. Unknown name %q at '%s': Cannot find field.", k, path)
			}
			continue
		}
		if err := v.value(p, obj[k], path+"."+k); err != nil {
			return err
		}
	}
	for k, p := range s.Properties {
		if slices.Contains(p.Required, v.method) && obj[k] == nil {
			return errRequired(path + "." + k)
		}
	}
	return nil
}

func (v *validator) value(s *schemaDoc, val any, path string) *apiError {
	if val == nil {
		return nil // JSON null clears a field; allowed everywhere
	}
	s = v.resolve(s)
	if s == nil {
		return nil
	}
	switch s.Type {
	case "object", "":
		obj, ok := val.(map[string]any)
		if !ok {
			if s.Type == "" {
				return nil
			}
			return v.typeError(path, "object", val)
		}
		return v.object(s, obj, path)
	case "array":
		arr, ok := val.([]any)
		if !ok {
			return v.typeError(path, "array", val)
		}
		for i, e := range arr {
			if err := v.value(s.Items, e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case "string":
		return v.str(s, val, path)
	case "integer", "number":
		if _, ok := val.(json.Number); !ok {
			return v.typeError(path, s.Type, val)
		}
		return nil
	case "boolean":
		if _, ok := val.(bool); !ok {
			return v.typeError(path, "boolean", val)
		}
		return nil
	}
	return nil
}

func (v *validator) str(s *schemaDoc, val any, path string) *apiError {
	str, ok := val.(string)
	if !ok {
		// 64-bit integers are strings in JSON, but GCP also takes numbers.
		if _, num := val.(json.Number); num && strings.Contains(s.Format, "int") {
			return nil
		}
		return v.typeError(path, "string", val)
	}
	if len(s.Enum) > 0 && !slices.Contains(s.Enum, str) {
		return errInvalid("Invalid value at '%s', %q: must be one of %s", path, str, strings.Join(s.Enum, ", "))
	}
	if s.Pattern != "" && !anchored(s.Pattern).MatchString(str) {
		return errInvalidField(path, str, fmt.Sprintf("Must be a match of regex '%s'", s.Pattern))
	}
	return nil
}

func (v *validator) typeError(path, want string, got any) *apiError {
	return errInvalid("Invalid value at '%s' (%s), %s", path, want, jsonLiteral(got))
}

func jsonLiteral(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// stripOutputOnly removes the fields the discovery document marks output
// only: GCP ignores them in requests (a GET-modify-PUT round trip sends them
// back), and the fake fills them itself.
func (d *apiDoc) stripOutputOnly(methodID string, body map[string]any) {
	m, ok := d.Methods[methodID]
	if !ok || m.Request == "" {
		return
	}
	d.strip(m.Request, d.Schemas[m.Request], body)
}

// keepInput lists fields documented as output only that GCP nevertheless
// reads on insert (Terraform's google_compute_instance_group sends network).
var keepInput = map[string]bool{
	"InstanceGroup.network":    true,
	"InstanceGroup.subnetwork": true,
}

func (d *apiDoc) strip(name string, s *schemaDoc, val any) {
	for s != nil && s.Ref != "" {
		name, s = s.Ref, d.Schemas[s.Ref]
	}
	if s == nil {
		return
	}
	switch x := val.(type) {
	case map[string]any:
		for k, sub := range x {
			p, ok := s.Properties[k]
			if !ok {
				if s.Additional != nil {
					d.strip("", s.Additional, sub)
				}
				continue
			}
			if p.OutputOnly && !keepInput[name+"."+k] {
				delete(x, k)
				continue
			}
			d.strip("", p, sub)
		}
	case []any:
		for _, e := range x {
			d.strip("", s.Items, e)
		}
	}
}
