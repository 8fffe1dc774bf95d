package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

const referenceDir = "testdata/reference"

func loadReference(t *testing.T) *Config {
	t.Helper()
	cfg, diags := LoadDir(referenceDir)
	if diags.HasErrors() {
		t.Fatalf("loading %s: %s", referenceDir, renderDiags(cfg, diags))
	}
	return cfg
}

func renderDiags(cfg *Config, diags hcl.Diagnostics) string {
	var buf bytes.Buffer
	_ = cfg.WriteDiagnostics(&buf, diags, 0, false)
	return buf.String()
}

func sortedKeys[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func refAddrs(refs []Reference) []string {
	var out []string
	for _, r := range refs {
		if !slices.Contains(out, r.Addr) {
			out = append(out, r.Addr)
		}
	}
	slices.Sort(out)
	return out
}

func TestLoadReferenceStructure(t *testing.T) {
	cfg, diags := LoadDir(referenceDir)
	if diags.HasErrors() {
		t.Fatal(renderDiags(cfg, diags))
	}
	// The only diagnostic is the note that required_version is not checked.
	if len(diags) != 1 || diags[0].Severity != hcl.DiagWarning || !strings.Contains(diags[0].Summary, "version constraint ignored") {
		t.Errorf("diagnostics = %s", renderDiags(cfg, diags))
	}

	want := map[string][]string{
		"providers": {"google", "google.west"},
		"variables": {"authorized_networks", "db_password", "domain_name", "extra_disks", "firewall_rules",
			"labels", "machine_type", "project_id", "region", "worker_count", "zone"},
		"locals":  {"common_labels", "name_prefix", "startup_script", "subnet_cidr", "worker_names"},
		"data":    {"data.google_compute_image.debian"},
		"outputs": {"db_connection", "dr_bucket", "firewall_names", "lb_url", "vm_ip"},
		"deploys": {"airflow"},
	}
	got := map[string][]string{
		"providers": sortedKeys(cfg.Providers), "variables": sortedKeys(cfg.Variables),
		"locals": sortedKeys(cfg.Locals), "data": sortedKeys(cfg.DataSources),
		"outputs": sortedKeys(cfg.Outputs), "deploys": sortedKeys(cfg.Deploys),
	}
	for k := range want {
		if !slices.Equal(got[k], want[k]) {
			t.Errorf("%s = %v, want %v", k, got[k], want[k])
		}
	}
	if n := len(cfg.Resources); n != 21 {
		t.Errorf("%d resources: %v", n, sortedKeys(cfg.Resources))
	}
}

func TestLoadReferenceTerraformBlock(t *testing.T) {
	cfg := loadReference(t)
	tf := cfg.Terraform
	if tf.RequiredVersion != ">= 1.5.0" {
		t.Errorf("required_version = %q", tf.RequiredVersion)
	}
	if req := tf.RequiredProviders["google"]; req.Source != "hashicorp/google" || req.Version != "~> 5.30" {
		t.Errorf("required google = %+v", req)
	}
	be := tf.Backend
	if be == nil || be.Type != "gcs" {
		t.Fatalf("backend = %+v", be)
	}
	if !be.Attrs["bucket"].RawEquals(cty.StringVal("airflow-tfstate")) || !be.Attrs["prefix"].RawEquals(cty.StringVal("airflow/prod")) {
		t.Errorf("backend attrs = %#v", be.Attrs)
	}
	if p := cfg.Providers["google.west"]; p.Alias != "west" || p.Name != "google" {
		t.Errorf("aliased provider = %+v", p)
	}
	if refs := refAddrs(cfg.Providers["google"].References); !slices.Equal(refs, []string{"var.project_id", "var.region", "var.zone"}) {
		t.Errorf("provider refs = %v", refs)
	}
}

func TestLoadReferenceVariables(t *testing.T) {
	cfg := loadReference(t)
	pid := cfg.Variables["project_id"]
	if !pid.Required() || pid.Type != cty.String || len(pid.Validations) != 1 || pid.ParseMode != ParseLiteral {
		t.Errorf("project_id = %+v", pid)
	}
	if !cfg.Variables["db_password"].Sensitive {
		t.Error("db_password not sensitive")
	}
	fw := cfg.Variables["firewall_rules"]
	if fw.ParseMode != ParseHCL || fw.TypeDefaults == nil {
		t.Fatalf("firewall_rules = %+v", fw)
	}
	// Optional attribute defaults are applied to the default value itself.
	http := fw.Default.Index(cty.StringVal("http"))
	if !http.GetAttr("priority").RawEquals(cty.NumberIntVal(1000)) ||
		!http.GetAttr("source_ranges").RawEquals(cty.ListVal([]cty.Value{cty.StringVal("0.0.0.0/0")})) {
		t.Errorf("firewall_rules.http = %#v", http)
	}
}

func TestLoadReferenceResources(t *testing.T) {
	cfg := loadReference(t)
	vm := cfg.Resources["google_compute_instance.airflow_vm"]
	if vm == nil {
		t.Fatal("no VM")
	}
	if !vm.Lifecycle.CreateBeforeDestroy || vm.Lifecycle.PreventDestroy {
		t.Errorf("vm lifecycle = %+v", vm.Lifecycle)
	}
	var ignored []string
	for _, tr := range vm.Lifecycle.IgnoreChanges {
		ignored = append(ignored, strings.TrimPrefix(traversalString(tr), "."))
	}
	if !slices.Equal(ignored, []string{`metadata["ssh-keys"]`, "labels"}) {
		t.Errorf("ignore_changes = %v", ignored)
	}
	if got := refAddrs(vm.DependsOn); !slices.Equal(got, []string{"google_sql_database_instance.airflow_db"}) {
		t.Errorf("depends_on = %v", got)
	}
	// The dynamic block's iterator (disk.value) is not a reference; what it
	// iterates over is.
	wantRefs := []string{"data.google_compute_image.debian", "google_compute_disk.extra", "google_compute_subnetwork.subnet",
		"local.common_labels", "local.name_prefix", "local.startup_script", "var.machine_type", "var.zone"}
	if got := refAddrs(vm.References); !slices.Equal(got, wantRefs) {
		t.Errorf("vm refs = %v\nwant %v", got, wantRefs)
	}
	if vm.ProviderAddr() != "google" || vm.Count != nil || vm.ForEach != nil {
		t.Errorf("vm meta: provider %s count %v for_each %v", vm.ProviderAddr(), vm.Count, vm.ForEach)
	}
	// The body handed to the engine has no meta-arguments left.
	content, _, _ := vm.Config.PartialContent(resourceMetaSchema())
	if len(content.Attributes) != 0 || len(content.Blocks) != 0 {
		t.Errorf("meta-arguments left in Config: %v %v", content.Attributes, content.Blocks)
	}

	db := cfg.Resources["google_sql_database_instance.airflow_db"]
	if !db.Lifecycle.PreventDestroy {
		t.Error("db prevent_destroy not set")
	}
	dr := cfg.Resources["google_storage_bucket.dr_backups"]
	if dr.ProviderAddr() != "google.west" || dr.Count == nil {
		t.Errorf("dr bucket provider %s count %v", dr.ProviderAddr(), dr.Count)
	}
	if got := refAddrs(dr.References); !slices.Equal(got, []string{"count.index", "var.project_id", "var.worker_count"}) {
		t.Errorf("dr refs = %v", got)
	}
	fw := cfg.Resources["google_compute_firewall.rules"]
	if fw.ForEach == nil || !slices.Contains(refAddrs(fw.References), "each.value") {
		t.Errorf("firewall for_each %v refs %v", fw.ForEach, refAddrs(fw.References))
	}
}

func TestLoadReferenceOutputsAndDeploy(t *testing.T) {
	cfg := loadReference(t)
	if !cfg.Outputs["db_connection"].Sensitive || cfg.Outputs["vm_ip"].Sensitive {
		t.Error("output sensitivity wrong")
	}
	if cfg.Outputs["vm_ip"].Description != "Public IP of the VM." {
		t.Errorf("description = %q", cfg.Outputs["vm_ip"].Description)
	}
	if got := refAddrs(cfg.Outputs["firewall_names"].DependsOn); !slices.Equal(got, []string{"google_compute_firewall.rules"}) {
		t.Errorf("output depends_on = %v", got)
	}
	d := cfg.Deploys["airflow"]
	want := []string{"google_compute_instance.airflow_vm", "google_sql_database_instance.airflow_db",
		"google_storage_bucket.airflow_logs", "var.domain_name", "var.worker_count"}
	if got := refAddrs(d.References); !slices.Equal(got, want) {
		t.Errorf("deploy refs = %v", got)
	}
	// The body stays raw: the deployer decodes its service blocks.
	content, _, diags := d.Config.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "service", LabelNames: []string{"name"}}}})
	if diags.HasErrors() || len(content.Blocks) != 3 {
		t.Errorf("deploy service blocks: %d %v", len(content.Blocks), diags)
	}
	if !strings.HasSuffix(d.DeclRange.Filename, "deploy.airctl.hcl") || d.DeclRange.Start.Line != 2 {
		t.Errorf("deploy range = %s", d.DeclRange)
	}
}

func TestReferenceSubjectRanges(t *testing.T) {
	cfg := loadReference(t)
	out := cfg.Outputs["vm_ip"]
	if len(out.References) != 1 {
		t.Fatalf("refs = %v", out.References)
	}
	ref := out.References[0]
	// value = google_compute_instance.airflow_vm.network_interface[0]...
	// The subject covers the resource address; the rest is Remaining.
	src := string(cfg.Files()[ref.Subject.Filename].Bytes[ref.Subject.Start.Byte:ref.Subject.End.Byte])
	if src != "google_compute_instance.airflow_vm" || ref.Kind != RefResource || ref.Type != "google_compute_instance" || ref.Name != "airflow_vm" {
		t.Errorf("ref = %+v (%q)", ref, src)
	}
	if got := traversalString(ref.Remaining); got != ".network_interface[0].access_config[0].nat_ip" {
		t.Errorf("remaining = %s", got)
	}
}

func traversalString(t hcl.Traversal) string {
	var b strings.Builder
	for _, step := range t {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			b.WriteString(s.Name)
		case hcl.TraverseAttr:
			b.WriteString("." + s.Name)
		case hcl.TraverseIndex:
			if s.Key.Type() == cty.String {
				fmt.Fprintf(&b, "[%q]", s.Key.AsString())
			} else {
				fmt.Fprintf(&b, "[%s]", s.Key.AsBigFloat().Text('f', -1))
			}
		}
	}
	return b.String()
}

func TestLoadDirFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.tf", `variable "a" {}`)
	write("b.airctl.hcl", `deploy "d" { x = var.a }`)
	write("notes.hcl", `this is not loaded`)
	write(".hidden.tf", `this is not loaded`)
	write("c.tf~", `this is not loaded`)
	cfg, diags := LoadDir(dir)
	if diags.HasErrors() {
		t.Fatal(renderDiags(cfg, diags))
	}
	if len(cfg.Variables) != 1 || len(cfg.Deploys) != 1 || len(cfg.Files()) != 2 {
		t.Errorf("vars %v deploys %v files %v", cfg.Variables, cfg.Deploys, cfg.Files())
	}

	write("main_override.tf", `variable "b" {}`)
	_, diags = LoadDir(dir)
	if !diags.HasErrors() || diags[0].Summary != "Override files are not supported" {
		t.Errorf("override file: %v", diags)
	}

	empty := t.TempDir()
	if _, diags := LoadDir(empty); !diags.HasErrors() || diags[0].Summary != "No configuration files" {
		t.Errorf("empty dir: %v", diags)
	}
	if _, diags := LoadDir(filepath.Join(empty, "missing")); !diags.HasErrors() {
		t.Error("missing dir loaded")
	}
}

func TestDiagnosticsRenderSnippet(t *testing.T) {
	cfg, diags := Load(".", map[string][]byte{"main.tf": []byte("variable \"x\" {\n  tpye = string\n}\n")})
	out := renderDiags(cfg, diags)
	for _, want := range []string{"Error: Unsupported argument", "on main.tf line 2, in variable \"x\":", "2:   tpye = string", "Did you mean \"type\"?"} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered diagnostics lack %q:\n%s", want, out)
		}
	}
}

func writeFile(t *testing.T, dir, name, src string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkLoad1000Resources loads a chain of 1,000 resources, the size the
// engine's plan benchmark uses, to keep loading a small part of it.
func BenchmarkLoad1000Resources(b *testing.B) {
	var src strings.Builder
	src.WriteString("variable \"prefix\" {\n  default = \"r\"\n}\n")
	for i := range 1000 {
		fmt.Fprintf(&src, "resource \"test_thing\" \"r%d\" {\n  name = \"${var.prefix}-%d\"\n  tags = { n = %d }\n", i, i, i)
		if i > 0 {
			fmt.Fprintf(&src, "  after = test_thing.r%d.id\n", i-1)
		}
		src.WriteString("}\n")
	}
	files := map[string][]byte{"main.tf": []byte(src.String())}
	b.ResetTimer()
	for range b.N {
		cfg, diags := Load(".", files)
		if diags.HasErrors() || len(cfg.Resources) != 1000 {
			b.Fatal(diags)
		}
	}
}
