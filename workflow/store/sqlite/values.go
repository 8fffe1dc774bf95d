package sqlite

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// timeLayout is fixed width, so text order is time order (range filters,
// ORDER BY) and SQLite's date functions can read it. Format truncates to
// the microsecond, the precision Postgres keeps too.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// dbTime is the column value of t: UTC text, or NULL for the zero time.
func dbTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeLayout)
}

// utc is t as it reads back from the database, for values the store
// returns without reading them again.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// now is the current time as the database keeps it.
func now() time.Time { return utc(time.Now()) }

// timeCol scans a nullable time column into *t; NULL is the zero time.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case nil:
		*c.t = time.Time{}
		return nil
	case time.Time: // in case a driver setting ever parses it for us
		*c.t = utc(v)
		return nil
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("time column: unexpected %T", src)
	}
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return fmt.Errorf("time column: %w", err)
	}
	*c.t = t
	return nil
}

// dbJSON is the column value of v as JSON text, NULL for a nil map or
// slice, so nil and empty both round-trip.
func dbJSON(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if string(b) == "null" {
		return nil, nil
	}
	return string(b), nil
}

// jsonCol scans a nullable JSON column into the value v points to.
type jsonCol struct{ v any }

func (c jsonCol) Scan(src any) error {
	switch s := src.(type) {
	case nil:
		return nil
	case string:
		return json.Unmarshal([]byte(s), c.v)
	case []byte:
		return json.Unmarshal(s, c.v)
	}
	return fmt.Errorf("json column: unexpected %T", src)
}

// where builds the WHERE clause of a filtered query from the filter fields
// that are set, so each query has only conditions SQLite can plan with
// indexes; a "col = ? OR ? IS NULL" form would defeat them.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, arg any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, arg)
}

// in adds "col IN list" for a non-empty list, passed as one JSON parameter
// so the statement text does not depend on the list length.
func (w *where) in(col string, list any, n int) {
	if n == 0 {
		return
	}
	b, _ := json.Marshal(list) // slices of strings always marshal
	w.add(col+" IN (SELECT value FROM json_each(?))", string(b))
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// limit is a LIMIT/OFFSET clause; SQLite reads LIMIT -1 as no limit.
func limit(n, offset int) string {
	if n <= 0 {
		n = -1
	}
	return fmt.Sprintf(" LIMIT %d OFFSET %d", n, max(offset, 0))
}

// prefixCols qualifies each column of a column list, for joins.
func prefixCols(prefix, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}
