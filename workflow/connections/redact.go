package connections

import (
	"encoding/json"

	"github.com/airctl/airctl/workflow/secrets"
)

// RedactExtra replaces the value of every sensitive field of an extra
// JSON object (IsSensitive, at any depth) with secrets.Mask, for showing
// it in the API and UI as Airflow does. An extra that is not a JSON object
// is masked whole.
func RedactExtra(extra string) string {
	if extra == "" {
		return ""
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(extra), &v); err != nil {
		return secrets.Mask
	}
	b, _ := json.Marshal(redact(v)) // decoded JSON always re-encodes
	return string(b)
}

func redact(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if IsSensitive(k) && val != nil {
				x[k] = secrets.Mask
			} else {
				x[k] = redact(val)
			}
		}
	case []any:
		for i := range x {
			x[i] = redact(x[i])
		}
	}
	return v
}

// UnredactExtra undoes RedactExtra for an extra sent back unchanged: a
// top-level field whose new value is secrets.Mask keeps its value from
// old. So a client that edits a redacted extra does not overwrite the
// secrets in it with "***".
func UnredactExtra(extra, old string) string {
	var n, o map[string]any
	if json.Unmarshal([]byte(extra), &n) != nil || json.Unmarshal([]byte(old), &o) != nil {
		return extra
	}
	changed := false
	for k, v := range n {
		if ov, ok := o[k]; ok && v == secrets.Mask {
			n[k], changed = ov, true
		}
	}
	if !changed {
		return extra
	}
	b, _ := json.Marshal(n)
	return string(b)
}
