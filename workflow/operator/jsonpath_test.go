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
	for path, want := range map[string]string{
		"ok":         "it must start with $",
		"$.":         "empty member name",
		"$.items[0":  "unclosed [",
		"$.items[x]": "[x] is neither an index nor a quoted name",
		"$ok":        `unexpected "o"`,
	} {
		if _, err := jsonPathTruthy(doc, path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want containing %q", path, err, want)
		}
	}
	if _, err := jsonPathTruthy("<html>", "$.ok"); err == nil || !strings.Contains(err.Error(), "needs a JSON response") {
		t.Errorf("non-JSON body: err = %v", err)
	}
}
