package render

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/airctl/airctl/workflow/config"
	"github.com/airctl/airctl/workflow/secrets"
)

// newAirdKeys are the aird.hcl keys this package renders (or sets through
// AIRD_<SECTION>_<KEY> variables) that workflow/config does not read yet.
// The aird side adds them; once it has, an entry here is merely redundant.
var newAirdKeys = []string{
	"database.password", // env only: AIRD_DATABASE_PASSWORD
	"redis.address", "redis.password", "redis.broker_db", "redis.rate_limit_db", "redis.result_db",
	"worker.prefetch_multiplier", "worker.acks_late", "worker.soft_time_limit", "worker.hard_time_limit",
	"worker.name", // set per unit instance: AIRD_WORKER_NAME=worker%i@%H
	"logging.remote_base_log_folder",
	"webserver.workers", "webserver.secret_key", // secret_key env only
	"flower.port",
}

// knownAirdKeys reads "section.key" from workflow/config's hcl tags, the
// same walk config's env overrides use.
func knownAirdKeys() []string {
	var keys []string
	root := reflect.TypeFor[config.Config]()
	for i := range root.NumField() {
		section, _, _ := strings.Cut(root.Field(i).Tag.Get("hcl"), ",")
		st := root.Field(i).Type
		for j := range st.NumField() {
			key, _, _ := strings.Cut(st.Field(j).Tag.Get("hcl"), ",")
			keys = append(keys, section+"."+key)
		}
	}
	return keys
}

// hclValues parses aird.hcl and returns each "section.key" as JSON.
func hclValues(t *testing.T, src []byte) map[string]string {
	t.Helper()
	f, diags := hclsyntax.ParseConfig(src, "aird.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("aird.hcl does not parse: %v\n%s", diags, src)
	}
	got := map[string]string{}
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		for name, attr := range b.Body.Attributes {
			v, diags := attr.Expr.Value(nil)
			if diags.HasErrors() {
				t.Fatalf("%s.%s: %v", b.Type, name, diags)
			}
			js, err := ctyjson.Marshal(v, v.Type())
			if err != nil {
				t.Fatal(err)
			}
			got[b.Type+"."+name] = string(js)
		}
	}
	return got
}

func TestAirdHCLReferenceValues(t *testing.T) {
	files := mustRender(t, testSettings(), nil)
	got := hclValues(t, byPath(t, files, "/etc/aird/aird.hcl").Content)
	want := map[string]string{
		"core.dags_folder":               `"/opt/airctl/current/dags"`,
		"core.default_timezone":          `"UTC"`,
		"database.url":                   `"postgres://aird@10.20.30.40:5432/aird?sslmode=require"`,
		"redis.address":                  `"127.0.0.1:6379"`,
		"redis.broker_db":                `0`,
		"redis.rate_limit_db":            `1`,
		"redis.result_db":                `2`,
		"worker.concurrency":             `4`,
		"worker.queues":                  `["default"]`,
		"worker.prefetch_multiplier":     `1`,
		"worker.acks_late":               `true`,
		"worker.soft_time_limit":         `"3600s"`,
		"worker.hard_time_limit":         `"3600s"`,
		"worker.shutdown_grace":          `"30s"`,
		"worker.kill_grace":              `"10s"`,
		"logging.base_log_folder":        `"/var/log/aird"`,
		"logging.remote_base_log_folder": `"gs://airflow-logs/logs"`,
		"webserver.port":                 `80`,
		"webserver.workers":              `2`,
		"webserver.base_url":             `"https://airflow.example.com"`,
		"webserver.default_ui_timezone":  `"Asia/Seoul"`,
		"flower.port":                    `5555`,
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %s, want %s", k, got[k], w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected key %s = %s", k, got[k])
		}
	}
}

func TestAirdHCLOptionalKeysOmitted(t *testing.T) {
	s := testSettings()
	s.LogBucket, s.BaseURL = "", ""
	got := hclValues(t, byPath(t, mustRender(t, s, nil), "/etc/aird/aird.hcl").Content)
	for _, k := range []string{"logging.remote_base_log_folder", "webserver.base_url"} {
		if v, ok := got[k]; ok {
			t.Errorf("%s = %s rendered although unset", k, v)
		}
	}
}

// TestAirdKeysKnownOrAnnounced keeps the render honest about the aird side:
// every key in aird.hcl and every AIRD_ variable the units and env file set
// is one workflow/config reads or one listed in newAirdKeys.
func TestAirdKeysKnownOrAnnounced(t *testing.T) {
	allowed := append(knownAirdKeys(), newAirdKeys...)
	// AIRD_HOME is a convention, the encryption key an env-only secret.
	envNames := map[string]bool{"AIRD_HOME": true, secrets.EnvKey: true}
	for _, k := range allowed {
		envNames["AIRD_"+strings.ToUpper(strings.ReplaceAll(k, ".", "_"))] = true
	}
	files := mustRender(t, testSettings(), nil)
	for k := range hclValues(t, byPath(t, files, "/etc/aird/aird.hcl").Content) {
		if !slices.Contains(allowed, k) {
			t.Errorf("aird.hcl key %s is neither read by workflow/config nor in newAirdKeys", k)
		}
	}
	envVar := regexp.MustCompile(`\bAIRD_[A-Z0-9_]+=`)
	for _, f := range files {
		if strings.HasSuffix(f.Path, ".hcl") {
			continue
		}
		for _, m := range envVar.FindAllString(string(f.Content), -1) {
			if name := strings.TrimSuffix(m, "="); !envNames[name] {
				t.Errorf("%s sets %s, which maps to no known or announced key", f.Path, name)
			}
		}
	}
	for _, k := range newAirdKeys {
		if slices.Contains(knownAirdKeys(), k) {
			t.Logf("%s is now read by workflow/config; drop it from newAirdKeys", k)
		}
	}
}

// TestAirdHCLLoadsInAird feeds the keys aird already knows to
// workflow/config.Load, so their types and formats (durations, lists) are
// the ones aird accepts; keys it does not know yet are cut out first.
func TestAirdHCLLoadsInAird(t *testing.T) {
	src := byPath(t, mustRender(t, testSettings(), nil), "/etc/aird/aird.hcl").Content
	f, diags := hclwrite.ParseConfig(src, "aird.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	known := knownAirdKeys()
	for _, b := range f.Body().Blocks() {
		if !slices.ContainsFunc(known, func(k string) bool { return strings.HasPrefix(k, b.Type()+".") }) {
			f.Body().RemoveBlock(b)
			continue
		}
		for name := range b.Body().Attributes() {
			if !slices.Contains(known, b.Type()+"."+name) {
				b.Body().RemoveAttribute(name)
			}
		}
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "aird.hcl")
	if err := os.WriteFile(p, f.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AIRD_HOME", dir)
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatalf("aird rejects the rendered config: %v\n%s", err, f.Bytes())
	}
	if cfg.Worker.Concurrency != 4 || !slices.Equal(cfg.Worker.Queues, []string{"default"}) ||
		cfg.Webserver.Port != 80 || cfg.Webserver.DefaultUITimezone != "Asia/Seoul" ||
		cfg.Worker.ShutdownGrace != "30s" || cfg.Database.URL != "postgres://aird@10.20.30.40:5432/aird?sslmode=require" ||
		cfg.Core.DagsFolder != "/opt/airctl/current/dags" || cfg.Logging.BaseLogFolder != "/var/log/aird" {
		t.Errorf("aird read %+v", cfg)
	}
}

func TestHCLStringQuoting(t *testing.T) {
	for _, s := range []string{"plain", `q"uo\te`, "${var.x} %{if} $$ %%", "tab\tnl\ncr\r\x01", "ünï"} {
		got := hclValues(t, []byte("b {\n  k = "+hclString(s)+"\n}\n"))["b.k"]
		want, _ := ctyjson.Marshal(cty.StringVal(s), cty.String)
		if got != string(want) {
			t.Errorf("hclString(%q) reads back as %s", s, got)
		}
	}
}
