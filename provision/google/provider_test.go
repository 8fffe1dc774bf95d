package google

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision/provider"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	p := New().(*provider.Simple)
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestEndpoints(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"http://127.0.0.1:9/compute/v1/": "http://127.0.0.1:9",
		"http://127.0.0.1:9/compute/v1":  "http://127.0.0.1:9",
		"http://127.0.0.1:9/":            "http://127.0.0.1:9",
	} {
		if got := computeEndpoint(in); got != want {
			t.Errorf("computeEndpoint(%q) = %q, want %q", in, got, want)
		}
	}
	if got := sqlEndpoint("http://h:1"); got != "http://h:1/" {
		t.Errorf("sqlEndpoint = %q", got)
	}
	if got := storageEndpoint("http://h:1"); got != "http://h:1/storage/v1/" {
		t.Errorf("storageEndpoint = %q", got)
	}
}

// The environment supplies what the provider block leaves out.
func TestSettingsFromEnv(t *testing.T) {
	t.Setenv("GOOGLE_PROJECT", "envp")
	t.Setenv("GOOGLE_COMPUTE_CUSTOM_ENDPOINT", "http://127.0.0.1:1/compute/v1/")
	s := readSettings(provider.ObjectWith(providerSchema, map[string]cty.Value{"region": cty.StringVal("europe-west1")}), nil)
	if s.project != "envp" || s.region != "europe-west1" || s.computeEndpoint != "http://127.0.0.1:1/compute/v1/" {
		t.Fatalf("settings %+v", s)
	}
	opts, err := s.clientOptions(computeEndpoint(s.computeEndpoint))
	if err != nil || len(opts) != 2 {
		t.Fatalf("http endpoint: %d options, %v; want endpoint + no authentication", len(opts), err)
	}
}

func TestSameRef(t *testing.T) {
	t.Parallel()
	api := "https://www.googleapis.com/compute/v1/projects/p1/global/networks/vpc"
	for _, c := range []string{"vpc", "projects/p1/global/networks/vpc", api, "http://127.0.0.1:1/compute/v1/projects/p1/global/networks/vpc"} {
		if !sameRef(c, api) {
			t.Errorf("sameRef(%q) = false", c)
		}
	}
	if sameRef("other", api) || sameRef("projects/p2/global/networks/vpc", api) {
		t.Error("different references compare equal")
	}
}

func TestCredentials(t *testing.T) {
	t.Parallel()
	key := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(key, []byte(`{"type":"service_account","project_id":"p"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{key, `{"type":"authorized_user"}`} {
		if opts, err := (settings{credentials: c}).clientOptions(""); err != nil || len(opts) != 1 {
			t.Errorf("credentials %q: %d options, %v", c, len(opts), err)
		}
	}
	for _, c := range []string{"/nonexistent/key.json", `{"type":"weird"}`, `{not json`} {
		if _, err := (settings{credentials: c}).clientOptions(""); err == nil {
			t.Errorf("credentials %q accepted", c)
		}
	}
	// A plain-http endpoint (a local fake) never gets credentials.
	if opts, err := (settings{credentials: key}).clientOptions("http://127.0.0.1:1"); err != nil || len(opts) != 2 {
		t.Errorf("http endpoint: %d options, %v", len(opts), err)
	}
}

func TestSettingsFromInjectedEnv(t *testing.T) {
	t.Parallel()
	env := map[string]string{"GOOGLE_PROJECT": "injected", "GOOGLE_SQL_CUSTOM_ENDPOINT": "http://127.0.0.1:2/"}
	s := readSettings(provider.ObjectWith(providerSchema, map[string]cty.Value{"project": cty.StringVal("fromconfig")}), func(k string) string { return env[k] })
	if s.project != "fromconfig" || s.sqlEndpoint != "http://127.0.0.1:2/" {
		t.Fatalf("settings %+v", s)
	}
}
