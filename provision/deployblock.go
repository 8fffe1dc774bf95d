package provision

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/airctl/airctl/deploy/render"
	"github.com/airctl/airctl/provision/config"
	"github.com/airctl/airctl/provision/state"
)

// DeploySpec is one evaluated deploy "NAME" { ... } block: where to deploy
// (hosts and how to reach them) and what (render.Settings). The deploy
// block schema, every attribute optional unless marked:
//
//	hosts              list of host names or IPs, "host:port" allowed (required)
//	user               SSH login user (required)
//	port               SSH port for hosts without one (default 22)
//	known_hosts        known_hosts *content*, e.g. file("known_hosts")
//	known_hosts_file   path of a known_hosts file (also where
//	                   -trust-on-first-use records keys); default
//	                   ~/.ssh/known_hosts when neither is given
//	ssh_key            path of an unencrypted private key file
//	ssh_key_env        name of an environment variable holding a private key
//	                   (neither: ssh-agent)
//	dags               local DAG folder, relative to the configuration directory
//	database           the database: a google_sql_database_instance (its
//	                   public_ip_address, else its first ip_address, is the
//	                   host), a host string, or an object with any of host,
//	                   port, name, user, password, sslmode
//	log_bucket         GCS bucket name for task logs
//	base_url           the webserver's public URL
//	root               release root on the hosts (default /opt/airctl)
//	trust_on_first_use record unknown host keys (default false)
//	systemctl, sudo    command prefixes on the hosts (default "sudo -n
//	                   systemctl", "sudo -n")
//	dest_dir           prefix for every path written on the hosts, like
//	                   make's DESTDIR (tests, staging); empty in production
//	service "worker"    { instances, concurrency, queues, prefetch }
//	service "webserver" { port, workers }
//	service "flower"    { port }
//	secrets             { db_password, redis_password, secret_key, encryption_key }
//
// Secrets are taken from expressions, normally sensitive variables
// (var.redis_password, set through TF_VAR_/AIRCTL_VAR_ or a tfvars file
// kept out of version control); they are not generated and stored, since
// the state is shared more widely than the hosts' env files. A secret
// written as a literal draws a warning.
type DeploySpec struct {
	Name       string
	Hosts      []string
	User       string
	Port       int
	KnownHosts string // content
	// KnownHostsGiven tells an empty known_hosts (trust no host yet) from
	// none (use known_hosts_file or ~/.ssh/known_hosts).
	KnownHostsGiven bool
	KnownHostsFile  string // absolute; "" when not given
	SSHKey          string // absolute; "" when not given
	SSHKeyEnv       string
	Dags            string // absolute; "" ships no DAGs
	TrustOnFirstUse bool
	Systemctl, Sudo string
	DestDir         string
	Settings        render.Settings
	DeclRange       hcl.Range
}

// EvalDeploy evaluates every deploy block against the resource values in
// st and the variables and locals.
//
// Resource values are decoded from the state's attribute JSON with the
// type ctyjson infers from it (objects and tuples), not with the provider
// schemas: the deploy commands then need no provider instance (no cloud
// credentials to read releases or logs), and references like
// x.network_interface[0].access_config[0].nat_ip traverse tuples exactly as
// lists. Sensitive attributes keep their marks.
func EvalDeploy(cfg *config.Config, st *state.State, vars map[string]cty.Value) (map[string]DeploySpec, hcl.Diagnostics) {
	scope, diags := deployScope(cfg, st, vars)
	if diags.HasErrors() {
		return nil, diags
	}
	ctx, err := scope.EvalContext()
	if err != nil {
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot evaluate the deploy block", Detail: err.Error()})
	}
	names := make([]string, 0, len(cfg.Deploys))
	for n := range cfg.Deploys {
		names = append(names, n)
	}
	sort.Strings(names)
	out := map[string]DeploySpec{}
	for _, n := range names {
		spec, d := evalDeployBlock(cfg, cfg.Deploys[n], ctx)
		diags = append(diags, d...)
		if !d.HasErrors() {
			out[n] = spec
		}
	}
	return out, diags
}

// deployScope builds the resources, data sources and locals from state.
func deployScope(cfg *config.Config, st *state.State, vars map[string]cty.Value) (*config.Scope, hcl.Diagnostics) {
	s := &config.Scope{
		BaseDir: cfg.Dir, Variables: vars, Locals: map[string]cty.Value{},
		Resources: map[string]cty.Value{}, DataSources: map[string]cty.Value{},
		Functions: config.Functions(cfg.Dir),
	}
	var diags hcl.Diagnostics
	if st != nil {
		for _, r := range st.Resources {
			v, err := stateResourceValue(r)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unreadable resource in state",
					Detail: fmt.Sprintf("%s: %v. Run \"airctl apply\" to refresh it.", r.Addr(), err)})
				continue
			}
			if r.Mode == state.Data {
				s.DataSources["data."+r.Type+"."+r.Name] = v
			} else {
				s.Resources[r.Type+"."+r.Name] = v
			}
		}
	}
	// Resources in the configuration but not (yet) in state are unknown,
	// so a reference to them says "not provisioned" instead of "undeclared".
	for addr := range cfg.Resources {
		if _, ok := s.Resources[addr]; !ok {
			s.Resources[addr] = cty.DynamicVal
		}
	}
	for addr := range cfg.DataSources {
		if _, ok := s.DataSources[addr]; !ok {
			s.DataSources[addr] = cty.DynamicVal
		}
	}
	return s, append(diags, evalLocals(cfg, s)...)
}

// stateResourceValue is a resource's value as expressions see it: one
// object, a tuple (count) or an object by key (for_each).
func stateResourceValue(r *state.Resource) (cty.Value, error) {
	byInt := map[int]cty.Value{}
	byStr := map[string]cty.Value{}
	for _, in := range r.Instances {
		ty, err := ctyjson.ImpliedType(in.Attributes)
		if err != nil {
			return cty.NilVal, err
		}
		v, err := in.Value(ty)
		if err != nil {
			return cty.NilVal, err
		}
		if i, ok := in.IndexKey.Int(); ok {
			byInt[i] = v
		} else if k, ok := in.IndexKey.Str(); ok {
			byStr[k] = v
		} else {
			return v, nil
		}
	}
	if len(byStr) > 0 {
		return cty.ObjectVal(byStr), nil
	}
	vals := make([]cty.Value, 0, len(byInt))
	for i := 0; i < len(byInt); i++ {
		v, ok := byInt[i]
		if !ok {
			v = cty.DynamicVal
		}
		vals = append(vals, v)
	}
	return cty.TupleVal(vals), nil
}

// evalLocals evaluates locals in dependency order: each round evaluates
// those whose local references are done (the loader rejected cycles).
func evalLocals(cfg *config.Config, s *config.Scope) hcl.Diagnostics {
	var diags hcl.Diagnostics
	pending := map[string]*config.Local{}
	for n, l := range cfg.Locals {
		pending[n] = l
	}
	for len(pending) > 0 {
		progressed := false
		for n, l := range pending {
			if !localsReady(l, s.Locals) {
				continue
			}
			ctx, err := s.EvalContext()
			if err != nil {
				return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot evaluate locals", Detail: err.Error()})
			}
			v, d := l.Expr.Value(ctx)
			if d.HasErrors() {
				// A local the deploy block does not use must not stop it:
				// keep it unknown, and report only if it is referenced.
				v = cty.DynamicVal
			}
			s.Locals[n] = v
			delete(pending, n)
			progressed = true
		}
		if !progressed {
			for n := range pending {
				s.Locals[n] = cty.DynamicVal
			}
			break
		}
	}
	return diags
}

func localsReady(l *config.Local, done map[string]cty.Value) bool {
	for _, r := range l.References {
		if _, ok := done[r.Name]; r.Kind == config.RefLocal && !ok {
			return false
		}
	}
	return true
}

// deploySchema is the deploy block's top level.
var deploySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "hosts", Required: true}, {Name: "user", Required: true}, {Name: "port"},
		{Name: "known_hosts"}, {Name: "known_hosts_file"}, {Name: "ssh_key"}, {Name: "ssh_key_env"},
		{Name: "dags"}, {Name: "database"}, {Name: "log_bucket"}, {Name: "base_url"}, {Name: "root"},
		{Name: "trust_on_first_use"}, {Name: "systemctl"}, {Name: "sudo"}, {Name: "dest_dir"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "service", LabelNames: []string{"name"}}, {Type: "secrets"}},
}

// serviceSchemas are the attributes each service block takes.
var serviceSchemas = map[string][]string{
	"worker":    {"instances", "concurrency", "queues", "prefetch"},
	"webserver": {"port", "workers"},
	"flower":    {"port"},
}

var secretsSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "db_password"}, {Name: "redis_password"}, {Name: "secret_key"}, {Name: "encryption_key"}}}

func evalDeployBlock(cfg *config.Config, d *config.Deploy, ctx *hcl.EvalContext) (DeploySpec, hcl.Diagnostics) {
	content, diags := d.Config.Content(deploySchema)
	e := &evaluator{ctx: ctx, diags: diags}
	a := content.Attributes
	spec := DeploySpec{Name: d.Name, DeclRange: d.DeclRange, Settings: render.Defaults(), Port: 22}
	spec.Hosts = e.strings(a["hosts"])
	spec.User = e.str(a["user"], "")
	spec.Port = e.integer(a["port"], 22)
	spec.KnownHosts = e.str(a["known_hosts"], "")
	spec.KnownHostsGiven = a["known_hosts"] != nil
	if a["known_hosts"] != nil && a["known_hosts_file"] != nil {
		e.errorf(a["known_hosts_file"].Range, "Conflicting arguments", "Give known_hosts (the content) or known_hosts_file (a path), not both.")
	}
	spec.KnownHostsFile = e.path(cfg.Dir, a["known_hosts_file"])
	spec.SSHKey = e.path(cfg.Dir, a["ssh_key"])
	spec.SSHKeyEnv = e.str(a["ssh_key_env"], "")
	spec.Dags = e.path(cfg.Dir, a["dags"])
	spec.TrustOnFirstUse = e.boolean(a["trust_on_first_use"])
	spec.Systemctl = e.str(a["systemctl"], "")
	spec.Sudo = e.str(a["sudo"], "")
	spec.DestDir = e.str(a["dest_dir"], "")
	s := &spec.Settings
	s.ReleaseRoot = e.str(a["root"], s.ReleaseRoot)
	s.LogBucket = e.str(a["log_bucket"], "")
	s.BaseURL = e.str(a["base_url"], "")
	if attr := a["hosts"]; attr != nil && len(spec.Hosts) == 0 && !e.diags.HasErrors() {
		e.errorf(attr.Expr.Range(), "No hosts", "hosts is empty: list at least one host to deploy to.")
	}
	if attr := a["database"]; attr != nil {
		e.database(attr, s)
	}
	seen := map[string]*hcl.Block{}
	for _, b := range content.Blocks {
		switch b.Type {
		case "secrets":
			if prev := seen["secrets"]; prev != nil {
				e.errorf(b.DefRange, "Duplicate secrets block", "secrets was already given at %s.", prev.DefRange)
				continue
			}
			seen["secrets"] = b
			e.secrets(b.Body, s)
		case "service":
			name := b.Labels[0]
			if prev := seen["service."+name]; prev != nil {
				e.errorf(b.DefRange, "Duplicate service block", "service %q was already given at %s.", name, prev.DefRange)
				continue
			}
			seen["service."+name] = b
			e.service(b, s)
		}
	}
	if !e.diags.HasErrors() {
		if err := s.Validate(); err != nil {
			e.errorf(d.DeclRange, "Invalid deploy settings", "%v.", err)
		}
	}
	return spec, e.diags
}

// evaluator evaluates attributes and collects their diagnostics.
type evaluator struct {
	ctx   *hcl.EvalContext
	diags hcl.Diagnostics
}

func (e *evaluator) errorf(rng hcl.Range, summary, format string, args ...any) {
	e.diags = append(e.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: rng.Ptr()})
}

// value evaluates attr as ty; ok is false when absent, null or failed.
// Marks (sensitivity) are dropped: the caller decides where values go.
func (e *evaluator) value(attr *hcl.Attribute, ty cty.Type) (cty.Value, bool) {
	if attr == nil {
		return cty.NilVal, false
	}
	v, d := config.EvalExpr(attr.Expr, e.ctx, ty)
	e.diags = append(e.diags, d...)
	if d.HasErrors() {
		return cty.NilVal, false
	}
	v, _ = v.UnmarkDeep()
	if !v.IsWhollyKnown() {
		e.errorf(attr.Expr.Range(), "Value not known yet",
			"%s depends on a resource that is not provisioned yet: run \"airctl apply\" first.", attr.Name)
		return cty.NilVal, false
	}
	return v, !v.IsNull()
}

func (e *evaluator) str(attr *hcl.Attribute, def string) string {
	if v, ok := e.value(attr, cty.String); ok {
		return v.AsString()
	}
	return def
}

func (e *evaluator) path(dir string, attr *hcl.Attribute) string {
	p := e.str(attr, "")
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

func (e *evaluator) integer(attr *hcl.Attribute, def int) int {
	v, ok := e.value(attr, cty.Number)
	if !ok {
		return def
	}
	i, acc := v.AsBigFloat().Int64()
	if acc != 0 {
		e.errorf(attr.Expr.Range(), "Invalid number", "%s must be a whole number.", attr.Name)
		return def
	}
	return int(i)
}

func (e *evaluator) boolean(attr *hcl.Attribute) bool {
	v, ok := e.value(attr, cty.Bool)
	return ok && v.True()
}

func (e *evaluator) strings(attr *hcl.Attribute) []string {
	v, ok := e.value(attr, cty.List(cty.String))
	if !ok {
		return nil
	}
	var out []string
	for _, el := range v.AsValueSlice() {
		if el.IsNull() || el.AsString() == "" {
			e.errorf(attr.Expr.Range(), "Empty list element", "%s must not contain empty or null strings.", attr.Name)
			continue
		}
		out = append(out, el.AsString())
	}
	return out
}

var databaseKeys = []string{"host", "port", "name", "user", "password", "sslmode"}

// database reads the database attribute in one of its three forms.
func (e *evaluator) database(attr *hcl.Attribute, s *render.Settings) {
	v, ok := e.value(attr, cty.DynamicPseudoType)
	if !ok {
		return
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		s.DBHost = v.AsString()
	case (ty.IsObjectType() || ty.IsMapType()) && isCloudSQL(v):
		s.DBHost = cloudSQLHost(v)
		if s.DBHost == "" {
			e.errorf(attr.Expr.Range(), "Database has no IP address", "The Cloud SQL instance has no public_ip_address or ip_address in the state: run \"airctl apply\", or give database = { host = \"...\" }.")
		}
	case ty.IsObjectType() || ty.IsMapType():
		e.databaseObject(attr, v, s)
	default:
		e.errorf(attr.Expr.Range(), "Invalid database", "database must be a google_sql_database_instance, a host name, or an object with %s; got %s.", strings.Join(databaseKeys, ", "), ty.FriendlyName())
	}
}

func isCloudSQL(v cty.Value) bool {
	return v.Type().IsObjectType() && (v.Type().HasAttribute("public_ip_address") || v.Type().HasAttribute("ip_address"))
}

func cloudSQLHost(v cty.Value) string {
	if v.Type().HasAttribute("public_ip_address") {
		if ip := v.GetAttr("public_ip_address"); ip.Type() == cty.String && !ip.IsNull() && ip.AsString() != "" {
			return ip.AsString()
		}
	}
	if !v.Type().HasAttribute("ip_address") {
		return ""
	}
	ips := v.GetAttr("ip_address")
	if ips.IsNull() || !ips.CanIterateElements() {
		return ""
	}
	for it := ips.ElementIterator(); it.Next(); {
		_, el := it.Element()
		if el.Type().IsObjectType() && el.Type().HasAttribute("ip_address") {
			if ip := el.GetAttr("ip_address"); ip.Type() == cty.String && !ip.IsNull() && ip.AsString() != "" {
				return ip.AsString()
			}
		}
	}
	return ""
}

func (e *evaluator) databaseObject(attr *hcl.Attribute, v cty.Value, s *render.Settings) {
	for it := v.ElementIterator(); it.Next(); {
		k, el := it.Element()
		key := k.AsString()
		if el.IsNull() {
			continue
		}
		want := cty.String
		if key == "port" {
			want = cty.Number
		}
		conv, err := convertTo(el, want)
		if err != nil {
			e.errorf(attr.Expr.Range(), "Invalid database", "database.%s: %v.", key, err)
			continue
		}
		switch key {
		case "host":
			s.DBHost = conv.AsString()
		case "port":
			p, _ := conv.AsBigFloat().Int64()
			s.DBPort = int(p)
		case "name":
			s.DBName = conv.AsString()
		case "user":
			s.DBUser = conv.AsString()
		case "password":
			s.DBPassword = render.Secret(conv.AsString())
		case "sslmode":
			s.DBSSLMode = conv.AsString()
		default:
			e.errorf(attr.Expr.Range(), "Unsupported database attribute", "database has no attribute %q; it takes %s.", key, strings.Join(databaseKeys, ", "))
		}
	}
}

func (e *evaluator) secrets(body hcl.Body, s *render.Settings) {
	content, d := body.Content(secretsSchema)
	e.diags = append(e.diags, d...)
	for name, attr := range content.Attributes {
		if len(attr.Expr.Variables()) == 0 {
			e.diags = append(e.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Secret written in the configuration",
				Detail:  fmt.Sprintf("secrets.%s is a literal: anyone who reads the configuration knows it. Use a sensitive variable (var.%s) set from the environment or an untracked tfvars file.", name, name),
				Subject: attr.Expr.Range().Ptr()})
		}
		val := render.Secret(e.str(attr, ""))
		switch name {
		case "db_password":
			if !s.DBPassword.IsSet() {
				s.DBPassword = val
			}
		case "redis_password":
			s.RedisPassword = val
		case "secret_key":
			s.SecretKey = val
		case "encryption_key":
			s.EncryptionKey = val
		}
	}
}

func (e *evaluator) service(b *hcl.Block, s *render.Settings) {
	names, ok := serviceSchemas[b.Labels[0]]
	if !ok {
		e.errorf(b.LabelRanges[0], "Unsupported service", "There is no service %q; the services are worker, webserver and flower.", b.Labels[0])
		return
	}
	sch := &hcl.BodySchema{}
	for _, n := range names {
		sch.Attributes = append(sch.Attributes, hcl.AttributeSchema{Name: n})
	}
	content, d := b.Body.Content(sch)
	e.diags = append(e.diags, d...)
	a := content.Attributes
	switch b.Labels[0] {
	case "worker":
		s.WorkerInstances = e.integer(a["instances"], s.WorkerInstances)
		s.WorkerConcurrency = e.integer(a["concurrency"], s.WorkerConcurrency)
		s.WorkerPrefetch = e.integer(a["prefetch"], s.WorkerPrefetch)
		if q := e.strings(a["queues"]); q != nil {
			s.WorkerQueues = q
		}
	case "webserver":
		s.WebserverPort = e.integer(a["port"], s.WebserverPort)
		s.WebserverWorkers = e.integer(a["workers"], s.WebserverWorkers)
	case "flower":
		s.FlowerPort = e.integer(a["port"], s.FlowerPort)
	}
}

func convertTo(v cty.Value, ty cty.Type) (cty.Value, error) {
	out, err := convert.Convert(v, ty)
	if err != nil {
		return cty.NilVal, err
	}
	if !out.IsKnown() {
		return cty.NilVal, fmt.Errorf("not known yet: run \"airctl apply\" first")
	}
	return out, nil
}
