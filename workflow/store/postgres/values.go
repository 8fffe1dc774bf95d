package postgres

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// dbTime is the parameter value of t: UTC truncated to the microsecond, or
// NULL for the zero time. pgx would truncate too, but doing it here keeps
// what is written equal to what the store returns without reading back.
func dbTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return utc(t)
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

// timeCol scans a nullable timestamptz into *t: NULL is the zero time, and
// times come back in UTC (pgx returns them in time.Local).
type timeCol struct{ t *time.Time }

// ScanTimestamptz implements pgtype.TimestamptzScanner.
func (c timeCol) ScanTimestamptz(v pgtype.Timestamptz) error {
	switch {
	case !v.Valid:
		*c.t = time.Time{}
	case v.InfinityModifier != pgtype.Finite:
		return errors.New("time column: infinite timestamp")
	default:
		*c.t = v.Time.UTC()
	}
	return nil
}

// dbJSON is the parameter value of v as JSON text, NULL for a nil map or
// slice, so nil and empty both round-trip. pgx sends a string to a jsonb
// parameter as is; left to itself it would send a nil map as JSON null,
// not SQL NULL.
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

// strs converts a list of a string type to the []string pgx encodes as a
// text[] parameter.
func strs[T ~string](list []T) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = string(v)
	}
	return out
}

// where builds the WHERE clause of a filtered query from the filter fields
// that are set, so each query has only conditions the planner can use
// indexes for; a "col = $1 OR $1 IS NULL" form would defeat them.
type where struct {
	conds []string
	args  []any
}

// add appends cond, whose one "?" stands for arg, numbered in order.
func (w *where) add(cond string, arg any) {
	w.args = append(w.args, arg)
	w.conds = append(w.conds, strings.Replace(cond, "?", "$"+strconv.Itoa(len(w.args)), 1))
}

// in adds "col = ANY(list)" for a non-empty list, passed as one array
// parameter so the statement text (and its cached plan) does not depend on
// the list length.
func (w *where) in(col string, list []string) {
	if len(list) == 0 {
		return
	}
	w.add(col+" = ANY(?)", list)
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// limit is a LIMIT/OFFSET clause; no limit is LIMIT ALL.
func limit(n, offset int) string {
	l := "ALL"
	if n > 0 {
		l = strconv.Itoa(n)
	}
	return fmt.Sprintf(" LIMIT %s OFFSET %d", l, max(offset, 0))
}

// prefixCols qualifies each column of a column list, for joins.
func prefixCols(prefix, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}
