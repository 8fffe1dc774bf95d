package command

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"cloud.google.com/go/storage"
	"github.com/zclconf/go-cty/cty"
	"google.golang.org/api/option"

	"github.com/airctl/airctl/provision/config"
	"github.com/airctl/airctl/provision/state"
	"github.com/airctl/airctl/provision/state/gcs"
	"github.com/airctl/airctl/provision/state/local"
)

// backendSettings is a backend configuration in a comparable form. init
// records the one it set up in .airctl/backend.json, so that a later
// command notices a changed backend block instead of silently reading an
// empty state from the new place.
type backendSettings struct {
	Type  string            `json:"type"`
	Attrs map[string]string `json:"attrs,omitempty"`
}

// workDir holds what init records about the configuration directory.
const workDir = ".airctl"

func recordPath(dir string) string { return filepath.Join(dir, workDir, "backend.json") }

// supportedBackendAttr reports the backend arguments airctl acts on; the
// loader accepts more of Terraform's, which are refused here rather than
// ignored.
func supportedBackendAttr(typ, name string) bool {
	switch typ {
	case "local":
		return name == "path"
	case "gcs":
		return name == "bucket" || name == "prefix" || name == "credentials" || name == "storage_custom_endpoint"
	}
	return false
}

// settingsOf reads the backend block (nil: the default local backend).
func settingsOf(b *config.Backend) (backendSettings, error) {
	if b == nil {
		return backendSettings{Type: "local"}, nil
	}
	s := backendSettings{Type: b.Type, Attrs: map[string]string{}}
	for name, v := range b.Attrs {
		if !supportedBackendAttr(b.Type, name) {
			return s, fmt.Errorf("backend %q argument %q is not supported by airctl yet; remove it (%s)", b.Type, name, b.DeclRange)
		}
		if v.IsNull() {
			continue
		}
		if !v.Type().Equals(cty.String) {
			return s, fmt.Errorf("backend %q argument %q must be a string (%s)", b.Type, name, b.DeclRange)
		}
		s.Attrs[name] = v.AsString()
	}
	if len(s.Attrs) == 0 {
		s.Attrs = nil
	}
	return s, nil
}

func (s backendSettings) equal(o backendSettings) bool {
	return s.Type == o.Type && maps.Equal(s.Attrs, o.Attrs)
}

func (s backendSettings) String() string {
	keys := make([]string, 0, len(s.Attrs))
	for k := range s.Attrs {
		if k != "credentials" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%q", k, s.Attrs[k]))
	}
	return fmt.Sprintf("%q {%s}", s.Type, strings.Join(parts, ", "))
}

// readRecord returns the settings init recorded, or nil if init never ran.
func readRecord(dir string) (*backendSettings, error) {
	b, err := os.ReadFile(recordPath(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", recordPath(dir), err)
	}
	var s backendSettings
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("read %s: %w (run airctl init -reconfigure to rewrite it)", recordPath(dir), err)
	}
	return &s, nil
}

func writeRecord(dir string, s backendSettings) error {
	if err := os.MkdirAll(filepath.Join(dir, workDir), 0o755); err != nil {
		return fmt.Errorf("record backend settings: %w", err)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(recordPath(dir), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("record backend settings: %w", err)
	}
	return nil
}

// openedBackend is a backend with whatever must be closed after use.
type openedBackend struct {
	state.Backend
	settings backendSettings
	// where names the state for messages: a path or a gs:// URL.
	where string
	close func()
}

// backend opens the configuration's backend after checking that init set
// it up. The default local backend works without init, as there is
// nothing to set up.
func (m *meta) backend(cfg *config.Config) (*openedBackend, error) {
	want, err := settingsOf(cfg.Terraform.Backend)
	if err != nil {
		return nil, err
	}
	rec, err := readRecord(m.dir)
	if err != nil {
		return nil, err
	}
	switch {
	case rec == nil && want.Type != "local":
		return nil, fmt.Errorf("backend initialization required: the configuration uses the %s backend; run \"airctl init\" to set it up (and move any local state into it)", want)
	case rec != nil && !rec.equal(want):
		return nil, fmt.Errorf("backend configuration changed: init set up %s, the configuration now says %s; run \"airctl init\" to migrate the state, or \"airctl init -reconfigure\" to use the new backend as it is", rec, want)
	}
	return m.openBackend(want)
}

// openBackend connects to a backend without the init check.
func (m *meta) openBackend(s backendSettings) (*openedBackend, error) {
	switch s.Type {
	case "local":
		p := local.Path(m.dir, "default")
		if s.Attrs["path"] != "" {
			p = m.path(s.Attrs["path"])
		}
		b, err := local.New(p)
		if err != nil {
			return nil, err
		}
		return &openedBackend{Backend: b, settings: s, where: b.StatePath(), close: func() {}}, nil
	case "gcs":
		return m.openGCS(s)
	}
	return nil, fmt.Errorf("unsupported backend type %q", s.Type)
}

func (m *meta) openGCS(s backendSettings) (*openedBackend, error) {
	client, err := storage.NewClient(context.WithoutCancel(m.ctx), m.gcsOptions(s)...)
	if err != nil {
		return nil, fmt.Errorf("gcs backend: create the storage client: %w (check the credentials argument or GOOGLE_APPLICATION_CREDENTIALS)", err)
	}
	b, err := gcs.New(client, gcs.Config{Bucket: s.Attrs["bucket"], Prefix: s.Attrs["prefix"]})
	if err != nil {
		client.Close()
		return nil, err
	}
	return &openedBackend{Backend: b, settings: s, where: b.StateURL(), close: func() { client.Close() }}, nil
}

// gcsOptions: an emulator (STORAGE_EMULATOR_HOST) or custom endpoint is
// used without credentials; otherwise credentials come from the backend
// block, GOOGLE_BACKEND_CREDENTIALS or GOOGLE_CREDENTIALS (a file path or
// the JSON itself, as Terraform accepts), else Application Default
// Credentials.
func (m *meta) gcsOptions(s backendSettings) []option.ClientOption {
	if host := m.env.Getenv("STORAGE_EMULATOR_HOST"); host != "" {
		if !strings.Contains(host, "://") {
			host = "http://" + host
		}
		return []option.ClientOption{option.WithEndpoint(strings.TrimSuffix(host, "/") + "/storage/v1/"), option.WithoutAuthentication()}
	}
	var opts []option.ClientOption
	endpoint := s.Attrs["storage_custom_endpoint"]
	if endpoint == "" {
		endpoint = m.env.Getenv("GOOGLE_STORAGE_CUSTOM_ENDPOINT")
	}
	if endpoint != "" {
		opts = append(opts, option.WithEndpoint(endpoint))
	}
	creds := s.Attrs["credentials"]
	for _, name := range []string{"GOOGLE_BACKEND_CREDENTIALS", "GOOGLE_CREDENTIALS"} {
		if creds == "" {
			creds = m.env.Getenv(name)
		}
	}
	switch {
	case strings.HasPrefix(strings.TrimSpace(creds), "{"):
		opts = append(opts, option.WithAuthCredentialsJSON(option.ServiceAccount, []byte(creds)))
	case creds != "":
		opts = append(opts, option.WithAuthCredentialsFile(option.ServiceAccount, m.path(creds)))
	}
	return opts
}
