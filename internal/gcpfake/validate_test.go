package gcpfake

import (
	"net/http"
	"strings"
	"testing"
)

// Bodies the typed clients cannot produce are checked like GCP does: the
// answer is a 400 naming the offending field.
func TestRequestValidation(t *testing.T) {
	f := startFake(t, Options{})
	const insts = "/compute/v1/projects/p1/zones/us-central1-a/instances"
	cases := []struct {
		name, method, path, body string
		code                     int
		want                     string
	}{
		{"unknown compute field", "POST", insts, `{"name":"vm","machineTyp":"x"}`, 400, `Unknown name \"machineTyp\" at 'resource'`},
		{"unknown nested field", "POST", insts, `{"name":"vm","networkInterfaces":[{"acessConfigs":[]}]}`, 400, `at 'resource.networkInterfaces[0]'`},
		{"wrong type", "POST", insts, `{"name":5}`, 400, "resource.name"},
		{"bad name", "POST", "/compute/v1/projects/p1/global/networks", `{"name":"Bad_Name","autoCreateSubnetworks":true}`, 400, "resource.name"},
		{"bad enum", "POST", "/compute/v1/projects/p1/global/healthChecks", `{"name":"hc","type":"HTTPX"}`, 400, "resource.type"},
		{"not json", "POST", insts, `{`, 400, "Invalid JSON"},
		{"empty body", "POST", insts, ``, 400, "resource"},
		{"unknown sql field", "POST", "/v1/projects/p1/instances", `{"name":"db","settings":{"tierr":"x"}}`, 400, `\"tierr\" at 'resource.settings'`},
		{"bad sql enum", "POST", "/v1/projects/p1/instances", `{"name":"db","databaseVersion":"ORACLE_9"}`, 400, "databaseVersion"},
		{"unknown bucket field", "POST", "/storage/v1/b?project=p1", `{"name":"bkt","lifecycl":{}}`, 400, `\"lifecycl\"`},
		{"bucket without project", "POST", "/storage/v1/b", `{"name":"bkt"}`, 400, "project"},
		{"unserved method", "GET", "/compute/v1/projects/p1/aggregated/instances", "", 501, "does not implement"},
		{"wrong http method", "PUT", "/compute/v1/projects/p1/global/networks/x", "", 405, "not allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := f.rawRequest(t, tc.method, tc.path, tc.body)
			if code != tc.code || !strings.Contains(body, tc.want) {
				t.Errorf("%s %s: %d %s, want %d containing %q", tc.method, tc.path, code, body, tc.code, tc.want)
			}
			if !strings.Contains(body, `"errors":[{"domain":"global","reason":`) {
				t.Errorf("not Google's error envelope: %s", body)
			}
		})
	}
}

// Output-only fields sent back (a GET-modify-PUT) are ignored, as GCP does.
func TestOutputOnlyFieldsIgnored(t *testing.T) {
	f := startFake(t, Options{})
	code, body := f.rawRequest(t, http.MethodPost, "/compute/v1/projects/p1/global/firewalls",
		`{"name":"fw","id":"42","selfLink":"x","creationTimestamp":"y","allowed":[{"IPProtocol":"tcp"}]}`)
	if code != http.StatusOK {
		t.Fatalf("insert: %d %s", code, body)
	}
	code, body = f.rawRequest(t, http.MethodGet, "/compute/v1/projects/p1/global/firewalls/fw", "")
	if code != http.StatusOK || strings.Contains(body, `"id":"42"`) || !strings.Contains(body, `"selfLink":"https://www.googleapis.com/compute/v1/projects/p1/global/firewalls/fw"`) {
		t.Errorf("get: %d %s", code, body)
	}
}

func TestProjectsRestriction(t *testing.T) {
	f := startFake(t, Options{Projects: []string{"p1"}})
	if code, _ := f.rawRequest(t, http.MethodGet, "/compute/v1/projects/p1/global/networks", ""); code != http.StatusOK {
		t.Errorf("allowed project: %d", code)
	}
	if code, _ := f.rawRequest(t, http.MethodGet, "/compute/v1/projects/other/global/networks", ""); code != http.StatusForbidden {
		t.Errorf("other project: %d", code)
	}
}

// Every method the embedded discovery subset lists has a handler.
func TestEveryDiscoveredMethodServed(t *testing.T) {
	s, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for api, doc := range apiDocs() {
		for id := range doc.Methods {
			if s.handlers[id] == nil {
				t.Errorf("%s: %s has no handler", api, id)
			}
		}
	}
}
