package operator

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// jsonPathTruthy evaluates a JSONPath subset ($, .name, ['name'], [index])
// on a JSON document and reports whether it selects a truthy value.
func jsonPathTruthy(doc, path string) (bool, error) {
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return false, fmt.Errorf("check_jsonpath needs a JSON response: %w", err)
	}
	steps, err := parseJSONPath(path)
	if err != nil {
		return false, err
	}
	for _, s := range steps {
		var ok bool
		if v, ok = step(v, s); !ok {
			return false, nil
		}
	}
	switch x := v.(type) {
	case nil:
		return false, nil
	case bool:
		return x, nil
	case float64:
		return x != 0, nil
	case string:
		return x != "", nil
	case []any:
		return len(x) > 0, nil
	case map[string]any:
		return len(x) > 0, nil
	}
	return true, nil
}

// step selects a member (string) or element (int) of v.
func step(v any, s any) (any, bool) {
	switch key := s.(type) {
	case string:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		v, ok = m[key]
		return v, ok
	case int:
		a, ok := v.([]any)
		if key < 0 {
			key += len(a)
		}
		if !ok || key < 0 || key >= len(a) {
			return nil, false
		}
		return a[key], true
	}
	return nil, false
}

// parseJSONPath splits a path such as $.items[0]['name'] into steps.
func parseJSONPath(path string) ([]any, error) {
	bad := func(why string) error {
		return fmt.Errorf("check_jsonpath %q: %s; write a path such as $.data.items[0].ok", path, why)
	}
	rest, ok := strings.CutPrefix(strings.TrimSpace(path), "$")
	if !ok {
		return nil, bad("it must start with $")
	}
	var steps []any
	for rest != "" {
		switch {
		case rest[0] == '.':
			end := strings.IndexAny(rest[1:], ".[")
			if end < 0 {
				end = len(rest) - 1
			}
			name := rest[1 : 1+end]
			if name == "" {
				return nil, bad("empty member name")
			}
			steps, rest = append(steps, name), rest[1+end:]
		case rest[0] == '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, bad("unclosed [")
			}
			inner := rest[1:end]
			if q := strings.Trim(inner, `'"`); len(inner) >= 2 && len(q) == len(inner)-2 {
				steps = append(steps, q)
			} else if i, err := strconv.Atoi(inner); err == nil {
				steps = append(steps, i)
			} else {
				return nil, bad(fmt.Sprintf("[%s] is neither an index nor a quoted name", inner))
			}
			rest = rest[end+1:]
		default:
			return nil, bad(fmt.Sprintf("unexpected %q", rest[:1]))
		}
	}
	return steps, nil
}
