// Package render turns Settings into the files a host runs aird with:
// systemd units, the Redis snippet, aird.hcl and the secrets env file, each
// with the mode and owner the deployer must apply.
//
// Templates come from package templates (embedded) unless the project's
// templates/ directory has a file of the same name. Secrets are typed
// (Secret) so that they print redacted everywhere, and Render checks its own
// output so that no secret lands outside aird.env, whatever an override does.
package render

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"slices"
	"strings"
	"text/template"

	"github.com/airctl/airctl/templates"
)

// File is one rendered file and how the deployer installs it.
type File struct {
	Path    string // absolute path on the host
	Mode    fs.FileMode
	Owner   string
	Group   string
	Content []byte
	Secret  bool // holds secret values: redact in output, never copy elsewhere
	Unit    bool // a systemd unit: daemon-reload and systemd-analyze verify apply
}

// Redacted returns a copy fit for logs and plan output: a secret file keeps
// its keys (so a reviewer sees what is set) with every value replaced.
func (f File) Redacted() File {
	if !f.Secret {
		return f
	}
	var b strings.Builder
	for line := range strings.Lines(string(f.Content)) {
		trimmed := strings.TrimSpace(line)
		switch key, _, ok := strings.Cut(trimmed, "="); {
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
			b.WriteString(line)
		case ok:
			b.WriteString(key + "=" + Redacted + "\n")
		default:
			b.WriteString(Redacted + "\n")
		}
	}
	f.Content = []byte(b.String())
	return f
}

// String describes the file without its content, for progress lines.
func (f File) String() string {
	return fmt.Sprintf("%s (%s %s:%s, %d bytes)", f.Path, f.Mode, f.Owner, f.Group, len(f.Content))
}

// spec says where a template's output goes and with which metadata.
type spec struct {
	tmpl         string
	path         func(Settings) string
	mode         fs.FileMode
	owner, group func(Settings) string
	secret, unit bool
}

func root(Settings) string           { return "root" }
func serviceUser(s Settings) string  { return s.User }
func serviceGroup(s Settings) string { return s.Group }
func redisGroup(s Settings) string   { return s.RedisGroup }

func unitPath(name string) func(Settings) string {
	return func(s Settings) string { return path.Join(s.UnitDir, name) }
}

// specs is every rendered file, in the order Render returns them. Units are
// root-owned and world-readable like every unit; aird.hcl is readable by the
// service group only, and not writable by the service, so a compromised aird
// cannot change its own configuration; aird.env is 0600 for the service user.
var specs = []spec{
	{tmpl: "aird-scheduler.service.tmpl", path: unitPath("aird-scheduler.service"), mode: 0o644, owner: root, group: root, unit: true},
	{tmpl: "aird-webserver.socket.tmpl", path: unitPath("aird-webserver.socket"), mode: 0o644, owner: root, group: root, unit: true},
	{tmpl: "aird-webserver.service.tmpl", path: unitPath("aird-webserver.service"), mode: 0o644, owner: root, group: root, unit: true},
	{tmpl: "aird-worker@.service.tmpl", path: unitPath("aird-worker@.service"), mode: 0o644, owner: root, group: root, unit: true},
	{tmpl: "aird-flower.service.tmpl", path: unitPath("aird-flower.service"), mode: 0o644, owner: root, group: root, unit: true},
	{tmpl: "redis.conf.tmpl", path: func(s Settings) string { return s.RedisConfPath }, mode: 0o640, owner: root, group: redisGroup},
	{tmpl: "aird.hcl.tmpl", path: Settings.ConfigPath, mode: 0o640, owner: root, group: serviceGroup},
	{tmpl: "aird.env.tmpl", path: Settings.EnvPath, mode: 0o600, owner: serviceUser, group: serviceGroup, secret: true},
}

// TemplateNames lists the templates a project may override, by file name.
func TemplateNames() []string {
	names := make([]string, len(specs))
	for i, sp := range specs {
		names[i] = sp.tmpl
	}
	return names
}

// Render validates s and renders every file. overrides is the project's
// templates/ directory (nil, or missing, for none); a *.tmpl file there
// replaces the embedded template of the same name, and one that matches no
// template is an error rather than silently unused.
func Render(s Settings, overrides fs.FS) ([]File, error) {
	files, err := render(s, overrides)
	return files, scrub(err, s)
}

func render(s Settings, overrides fs.FS) ([]File, error) {
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	sources, err := loadSources(overrides)
	if err != nil {
		return nil, err
	}
	files := make([]File, 0, len(specs))
	for _, sp := range specs {
		content, err := execute(sources[sp.tmpl], s)
		if err != nil {
			return nil, err
		}
		files = append(files, File{
			Path: sp.path(s), Mode: sp.mode, Owner: sp.owner(s), Group: sp.group(s),
			Content: content, Secret: sp.secret, Unit: sp.unit,
		})
	}
	if err := checkLeaks(s, files); err != nil {
		return nil, err
	}
	return files, nil
}

// source is a template's text and where it came from, for error messages.
type source struct {
	name, origin string
	text         []byte
}

func loadSources(overrides fs.FS) (map[string]source, error) {
	sources := make(map[string]source, len(specs))
	for _, name := range TemplateNames() {
		text, err := fs.ReadFile(templates.FS, name)
		if err != nil {
			return nil, fmt.Errorf("render: embedded template %s: %w", name, err)
		}
		sources[name] = source{name: name, origin: "embedded", text: text}
	}
	if overrides == nil {
		return sources, nil
	}
	entries, err := fs.ReadDir(overrides, ".")
	if errors.Is(err, fs.ErrNotExist) {
		return sources, nil // a project without templates/ overrides nothing
	}
	if err != nil {
		return nil, fmt.Errorf("render: reading template overrides: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".tmpl") {
			continue
		}
		if _, known := sources[name]; !known {
			return nil, fmt.Errorf("render: templates/%s overrides no template (known: %s)", name, strings.Join(TemplateNames(), ", "))
		}
		text, err := fs.ReadFile(overrides, name)
		if err != nil {
			return nil, fmt.Errorf("render: reading templates/%s: %w", name, err)
		}
		sources[name] = source{name: name, origin: "project override templates/" + name, text: text}
	}
	return sources, nil
}

// execute parses and runs one template. The template is named after its
// file, so text/template's own messages already read "name.tmpl:LINE:";
// the wrap adds whether it was the embedded one or the project's.
func execute(src source, s Settings) ([]byte, error) {
	t, err := template.New(src.name).Funcs(funcs).Option("missingkey=error").Parse(string(src.text))
	if err != nil {
		return nil, fmt.Errorf("render (%s): %w", src.origin, err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, s); err != nil {
		return nil, fmt.Errorf("render (%s): %w", src.origin, err)
	}
	return buf.Bytes(), nil
}

// checkLeaks refuses output that carries a secret outside a secret file, so
// an override (or a mistake here) cannot put a password into a
// world-readable unit. The message names the setting and the file, never
// the value.
func checkLeaks(s Settings, files []File) error {
	var errs []error
	for _, f := range files {
		if f.Secret {
			continue
		}
		for _, sec := range s.secrets() {
			if sec.v.IsSet() && containsAny(f.Content, secretForms(sec.v.Reveal())) {
				errs = append(errs, fmt.Errorf("render: %s would contain the value of %s; secrets belong in the env file only", f.Path, sec.name))
			}
		}
	}
	return errors.Join(errs...)
}

// secretForms is a secret as a template could plausibly write it: plain,
// quoted for HCL or the env file, or escaped inside a URL (a DB URL with the
// password in it). Not a proof against a template bent on hiding a value,
// which a project's own override has no reason to be.
func secretForms(v string) []string {
	forms := []string{
		v,
		strings.Trim(hclString(v), `"`),
		strings.Trim(envValue(Secret(v)), `"`),
		url.PathEscape(v),
		url.QueryEscape(v),
		strings.TrimPrefix(url.UserPassword("", v).String(), ":"),
	}
	slices.Sort(forms)
	return slices.Compact(forms)
}

func containsAny(b []byte, subs []string) bool {
	return slices.ContainsFunc(subs, func(s string) bool { return bytes.Contains(b, []byte(s)) })
}

// scrub is the last line of defence for error messages: should any error
// text contain a secret value, it is replaced, and the chain dropped so that
// unwrapping cannot bring the value back.
func scrub(err error, s Settings) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, sec := range s.secrets() {
		if !sec.v.IsSet() {
			continue
		}
		for _, form := range secretForms(sec.v.Reveal()) {
			msg = strings.ReplaceAll(msg, form, Redacted)
		}
	}
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}

// unitFiles is files' units, sorted by path, for verification.
func unitFiles(files []File) []File {
	var units []File
	for _, f := range files {
		if f.Unit {
			units = append(units, f)
		}
	}
	slices.SortFunc(units, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return units
}
