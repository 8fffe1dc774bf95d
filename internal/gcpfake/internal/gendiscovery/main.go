// Command gendiscovery extracts, from the discovery documents shipped in
// google.golang.org/api, the part gcpfake needs: the methods it serves (HTTP
// method, path template, request schema) and the schemas reachable from their
// request bodies, stripped of descriptions. The discovery documents are plain
// files in that module (not embedded by it), so they cannot be go:embed'ed
// across modules; this generator copies the relevant part into
// schemas/discovery.json, which gcpfake embeds.
//
// Run with `go generate ./internal/gcpfake` after bumping google.golang.org/api.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// served lists the discovery method ids gcpfake implements, per API.
var served = map[string][]string{
	"compute": expand("compute.", map[string]string{
		"instances":             "insert get delete list setMetadata setLabels setTags start stop setMachineType setDeletionProtection",
		"disks":                 "get delete list",
		"images":                "get getFromFamily list",
		"networks":              "insert get delete list patch",
		"subnetworks":           "insert get delete list patch",
		"firewalls":             "insert get delete list patch update",
		"globalAddresses":       "insert get delete list setLabels",
		"healthChecks":          "insert get delete list patch update",
		"instanceGroups":        "insert get delete list addInstances removeInstances setNamedPorts listInstances",
		"backendServices":       "insert get delete list patch update",
		"urlMaps":               "insert get delete list patch update",
		"targetHttpProxies":     "insert get delete list patch setUrlMap",
		"targetHttpsProxies":    "insert get delete list patch setUrlMap setSslCertificates",
		"sslCertificates":       "insert get delete list",
		"globalForwardingRules": "insert get delete list patch setTarget setLabels",
		"globalOperations":      "get wait delete list",
		"zoneOperations":        "get wait delete list",
		"regionOperations":      "get wait delete list",
	}),
	"sqladmin": expand("sql.", map[string]string{
		"instances":  "insert get delete list patch update",
		"databases":  "insert get delete list patch update",
		"users":      "insert get delete list update",
		"operations": "get list",
	}),
	"storage": expand("storage.", map[string]string{
		"buckets": "insert get delete list patch update",
	}),
}

var docs = map[string]string{
	"compute":  "compute/v1/compute-api.json",
	"sqladmin": "sqladmin/v1/sqladmin-api.json",
	"storage":  "storage/v1/storage-api.json",
}

func expand(prefix string, m map[string]string) []string {
	var ids []string
	for res, verbs := range m {
		for _, v := range strings.Fields(verbs) {
			ids = append(ids, prefix+res+"."+v)
		}
	}
	sort.Strings(ids)
	return ids
}

// Discovery document subset.
type doc struct {
	Revision    string                 `json:"revision"`
	ServicePath string                 `json:"servicePath"`
	Resources   map[string]*resource   `json:"resources"`
	Schemas     map[string]*rawSchema  `json:"schemas"`
	Parameters  map[string]interface{} `json:"parameters"`
}

type resource struct {
	Methods   map[string]*rawMethod `json:"methods"`
	Resources map[string]*resource  `json:"resources"`
}

type rawMethod struct {
	ID         string `json:"id"`
	HTTPMethod string `json:"httpMethod"`
	Path       string `json:"path"`
	Request    *struct {
		Ref string `json:"$ref"`
	} `json:"request"`
}

type rawSchema struct {
	ID                   string                `json:"id"`
	Type                 string                `json:"type"`
	Format               string                `json:"format"`
	Ref                  string                `json:"$ref"`
	Enum                 []string              `json:"enum"`
	Pattern              string                `json:"pattern"`
	Description          string                `json:"description"`
	Items                *rawSchema            `json:"items"`
	AdditionalProperties *rawSchema            `json:"additionalProperties"`
	Properties           map[string]*rawSchema `json:"properties"`
	Annotations          *struct {
		Required []string `json:"required"`
	} `json:"annotations"`
}

// Output format (mirrored by gcpfake's schema.go).
type api struct {
	Revision string             `json:"revision"`
	Root     string             `json:"root"`
	Methods  map[string]method  `json:"methods"`
	Schemas  map[string]*schema `json:"schemas"`
}

type method struct {
	HTTPMethod string `json:"httpMethod"`
	Path       string `json:"path"`
	Request    string `json:"request,omitempty"`
}

type schema struct {
	Type       string             `json:"type,omitempty"`
	Format     string             `json:"format,omitempty"`
	Ref        string             `json:"$ref,omitempty"`
	Enum       []string           `json:"enum,omitempty"`
	Pattern    string             `json:"pattern,omitempty"`
	Required   []string           `json:"required,omitempty"`
	OutputOnly bool               `json:"out,omitempty"`
	Items      *schema            `json:"items,omitempty"`
	Additional *schema            `json:"additionalProperties,omitempty"`
	Properties map[string]*schema `json:"properties,omitempty"`
}

func main() {
	out := flag.String("out", "schemas/discovery.json", "output file")
	flag.Parse()
	dir, err := moduleDir("google.golang.org/api")
	if err != nil {
		log.Fatal(err)
	}
	result := map[string]*api{}
	for name, rel := range docs {
		a, err := extract(filepath.Join(dir, rel), served[name])
		if err != nil {
			log.Fatalf("%s: %v", name, err)
		}
		result[name] = a
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "\t")
	if err := enc.Encode(result); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}

func moduleDir(mod string) (string, error) {
	b, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", mod).Output()
	if err != nil {
		return "", fmt.Errorf("locating %s: %w", mod, err)
	}
	return strings.TrimSpace(string(b)), nil
}

func extract(path string, ids []string) (*api, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var d doc
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	all := map[string]*rawMethod{}
	collect(d.Resources, all)
	a := &api{Revision: d.Revision, Root: d.ServicePath, Methods: map[string]method{}, Schemas: map[string]*schema{}}
	var queue []string
	for _, id := range ids {
		m, ok := all[id]
		if !ok {
			return nil, fmt.Errorf("method %s not in the discovery document", id)
		}
		out := method{HTTPMethod: m.HTTPMethod, Path: m.Path}
		if m.Request != nil {
			out.Request = m.Request.Ref
			queue = append(queue, m.Request.Ref)
		}
		a.Methods[id] = out
	}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if _, done := a.Schemas[name]; done {
			continue
		}
		raw, ok := d.Schemas[name]
		if !ok {
			return nil, fmt.Errorf("schema %s missing", name)
		}
		a.Schemas[name] = compact(raw, &queue)
	}
	return a, nil
}

func collect(res map[string]*resource, into map[string]*rawMethod) {
	for _, r := range res {
		for _, m := range r.Methods {
			into[m.ID] = m
		}
		collect(r.Resources, into)
	}
}

func compact(r *rawSchema, queue *[]string) *schema {
	if r == nil {
		return nil
	}
	s := &schema{Type: r.Type, Format: r.Format, Ref: r.Ref, Enum: r.Enum, Pattern: r.Pattern}
	if r.Ref != "" {
		*queue = append(*queue, r.Ref)
	}
	if r.Annotations != nil {
		s.Required = r.Annotations.Required
	}
	desc := strings.TrimSpace(r.Description)
	s.OutputOnly = strings.HasPrefix(desc, "[Output Only]") || strings.HasPrefix(desc, "Output only") || strings.HasPrefix(desc, "[Output only]")
	s.Items = compact(r.Items, queue)
	s.Additional = compact(r.AdditionalProperties, queue)
	if len(r.Properties) > 0 {
		s.Properties = map[string]*schema{}
		for k, v := range r.Properties {
			s.Properties[k] = compact(v, queue)
		}
	}
	return s
}
