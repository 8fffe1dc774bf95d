package operator

import (
	"strings"
	"testing"
)

func TestJSONPath(t *testing.T) {
	doc := `{"ok": true, "n": 0, "items": [{"id": 7, "tags": []}, {"name": "b"}], "odd key": "x", "none": null}`
	cases := []struct {
		path string
		want bool
	}{
		{"$.ok", true}, {"$.n", false}, {"$.items", true}, {"$.items[0].id", true},
		{"$.items[0].tags", false}, {"$.items[-1].name", true}, {"$.items[2]", false},
		{"$['odd key']", true}, {`$["items"][1]["name"]`, true}, {"$.none", false},
		{"$.missing.deeper", false}, {"$.ok.sub", false}, {"$", true},
	}
	for _, c := range cases {
		got, err := jsonPathTruthy(doc, c.path)
		if err != nil || got != c.want {
			t.Errorf("%s = %v %v, want %v", c.path, got, err, c.want)
		}
	}
	doc2 := `{"items": [{"id": 7, "ok": false}, {"id": 8, "ok": true}]}`
	for path, want := range map[string]bool{"$.items[?(@.id == 8)].ok": true, "$.items[?(@.id == 7)].ok": false, "$.items[*].ok": true, "$..id": true} {
		if got, err := jsonPathTruthy(doc2, path); err != nil || got != want {
			t.Errorf("%s = %v %v, want %v", path, got, err, want)
		}
	}
	for _, path := range []string{"$.items[0", "$.items[?(@.id ==]"} {
		if _, err := jsonPathTruthy(doc, path); err == nil || !strings.Contains(err.Error(), "check_jsonpath") {
			t.Errorf("%s: err = %v, want a check_jsonpath parse error", path, err)
		}
	}
	if _, err := jsonPathTruthy("<html>", "$.ok"); err == nil || !strings.Contains(err.Error(), "needs a JSON response") {
		t.Errorf("non-JSON body: err = %v", err)
	}
}
