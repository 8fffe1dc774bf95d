// Package connections is aird's equivalent of Airflow connections: named
// credentials and endpoints (type, host, port, login, password, schema and
// a JSON extra) that operators look up by ID.
//
// Stored connections are encrypted at rest with the AIRD_ENCRYPTION_KEY keyring
// (package secrets): the metadata store keeps the ID, type and description
// in clear and everything else in one AES-GCM ciphertext bound to the ID.
// An environment variable AIRD_CONN_<ID>=<URI or JSON> overrides the store,
// as AIRFLOW_CONN_<ID> does.
package connections

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Connection is one connection, with Airflow's fields.
type Connection struct {
	ConnID      string
	ConnType    string
	Description string
	Host        string
	Schema      string
	Login       string
	Password    string
	Port        int
	Extra       string // JSON object text, "" if none
}

// apiConn is a connection in Airflow's JSON field names: the encrypted
// payload, `aird connections export` and AIRD_CONN_<ID> in JSON form.
type apiConn struct {
	ConnType    string `json:"conn_type"`
	Description string `json:"description,omitempty"`
	Host        string `json:"host,omitempty"`
	Login       string `json:"login,omitempty"`
	Password    string `json:"password,omitempty"`
	Schema      string `json:"schema,omitempty"`
	Port        int    `json:"port,omitempty"`
	// Extra is written as a string holding the JSON object, as Airflow's
	// export and API do, so it round-trips byte for byte; ParseJSON also
	// reads a plain object.
	Extra json.RawMessage `json:"extra,omitempty"`
}

func (c Connection) toAPI() apiConn {
	a := apiConn{ConnType: c.ConnType, Description: c.Description, Host: c.Host, Login: c.Login,
		Password: c.Password, Schema: c.Schema, Port: c.Port}
	if c.Extra != "" {
		a.Extra, _ = json.Marshal(c.Extra) // a string always marshals
	}
	return a
}

// MarshalJSON writes Airflow's field names, password included: callers
// that show connections to people leave Password empty first.
func (c Connection) MarshalJSON() ([]byte, error) { return json.Marshal(c.toAPI()) }

// ParseJSON reads a connection in Airflow's JSON form, as in
// AIRFLOW_CONN_<ID>='{"conn_type": "http", "host": …}'.
func ParseJSON(id string, data []byte) (Connection, error) {
	var a apiConn
	if err := json.Unmarshal(data, &a); err != nil {
		return Connection{}, fmt.Errorf("connection %s: invalid JSON: %w", id, err)
	}
	c := Connection{ConnID: id, ConnType: a.ConnType, Description: a.Description, Host: a.Host,
		Login: a.Login, Password: a.Password, Schema: a.Schema, Port: a.Port}
	extra := strings.TrimSpace(string(a.Extra))
	if strings.HasPrefix(extra, `"`) { // the extra as a string of JSON
		if err := json.Unmarshal(a.Extra, &extra); err != nil {
			return Connection{}, fmt.Errorf("connection %s: extra: %w", id, err)
		}
	}
	if extra == "null" {
		extra = ""
	}
	c.Extra = extra
	if err := c.Validate(); err != nil {
		return Connection{}, err
	}
	return c, nil
}

// Validate checks what the store and operators rely on.
func (c Connection) Validate() error {
	if c.ConnID == "" {
		return fmt.Errorf("connection ID is empty")
	}
	if strings.IndexFunc(c.ConnID, badIDRune) >= 0 {
		return fmt.Errorf("connection ID %q: use letters, digits, '_', '-' and '.' only", c.ConnID)
	}
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("connection %s: port %d is not from 0 to 65535", c.ConnID, c.Port)
	}
	if err := checkExtra(c.Extra); err != nil {
		return fmt.Errorf("connection %s: %w", c.ConnID, err)
	}
	return nil
}

// badIDRune rejects what Airflow's conn_id does not allow.
func badIDRune(r rune) bool {
	return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("_-.", r))
}

// ExtraMap decodes Extra; an empty extra is an empty map.
func (c Connection) ExtraMap() (map[string]any, error) {
	m := map[string]any{}
	if c.Extra == "" {
		return m, nil
	}
	if err := json.Unmarshal([]byte(c.Extra), &m); err != nil {
		return nil, fmt.Errorf("connection %s: extra must be a JSON object: %w", c.ConnID, err)
	}
	return m, nil
}

// sensitiveWords mark extra fields holding secrets: Airflow's
// DEFAULT_SENSITIVE_FIELDS.
var sensitiveWords = []string{"access_token", "api_key", "apikey", "authorization", "passphrase", "passwd", "password", "private_key", "secret", "token", "keyfile_dict", "service_account"}

// IsSensitive reports whether a field or variable name suggests a secret.
func IsSensitive(name string) bool {
	n := strings.ToLower(name)
	for _, w := range sensitiveWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// Secrets lists the values of c a task log must not show: the password
// (also percent-encoded, as in a URI), and extra fields whose name is
// sensitive. Callers add them to a secrets.Masker.
func (c Connection) Secrets() []string {
	var out []string
	if c.Password != "" {
		out = append(out, c.Password)
		if q := quote(c.Password); q != c.Password {
			out = append(out, q)
		}
	}
	extra, err := c.ExtraMap()
	if err != nil {
		return out
	}
	for k, v := range extra {
		if s, ok := v.(string); ok && s != "" && IsSensitive(k) {
			out = append(out, s)
		}
	}
	return out
}
