package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/airctl/airctl/templates"
)

// Secrets with every character env-file and HCL quoting must survive, and
// distinctive enough that finding one anywhere is a real leak.
const (
	testDBPassword    = "db-S3cret \"q\" \\b $HOME `id` 'x' ${y} %{z}"
	testRedisPassword = "redis-Pw-7f3a9c2e-$$-\\"
	testSecretKey     = "secret-key-b71e0d44c9 ünïcode"
	testEncryptionKey = "ZW5jcnlwdGlvbi1rZXktMzItYnl0ZXMtbG9uZy4uLi4="
)

func testSettings() Settings {
	s := Defaults()
	s.DBHost = "10.20.30.40"
	s.LogBucket = "airflow-logs"
	s.BaseURL = "https://airflow.example.com"
	s.DBPassword = testDBPassword
	s.RedisPassword = testRedisPassword
	s.SecretKey = testSecretKey
	s.EncryptionKey = testEncryptionKey
	return s
}

func mustRender(t *testing.T, s Settings, overrides fs.FS) []File {
	t.Helper()
	files, err := Render(s, overrides)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return files
}

func byPath(t *testing.T, files []File, p string) File {
	t.Helper()
	for _, f := range files {
		if f.Path == p {
			return f
		}
	}
	t.Fatalf("no rendered file %s", p)
	return File{}
}

// directives maps each directive of a unit to its values in order,
// skipping comments, as systemd reads them.
func directives(content []byte) map[string][]string {
	d := map[string][]string{}
	for line := range strings.Lines(string(content)) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		d[k] = append(d[k], v)
	}
	return d
}

func TestRenderFilesAndMetadata(t *testing.T) {
	files := mustRender(t, testSettings(), nil)
	type meta struct {
		mode         fs.FileMode
		owner, group string
		secret, unit bool
	}
	want := map[string]meta{
		"/etc/systemd/system/aird-scheduler.service": {0o644, "root", "root", false, true},
		"/etc/systemd/system/aird-webserver.socket":  {0o644, "root", "root", false, true},
		"/etc/systemd/system/aird-webserver.service": {0o644, "root", "root", false, true},
		"/etc/systemd/system/aird-worker@.service":   {0o644, "root", "root", false, true},
		"/etc/systemd/system/aird-flower.service":    {0o644, "root", "root", false, true},
		"/etc/redis/aird.conf":                       {0o640, "root", "redis", false, false},
		"/etc/aird/aird.hcl":                         {0o640, "root", "aird", false, false},
		"/etc/aird/aird.env":                         {0o600, "aird", "aird", true, false},
	}
	if len(files) != len(want) {
		t.Fatalf("rendered %d files, want %d", len(files), len(want))
	}
	for _, f := range files {
		w, ok := want[f.Path]
		if !ok {
			t.Errorf("unexpected file %s", f.Path)
			continue
		}
		if got := (meta{f.Mode, f.Owner, f.Group, f.Secret, f.Unit}); got != w {
			t.Errorf("%s: metadata %+v, want %+v", f.Path, got, w)
		}
		if !bytes.HasSuffix(f.Content, []byte("\n")) || bytes.Contains(f.Content, []byte("<no value>")) {
			t.Errorf("%s: content not clean:\n%s", f.Path, f.Content)
		}
	}
}

func TestServiceUnitsCommonDirectives(t *testing.T) {
	files := mustRender(t, testSettings(), nil)
	roles := map[string]string{
		"aird-scheduler.service": "scheduler", "aird-webserver.service": "webserver",
		"aird-worker@.service": "worker", "aird-flower.service": "flower",
	}
	for name, role := range roles {
		d := directives(byPath(t, files, "/etc/systemd/system/"+name).Content)
		for key, want := range map[string]string{
			"Restart":         "always",
			"RestartSec":      "5s",
			"EnvironmentFile": "/etc/aird/aird.env",
			"User":            "aird",
			"Group":           "aird",
			"NoNewPrivileges": "yes",
			"ProtectSystem":   "strict",
			"ProtectHome":     "yes",
			"PrivateTmp":      "yes",
			"KillMode":        "mixed",
			"WantedBy":        "multi-user.target",
			"ExecStart":       "/opt/airctl/current/bin/aird " + role + " --config /etc/aird/aird.hcl",
		} {
			if got := d[key]; !slices.Equal(got, []string{want}) {
				t.Errorf("%s: %s=%q, want exactly %q", name, key, got, want)
			}
		}
		for _, dep := range []string{"network-online.target", "redis-server.service"} {
			if !strings.Contains(strings.Join(d["After"], " "), dep) || !strings.Contains(strings.Join(d["Wants"], " "), dep) {
				t.Errorf("%s: After=%q Wants=%q, want both to name %s", name, d["After"], d["Wants"], dep)
			}
		}
		// No unit runs with a capability by default: the socket binds 80,
		// flower's 5555 is unprivileged.
		if d["AmbientCapabilities"] != nil || !slices.Equal(d["CapabilityBoundingSet"], []string{""}) {
			t.Errorf("%s: AmbientCapabilities=%q CapabilityBoundingSet=%q, want none and empty", name, d["AmbientCapabilities"], d["CapabilityBoundingSet"])
		}
		if d["ExecReload"] != nil {
			t.Errorf("%s: ExecReload set, but aird exits on SIGHUP (Go's default)", name)
		}
	}
	sched := directives(byPath(t, files, "/etc/systemd/system/aird-scheduler.service").Content)
	if got := sched["ReadWritePaths"]; !slices.Equal(got, []string{"/var/lib/aird /var/log/aird"}) {
		t.Errorf("scheduler ReadWritePaths=%q", got)
	}
	web := directives(byPath(t, files, "/etc/systemd/system/aird-webserver.service").Content)
	if web["ReadWritePaths"] != nil {
		t.Errorf("webserver ReadWritePaths=%q, want none", web["ReadWritePaths"])
	}
}

func TestWebserverSocketActivation(t *testing.T) {
	files := mustRender(t, testSettings(), nil)
	sock := directives(byPath(t, files, "/etc/systemd/system/aird-webserver.socket").Content)
	if !slices.Equal(sock["ListenStream"], []string{"80"}) || !slices.Equal(sock["Accept"], []string{"no"}) ||
		!slices.Equal(sock["WantedBy"], []string{"sockets.target"}) || !slices.Equal(sock["FileDescriptorName"], []string{"http"}) {
		t.Errorf("socket unit: %v", sock)
	}
	svc := directives(byPath(t, files, "/etc/systemd/system/aird-webserver.service").Content)
	if !slices.Equal(svc["Requires"], []string{"aird-webserver.socket"}) || !strings.Contains(svc["After"][0], "aird-webserver.socket") {
		t.Errorf("webserver service must require and follow its socket: %v", svc)
	}
	if strings.Contains(svc["ExecStart"][0], "--port") {
		t.Errorf("webserver ExecStart %q passes a port; the socket owns it", svc["ExecStart"][0])
	}
}

func TestWorkerUnit(t *testing.T) {
	s := testSettings()
	s.WorkerShutdownGrace = 45e9
	s.WorkerKillGrace = 15e9
	d := directives(byPath(t, mustRender(t, s, nil), "/etc/systemd/system/aird-worker@.service").Content)
	if got := d["TimeoutStopSec"]; !slices.Equal(got, []string{"90s"}) { // 45 + 15 + 30 margin
		t.Errorf("TimeoutStopSec=%q, want 90s", got)
	}
	if !slices.Contains(d["Environment"], "AIRD_WORKER_NAME=worker%i@%H") {
		t.Errorf("Environment=%q lacks the instance name", d["Environment"])
	}
}

func TestFlowerPrivilegedPortGetsCapability(t *testing.T) {
	s := testSettings()
	s.FlowerPort = 555
	d := directives(byPath(t, mustRender(t, s, nil), "/etc/systemd/system/aird-flower.service").Content)
	want := []string{"CAP_NET_BIND_SERVICE"}
	if !slices.Equal(d["AmbientCapabilities"], want) || !slices.Equal(d["CapabilityBoundingSet"], want) {
		t.Errorf("flower on 555: AmbientCapabilities=%q CapabilityBoundingSet=%q", d["AmbientCapabilities"], d["CapabilityBoundingSet"])
	}
}

func TestRedisSnippet(t *testing.T) {
	files := mustRender(t, testSettings(), nil)
	conf := string(byPath(t, files, "/etc/redis/aird.conf").Content)
	for _, line := range []string{
		"port 6379", "bind 127.0.0.1 -::1", "protected-mode yes", "appendonly yes", "appendfsync everysec",
		"save 3600 1 300 100 60 10000",
		"user default on resetpass #" + testSettings().RedisPasswordSHA256() + " ~* &* +@all",
	} {
		if !strings.Contains(conf, "\n"+line+"\n") {
			t.Errorf("redis snippet lacks %q:\n%s", line, conf)
		}
	}
}

func TestOverrideOneTemplate(t *testing.T) {
	overrides := fstest.MapFS{
		"aird-flower.service.tmpl": {Data: []byte("[Unit]\nDescription=custom flower for {{.User}}\n")},
		"README.md":                {Data: []byte("not a template: ignored")},
		"sub/aird.hcl.tmpl":        {Data: []byte("subdirectories are not overrides")},
	}
	files := mustRender(t, testSettings(), overrides)
	if got := string(byPath(t, files, "/etc/systemd/system/aird-flower.service").Content); got != "[Unit]\nDescription=custom flower for aird\n" {
		t.Errorf("override not used: %q", got)
	}
	defaults := mustRender(t, testSettings(), nil)
	for i, f := range files {
		if !strings.HasSuffix(f.Path, "aird-flower.service") && !bytes.Equal(f.Content, defaults[i].Content) {
			t.Errorf("%s changed although only flower was overridden", f.Path)
		}
	}
}

func TestOverrideDirectoryMissingOrUnknownName(t *testing.T) {
	if _, err := Render(testSettings(), os.DirFS(t.TempDir()+"/no-such-templates")); err != nil {
		t.Errorf("missing templates/ dir: %v", err)
	}
	_, err := Render(testSettings(), fstest.MapFS{"aird-schedular.service.tmpl": {Data: []byte("x")}})
	if err == nil || !strings.Contains(err.Error(), "aird-schedular.service.tmpl overrides no template") {
		t.Errorf("misspelt override: err = %v", err)
	}
}

func TestBadTemplateNamesFileAndLine(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"aird-scheduler.service.tmpl", "[Unit]\nDescription=x\n{{ if }}\n", "aird-scheduler.service.tmpl:3:"},
		{"aird.hcl.tmpl", "core {\n}\n\nx = {{ .NoSuchField }}\n", "aird.hcl.tmpl:4:"},
		{"aird-webserver.socket.tmpl", "{{ nosuchfunc }}\n", "aird-webserver.socket.tmpl:1:"},
	} {
		_, err := Render(testSettings(), fstest.MapFS{tc.name: {Data: []byte(tc.text)}})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "project override templates/"+tc.name) {
			t.Errorf("%s: err = %v, want it to contain %q and name the override", tc.name, err, tc.want)
		}
	}
}

func TestEmbeddedTemplatesAllRendered(t *testing.T) {
	embedded, err := fs.Glob(templates.FS, "*.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	names := TemplateNames()
	slices.Sort(names)
	if !slices.Equal(embedded, names) {
		t.Errorf("embedded templates %v, rendered %v: every template must be rendered", embedded, names)
	}
}

func TestValidateNamesEveryProblem(t *testing.T) {
	err := Defaults().Validate() // no DB host, no secrets
	if err == nil {
		t.Fatal("Defaults() validated without DB host and secrets")
	}
	for _, want := range []string{"DBHost", "DBPassword: required", "RedisPassword: required", "SecretKey: required"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	s := testSettings()
	s.User = "root"
	s.StateDir = "/var/lib/aird data"
	s.WorkerQueues = []string{"a,b"}
	s.HardTimeLimit = s.SoftTimeLimit / 2
	s.ResultDB = s.BrokerDB
	err = s.Validate()
	for _, want := range []string{"must not run as root", "StateDir", "WorkerQueues", "HardTimeLimit", "three different Redis databases"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
	if _, err := Render(s, nil); err == nil {
		t.Error("Render accepted invalid settings")
	}
}

// TestSecretsOnlyInEnvFile is the guarantee: the three secrets appear in
// aird.env and nowhere else, not in rendered files, not in errors, not when
// settings or files are printed, logged or marshalled.
func TestSecretsOnlyInEnvFile(t *testing.T) {
	s := testSettings()
	secrets := []string{testDBPassword, testRedisPassword, testSecretKey, testEncryptionKey}
	files := mustRender(t, s, nil)
	for _, f := range files {
		for _, sec := range secrets {
			// In the env file, in its quoted form (TestEnvFileRoundTrip
			// reads it back); elsewhere in no form at all.
			if in := containsAny(f.Content, secretForms(sec)); in != f.Secret {
				t.Errorf("%s: contains secret %q: %v (Secret=%v)", f.Path, sec[:6], in, f.Secret)
			}
		}
	}
	noSecret := func(what, text string) {
		t.Helper()
		for _, sec := range secrets {
			if strings.Contains(text, sec) {
				t.Errorf("%s shows secret %q:\n%s", what, sec[:6], text)
			}
		}
	}
	env := byPath(t, files, "/etc/aird/aird.env")
	noSecret("File.Redacted", string(env.Redacted().Content))
	if !strings.Contains(string(env.Redacted().Content), "AIRD_DATABASE_PASSWORD="+Redacted) {
		t.Errorf("redacted env file lost its keys:\n%s", env.Redacted().Content)
	}
	noSecret("File.String", env.String())
	noSecret("fmt", fmt.Sprintf("%v %+v %#v %s %q %x", s, s, s, s.DBPassword, s.RedisPassword, s.SecretKey))
	js, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	noSecret("json", string(js))
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("settings", "s", s, "pw", s.DBPassword)
	noSecret("slog", logged.String())

	redacted := mustRender(t, s.Redacted(), nil)
	for _, f := range redacted {
		noSecret("render of Settings.Redacted "+f.Path, string(f.Content))
	}
	if s.DBPassword.Reveal() != testDBPassword {
		t.Error("Redacted modified the original settings")
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	s := testSettings()
	// An override that writes a secret into a unit is refused, and the
	// refusal names the setting, not the value.
	_, err := Render(s, fstest.MapFS{"aird-scheduler.service.tmpl": {Data: []byte("[Service]\nEnvironment=PW={{.DBPassword.Reveal}}\n")}})
	if err == nil || !strings.Contains(err.Error(), "value of DBPassword") || strings.Contains(err.Error(), testDBPassword) {
		t.Errorf("leaking override: err = %v", err)
	}
	// Also when quoted for HCL or escaped into a URL.
	for _, leak := range []string{`x = {{hcl .SecretKey.Reveal}}`, `url = "postgres://u:{{urlquery .RedisPassword.Reveal}}@h/db"`} {
		_, err = Render(s, fstest.MapFS{"aird.hcl.tmpl": {Data: []byte(leak + "\n")}})
		if err == nil || !strings.Contains(err.Error(), "aird.hcl would contain the value of") {
			t.Errorf("override %q: err = %v", leak, err)
		}
	}
	// Printing a secret without Reveal yields the marker, which is no leak.
	files := mustRender(t, s, fstest.MapFS{"aird-scheduler.service.tmpl": {Data: []byte("# {{.DBPassword}} {{printf \"%x\" .RedisPassword}}\n")}})
	if got := string(files[0].Content); got != "# "+Redacted+" "+Redacted+"\n" {
		t.Errorf("secret printed as %q", got)
	}
	// Invalid secrets are reported by name only.
	bad := s
	bad.RedisPassword = "abc\ndef-unique-7731"
	_, err = Render(bad, nil)
	if err == nil || strings.Contains(err.Error(), "def-unique-7731") || !strings.Contains(err.Error(), "RedisPassword: contains a control character") {
		t.Errorf("invalid secret: err = %v", err)
	}
	// And whatever an error says, scrub removes secret values from it.
	err = scrub(fmt.Errorf("wrapped: %w", errors.New("boom "+testSecretKey)), s)
	if strings.Contains(err.Error(), testSecretKey) || !strings.Contains(err.Error(), "boom "+Redacted) || errors.Unwrap(err) != nil {
		t.Errorf("scrub: %v", err)
	}
}

// TestEnvFileRoundTrip reads aird.env back the way a shell does; systemd's
// EnvironmentFile= parser unescapes double-quoted values the same way.
func TestEnvFileRoundTrip(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not found")
	}
	env := byPath(t, mustRender(t, testSettings(), nil), "/etc/aird/aird.env")
	p := path.Join(t.TempDir(), "aird.env")
	if err := os.WriteFile(p, env.Content, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bash, "-c", `set -a; . "$1"; printf '%s\0%s\0%s\0%s' "$AIRD_DATABASE_PASSWORD" "$AIRD_REDIS_PASSWORD" "$AIRD_WEBSERVER_SECRET_KEY" "$AIRD_ENCRYPTION_KEY"`, "_", p).Output()
	if err != nil {
		t.Fatalf("sourcing env file: %v", err)
	}
	got := strings.Split(string(out), "\x00")
	if want := []string{testDBPassword, testRedisPassword, testSecretKey, testEncryptionKey}; !slices.Equal(got, want) {
		t.Errorf("env file round trip: got %q, want %q", got, want)
	}
}

func TestRenderDeterministic(t *testing.T) {
	a, b := mustRender(t, testSettings(), nil), mustRender(t, testSettings(), nil)
	for i := range a {
		if !bytes.Equal(a[i].Content, b[i].Content) {
			t.Errorf("%s differs between two renders", a[i].Path)
		}
	}
}

// The encryption key is optional: without it the env file simply lacks the
// line (aird then takes connections from AIRD_CONN_* only).
func TestEncryptionKeyOptional(t *testing.T) {
	s := testSettings()
	s.EncryptionKey = ""
	env := byPath(t, mustRender(t, s, nil), "/etc/aird/aird.env")
	if strings.Contains(string(env.Content), "AIRD_ENCRYPTION_KEY") {
		t.Errorf("env file names AIRD_ENCRYPTION_KEY without a key:\n%s", env.Content)
	}
}
