package state

import "encoding/json"

// FormatVersion is the version of airctl's state format. Decode refuses any
// other version so that an old airctl never silently drops fields written by
// a newer one.
const FormatVersion = 1

// Mode tells managed resources from data sources.
type Mode string

const (
	// Managed resources are created, updated and destroyed by airctl.
	Managed Mode = "managed"
	// Data sources are only read.
	Data Mode = "data"
)

// Status values of an Instance. The zero value means the object is healthy.
const (
	// Tainted marks an object whose creation did not finish cleanly: the next
	// plan replaces it.
	Tainted = "tainted"
	// Creating marks a create that was about to be sent when the instance
	// was written: it has no attributes, only ImportID. An apply killed
	// before it recorded the result leaves it behind, and the next plan
	// looks the object up by ImportID to adopt it or create it again.
	Creating = "creating"
)

// State is the whole state document.
type State struct {
	Version       int               `json:"version"`
	AirctlVersion string            `json:"airctl_version"`
	Serial        uint64            `json:"serial"`
	Lineage       string            `json:"lineage"`
	Outputs       map[string]Output `json:"outputs"`
	Resources     []*Resource       `json:"resources"`
}

// Resource is one resource or data block (with count or for_each it has
// several instances).
type Resource struct {
	Mode      Mode        `json:"mode"`
	Type      string      `json:"type"`
	Name      string      `json:"name"`
	Provider  string      `json:"provider"`
	Instances []*Instance `json:"instances"`
}

// Instance is one remote object.
type Instance struct {
	// IndexKey is absent without count/for_each, a number with count and a
	// string with for_each.
	IndexKey IndexKey `json:"index_key,omitzero"`
	Status   string   `json:"status,omitempty"`
	// Attributes is a JSON object as produced by ctyjson.Marshal for the
	// provider's schema type; use Value and SetValue to convert.
	Attributes json.RawMessage `json:"attributes"`
	// SensitiveAttributes are attribute paths (see ParsePath) whose values
	// must not be shown.
	SensitiveAttributes []string `json:"sensitive_attributes,omitempty"`
	// Dependencies are resource addresses this object depended on when it was
	// last applied; destroy order uses them once the config is gone.
	Dependencies        []string `json:"dependencies,omitempty"`
	CreateBeforeDestroy bool     `json:"create_before_destroy,omitempty"`
	// ImportID is the ID of the object a Creating instance asked for.
	ImportID string `json:"import_id,omitempty"`
}

// Output is a root module output value.
type Output struct {
	// Value is the JSON encoding (ctyjson) of the value.
	Value json.RawMessage `json:"value"`
	// Type is the cty type JSON (ctyjson.MarshalType) needed to decode Value.
	Type      json.RawMessage `json:"type"`
	Sensitive bool            `json:"sensitive,omitempty"`
}

// New returns an empty state for this airctl version. Serial and lineage are
// left zero: the backend sets them on the first write.
func New(airctlVersion string) *State {
	return &State{
		Version:       FormatVersion,
		AirctlVersion: airctlVersion,
		Outputs:       map[string]Output{},
	}
}
