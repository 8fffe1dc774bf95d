package connections

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// extraKey is the query parameter holding the whole extra as JSON when it
// cannot be written as plain parameters, as in Airflow.
const extraKey = "__extra__"

// ParseURI reads an Airflow connection URI:
//
//	type://login:password@host:port/schema?k=v&k2=v2
//
// Every part is optional and percent-decoded. Query parameters become the
// extra as a JSON object of strings, unless one is __extra__, whose value is
// the extra JSON itself. A host with its own protocol is written
// type://protocol://host… (or percent-encoded) and keeps it:
// http://https://api.example.com gives host "https://api.example.com".
func ParseURI(id, uri string) (Connection, error) {
	c, err := parseURI(uri)
	if err != nil {
		// The URI may hold a password: the error names the connection only.
		return Connection{}, fmt.Errorf("connection %s: invalid URI: %w (want type://login:password@host:port/schema?extra=value, parts percent-encoded)", id, err)
	}
	c.ConnID = id
	return c, nil
}

func parseURI(uri string) (Connection, error) {
	var c Connection
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return c, errors.New("no type:// prefix")
	}
	c.ConnType = normalizeType(scheme)
	protocol := ""
	switch strings.Count(rest, "://") {
	case 0:
	case 1:
		protocol, rest, _ = strings.Cut(rest, "://")
		if strings.ContainsAny(protocol, "@:") {
			return c, errors.New("a host protocol (type://protocol://host) cannot contain '@' or ':'")
		}
	default:
		return c, errors.New("more than two '://'")
	}
	// As Python's urlsplit, which Airflow uses: the authority ends at the
	// first '/', '?' or '#'.
	rest, _, _ = strings.Cut(rest, "#")
	rest, query, _ := strings.Cut(rest, "?")
	authority, path, _ := strings.Cut(rest, "/")
	if err := c.parseAuthority(authority); err != nil {
		return c, err
	}
	if protocol != "" {
		c.Host = protocol + "://" + c.Host
	}
	var err error
	if c.Schema, err = url.PathUnescape(path); err != nil {
		return c, fmt.Errorf("schema: %w", err)
	}
	if c.Extra, err = parseExtra(query); err != nil {
		return c, err
	}
	return c, nil
}

// normalizeType maps URI schemes to connection types as Airflow does:
// '-' stands for '_' (not allowed in a scheme), postgresql is postgres.
func normalizeType(scheme string) string {
	t := strings.ReplaceAll(scheme, "-", "_")
	if t == "postgresql" {
		return "postgres"
	}
	return t
}

func (c *Connection) parseAuthority(authority string) error {
	userinfo, hostport := "", authority
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		userinfo, hostport = authority[:i], authority[i+1:]
	}
	if userinfo != "" {
		login, password, hasPassword := strings.Cut(userinfo, ":")
		var err error
		if c.Login, err = url.PathUnescape(login); err != nil {
			return fmt.Errorf("login: %w", err)
		}
		if hasPassword {
			if c.Password, err = url.PathUnescape(password); err != nil {
				return errors.New("password: invalid percent-encoding")
			}
		}
	}
	host, port := hostport, ""
	if strings.HasPrefix(hostport, "[") { // IPv6 literal
		end := strings.Index(hostport, "]")
		if end < 0 {
			return errors.New("host: missing ']'")
		}
		host, port = hostport[1:end], strings.TrimPrefix(hostport[end+1:], ":")
	} else {
		host, port, _ = strings.Cut(hostport, ":")
	}
	var err error
	if c.Host, err = url.PathUnescape(host); err != nil {
		return fmt.Errorf("host: %w", err)
	}
	if port != "" {
		if c.Port, err = strconv.Atoi(port); err != nil || c.Port < 0 || c.Port > 65535 {
			return fmt.Errorf("port %q is not a number from 0 to 65535", port)
		}
	}
	return nil
}

func parseExtra(query string) (string, error) {
	if query == "" {
		return "", nil
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", fmt.Errorf("extra: %w", err)
	}
	if v, ok := q[extraKey]; ok {
		extra := v[len(v)-1]
		if err := checkExtra(extra); err != nil {
			return "", err
		}
		return extra, nil
	}
	flat := map[string]string{}
	for k, v := range q {
		flat[k] = v[len(v)-1] // the last one wins, as Python's dict(parse_qsl)
	}
	// Not json.Marshal: it would escape '&', '<' and '>', common in URLs.
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(flat); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// checkExtra accepts "" or a JSON object.
func checkExtra(extra string) error {
	if extra == "" {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(extra), &m); err != nil {
		return fmt.Errorf("extra must be a JSON object: %w", err)
	}
	return nil
}

// URI is the connection as an Airflow connection URI, the inverse of
// ParseURI. It contains the password.
func (c Connection) URI() string {
	var b strings.Builder
	if c.ConnType != "" {
		b.WriteString(strings.ReplaceAll(strings.ToLower(c.ConnType), "_", "-"))
	}
	b.WriteString("://")
	host := c.Host
	if protocol, h, ok := strings.Cut(c.Host, "://"); ok {
		b.WriteString(protocol + "://")
		host = h
	}
	auth := quote(c.Login)
	if c.Password != "" {
		auth += ":" + quote(c.Password)
	}
	if auth != "" {
		b.WriteString(auth + "@")
	}
	b.WriteString(quote(host))
	if c.Port != 0 {
		if host == "" && auth == "" {
			b.WriteString("@") // so the port is not read as a password
		}
		b.WriteString(":" + strconv.Itoa(c.Port))
	}
	if c.Schema != "" {
		b.WriteString("/" + quote(c.Schema))
	}
	if q := extraQuery(c.Extra); q != "" {
		if c.Schema == "" {
			b.WriteString("/")
		}
		b.WriteString("?" + q)
	}
	return b.String()
}

// extraQuery writes a flat object of strings as plain parameters and
// anything else as __extra__.
func extraQuery(extra string) string {
	if extra == "" {
		return ""
	}
	var flat map[string]string
	if err := json.Unmarshal([]byte(extra), &flat); err == nil && len(flat) > 0 && !slices.Contains(slices.Collect(maps.Keys(flat)), extraKey) {
		q := url.Values{}
		for k, v := range flat {
			q.Set(k, v)
		}
		return q.Encode()
	}
	return url.Values{extraKey: {extra}}.Encode()
}

// quote percent-encodes everything but RFC 3986's unreserved characters,
// as Python's quote(s, safe="") which Airflow uses.
func quote(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if 'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' || strings.IndexByte("-._~", ch) >= 0 {
			b.WriteByte(ch)
		} else {
			fmt.Fprintf(&b, "%%%02X", ch)
		}
	}
	return b.String()
}
