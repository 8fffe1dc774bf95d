package connections

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseURI(t *testing.T) {
	for _, tc := range []struct {
		uri  string
		want Connection
	}{
		{"my-conn-type://login:password@host:1234/schema?param1=val1&param2=val2", Connection{
			ConnType: "my_conn_type", Login: "login", Password: "password", Host: "host", Port: 1234,
			Schema: "schema", Extra: `{"param1":"val1","param2":"val2"}`}},
		{"postgresql://u%40corp:p%40ss%2Fw%3Ard%20x@db.example.com:5432/my%20db", Connection{
			ConnType: "postgres", Login: "u@corp", Password: "p@ss/w:rd x", Host: "db.example.com", Port: 5432, Schema: "my db"}},
		{"http://https://api.example.com", Connection{ConnType: "http", Host: "https://api.example.com"}},
		{"http://https%3A%2F%2Fapi.example.com%2Fv1:8443", Connection{ConnType: "http", Host: "https://api.example.com/v1", Port: 8443}},
		{"http://https://tok:s3cret@api.example.com:443/?timeout=5", Connection{
			ConnType: "http", Host: "https://api.example.com", Login: "tok", Password: "s3cret", Port: 443, Extra: `{"timeout":"5"}`}},
		{"postgres://u:p@[::1]:5432/db", Connection{ConnType: "postgres", Login: "u", Password: "p", Host: "::1", Port: 5432, Schema: "db"}},
		{"ssh://deploy@box", Connection{ConnType: "ssh", Login: "deploy", Host: "box"}},
		{"http://@:8080", Connection{ConnType: "http", Port: 8080}},
		{"google-cloud-platform://?key_path=%2Fkeys%2Fk.json&scope=a+b", Connection{
			ConnType: "google_cloud_platform", Extra: `{"key_path":"/keys/k.json","scope":"a b"}`}},
		{`ssh://h/?__extra__=%7B%22known_hosts%22%3A+%22h+ssh-ed25519+AAA%22%2C+%22n%22%3A+%5B1%2C2%5D%7D`, Connection{
			ConnType: "ssh", Host: "h", Extra: `{"known_hosts": "h ssh-ed25519 AAA", "n": [1,2]}`}},
		{"fs://", Connection{ConnType: "fs"}},
	} {
		got, err := ParseURI("c", tc.uri)
		if err != nil {
			t.Errorf("ParseURI(%q): %v", tc.uri, err)
			continue
		}
		tc.want.ConnID = "c"
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseURI(%q):\n got  %+v\n want %+v", tc.uri, got, tc.want)
		}
	}
}

func TestParseURIErrors(t *testing.T) {
	for uri, want := range map[string]string{
		"host:5432":                          "no type://",
		"http://h:port":                      `port "port"`,
		"http://h:99999":                     "port",
		"a://b://c://d":                      "more than two",
		"http://us@er://host":                "protocol",
		"http://h/?__extra__=%5B1%5D":        "JSON object",
		"http://u:p%zzsupersecret@h":         "password",
		"postgres://u:p@[::1/db":             "']'",
		"http://u:hunter2@h:x?__extra__=bad": "port",
	} {
		_, err := ParseURI("api", uri)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseURI(%q) err = %v, want it to contain %q", uri, err, want)
			continue
		}
		if strings.Contains(err.Error(), "supersecret") || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("ParseURI(%q) error shows the password: %v", uri, err)
		}
		if !strings.Contains(err.Error(), "connection api") {
			t.Errorf("ParseURI(%q) error does not name the connection: %v", uri, err)
		}
	}
}

// URI writes what Airflow's Connection.get_uri writes for the same fields.
func TestURIAirflowForm(t *testing.T) {
	for _, tc := range []struct {
		c    Connection
		want string
	}{
		{Connection{ConnType: "postgres", Host: "db", Login: "u", Password: "p@ss word", Port: 5432, Schema: "x"},
			"postgres://u:p%40ss%20word@db:5432/x"},
		{Connection{ConnType: "google_cloud_platform", Extra: `{"project":"p1"}`}, "google-cloud-platform:///?project=p1"},
		{Connection{ConnType: "http", Host: "https://api.example.com", Schema: "v1", Extra: `{"a":[1]}`},
			"http://https://api.example.com/v1?__extra__=%7B%22a%22%3A%5B1%5D%7D"},
		{Connection{ConnType: "http", Port: 80}, "http://@:80"},
	} {
		if got := tc.c.URI(); got != tc.want {
			t.Errorf("URI(%+v) = %q, want %q", tc.c, got, tc.want)
		}
	}
}

func TestURIRoundTrip(t *testing.T) {
	nasty := "a b@c:d/e?f#g%h+i&j=k,l;m~n_o.p-q'r\"s\\t[u]v{w}x|y^z`é😀"
	for _, c := range []Connection{
		{ConnType: "postgres", Host: "db.internal", Login: nasty, Password: nasty, Port: 5432, Schema: nasty},
		{ConnType: "http", Host: "https://api.example.com/base path", Password: "p", Extra: `{"a":"1","b c":"` + "x&y=z" + `"}`},
		{ConnType: "ssh", Host: "box", Login: "deploy", Extra: `{"known_hosts":"box ssh-ed25519 AAAA\n","port":[22]}`},
		{ConnType: "google_cloud_platform", Extra: `{"__extra__":"x"}`},
		{ConnType: "fs", Host: nasty},
	} {
		c.ConnID = "rt"
		got, err := ParseURI("rt", c.URI())
		if err != nil {
			t.Errorf("ParseURI(URI(%+v)) = %v", c, err)
			continue
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("round trip of %q:\n got  %+v\n want %+v", c.URI(), got, c)
		}
	}
}
