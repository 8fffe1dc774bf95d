package operator

import (
	"encoding/json"
	"fmt"

	"github.com/ohler55/ojg/jp"
)

// jsonPathTruthy evaluates a JSONPath expression (the full Goessner syntax,
// filters included, through ojg) on a JSON document and reports whether it
// selects at least one truthy value.
func jsonPathTruthy(doc, path string) (bool, error) {
	expr, err := jp.ParseString(path)
	if err != nil {
		return false, fmt.Errorf("check_jsonpath %q: %w", path, err)
	}
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return false, fmt.Errorf("check_jsonpath needs a JSON response: %w", err)
	}
	for _, got := range expr.Get(v) {
		if jsonTruthy(got) {
			return true, nil
		}
	}
	return false, nil
}

// jsonTruthy is Python's truthiness, which Airflow users expect of a check.
func jsonTruthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}
