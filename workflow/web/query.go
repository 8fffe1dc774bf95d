package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Page sizes as in Airflow's API: 100 by default, and a larger limit is
// cut to the maximum rather than refused.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

type page struct{ limit, offset int }

// pageOf reads limit and offset.
func pageOf(r *http.Request) (page, error) {
	p := page{limit: defaultLimit}
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, badRequest("limit=%q: want a whole number from 1 to %d.", v, maxLimit)
		}
		p.limit = min(n, maxLimit)
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p, badRequest("offset=%q: want a whole number, 0 or more.", v)
		}
		p.offset = n
	}
	return p, nil
}

// slice pages an in-memory list.
func slicePage[T any](all []T, p page) []T {
	if p.offset >= len(all) {
		return []T{}
	}
	return all[p.offset:min(len(all), p.offset+p.limit)]
}

// boolParam reads an optional true/false query parameter.
func boolParam(r *http.Request, name string) (value, set bool, err error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, false, nil
	}
	b, perr := strconv.ParseBool(v)
	if perr != nil {
		return false, false, badRequest("%s=%q: want true or false.", name, v)
	}
	return b, true, nil
}

// timeParam reads an optional RFC 3339 query parameter.
func timeParam(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	return parseTime(name, v)
}

// parseTime accepts RFC 3339 with a timezone, as Airflow's API does. An
// unescaped "+" in a query string arrives as a space; that is forgiven.
func parseTime(field, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil && strings.Contains(v, " ") {
		t, err = time.Parse(time.RFC3339Nano, strings.Replace(v, " ", "+", 1))
	}
	if err != nil {
		return time.Time{}, badRequest("%s: %q is not an RFC 3339 date-time with a timezone, such as 2024-01-02T03:04:05Z or 2024-01-02T12:04:05+09:00.", field, v)
	}
	return t, nil
}

// orderBy reads order_by: a field name from allowed, "-" prefixed for
// descending.
func orderBy(r *http.Request, def string, allowed ...string) (field string, desc bool, err error) {
	v := r.URL.Query().Get("order_by")
	if v == "" {
		v = def
	}
	field, desc = strings.TrimPrefix(v, "-"), strings.HasPrefix(v, "-")
	for _, a := range allowed {
		if a == field {
			return field, desc, nil
		}
	}
	return "", false, badRequest("order_by=%q: ordering is supported by %s, with a leading - for descending.", v, strings.Join(allowed, ", "))
}
