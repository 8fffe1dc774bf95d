package google

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"
	sqladmin "google.golang.org/api/sqladmin/v1"

	"github.com/airctl/airctl/provision/provider"
)

// google_sql_database_instance. Import ID: projects/P/instances/NAME,
// P/NAME or NAME. settings change in place (instances.update with the
// current settingsVersion); name, region, database_version replace.
// deletion_protection (default true, as in Terraform) is airctl's own
// guard: destroy refuses until it is set to false and applied.

var sqlInstanceSchema = &provider.Schema{
	Attributes: map[string]*provider.Attribute{
		"name":                          {Type: cty.String, Required: true, ForceNew: true},
		"database_version":              {Type: cty.String, Required: true, ForceNew: true},
		"region":                        {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
		"project":                       {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
		"root_password":                 {Type: cty.String, Optional: true, Sensitive: true, Description: "Set at create only; not readable from the API."},
		"deletion_protection":           {Type: cty.Bool, Optional: true, Computed: true, Default: cty.True},
		"connection_name":               {Type: cty.String, Computed: true},
		"public_ip_address":             {Type: cty.String, Computed: true},
		"private_ip_address":            {Type: cty.String, Computed: true},
		"first_ip_address":              {Type: cty.String, Computed: true},
		"self_link":                     {Type: cty.String, Computed: true},
		"service_account_email_address": {Type: cty.String, Computed: true},
		"id":                            {Type: cty.String, Computed: true},
		"ip_address": {Type: cty.List(cty.Object(map[string]cty.Type{
			"ip_address": cty.String, "type": cty.String, "time_to_retire": cty.String,
		})), Computed: true},
	},
	Blocks: map[string]*provider.NestedBlock{
		"settings": {Nesting: provider.NestingList, MinItems: 1, MaxItems: 1, Block: provider.Schema{
			Attributes: map[string]*provider.Attribute{
				"tier":                        {Type: cty.String, Required: true},
				"edition":                     {Type: cty.String, Optional: true, Computed: true, Description: "ENTERPRISE or ENTERPRISE_PLUS; Postgres 16+ defaults to ENTERPRISE_PLUS, which db-custom-* tiers need set to ENTERPRISE."},
				"disk_size":                   {Type: cty.Number, Optional: true, Computed: true},
				"disk_type":                   {Type: cty.String, Optional: true, Computed: true},
				"disk_autoresize":             {Type: cty.Bool, Optional: true, Computed: true},
				"availability_type":           {Type: cty.String, Optional: true, Computed: true},
				"activation_policy":           {Type: cty.String, Optional: true, Computed: true},
				"deletion_protection_enabled": {Type: cty.Bool, Optional: true, Computed: true},
				"user_labels":                 {Type: cty.Map(cty.String), Optional: true},
				"version":                     {Type: cty.Number, Computed: true, Description: "settingsVersion, for optimistic locking."},
			},
			Blocks: map[string]*provider.NestedBlock{
				"backup_configuration": {Nesting: provider.NestingList, MaxItems: 1, Block: provider.Schema{
					Attributes: map[string]*provider.Attribute{
						"enabled":                        {Type: cty.Bool, Optional: true},
						"start_time":                     {Type: cty.String, Optional: true, Computed: true},
						"point_in_time_recovery_enabled": {Type: cty.Bool, Optional: true},
						"binary_log_enabled":             {Type: cty.Bool, Optional: true},
						"transaction_log_retention_days": {Type: cty.Number, Optional: true, Computed: true},
						"location":                       {Type: cty.String, Optional: true},
					},
					Blocks: map[string]*provider.NestedBlock{
						"backup_retention_settings": {Nesting: provider.NestingList, MaxItems: 1, Block: provider.Schema{Attributes: map[string]*provider.Attribute{
							"retained_backups": {Type: cty.Number, Required: true},
							"retention_unit":   {Type: cty.String, Optional: true, Computed: true},
						}}},
					},
				}},
				"ip_configuration": {Nesting: provider.NestingList, MaxItems: 1, Block: provider.Schema{
					Attributes: map[string]*provider.Attribute{
						"ipv4_enabled":    {Type: cty.Bool, Optional: true, Computed: true, Default: cty.True},
						"private_network": {Type: cty.String, Optional: true},
						"ssl_mode":        {Type: cty.String, Optional: true, Computed: true},
					},
					Blocks: map[string]*provider.NestedBlock{
						"authorized_networks": {Nesting: provider.NestingSet, Block: provider.Schema{Attributes: map[string]*provider.Attribute{
							"name":            {Type: cty.String, Optional: true},
							"value":           {Type: cty.String, Required: true},
							"expiration_time": {Type: cty.String, Optional: true},
						}}},
					},
				}},
				"location_preference": {Nesting: provider.NestingList, MaxItems: 1, Block: provider.Schema{Attributes: map[string]*provider.Attribute{
					"zone": {Type: cty.String, Optional: true, Computed: true},
				}}},
				"database_flags": {Nesting: provider.NestingList, Block: provider.Schema{Attributes: map[string]*provider.Attribute{
					"name":  {Type: cty.String, Required: true},
					"value": {Type: cty.String, Required: true},
				}}},
				"final_backup_config": {Nesting: provider.NestingList, MaxItems: 1, Block: provider.Schema{Attributes: map[string]*provider.Attribute{
					"enabled":        {Type: cty.Bool, Optional: true},
					"retention_days": {Type: cty.Number, Optional: true},
				}}},
			},
		}},
	},
}

func sqlInstanceResource(g *gcp) *provider.Resource {
	return &provider.Resource{
		Schema: sqlInstanceSchema,
		CustomizePlan: func(_ context.Context, prior, _ cty.Value, plan *provider.PlanResponse) error {
			sameDefaultBlock(plan, prior, []string{"settings", "0", "backup_configuration", "0", "backup_retention_settings"}, func(v cty.Value) bool {
				n, _ := provider.Int(v, "retained_backups")
				unit := provider.String(v, "retention_unit")
				return n == 7 && (unit == "" || unit == "COUNT")
			})
			sameDefaultBlock(plan, prior, []string{"settings", "0", "ip_configuration"}, func(v cty.Value) bool {
				return provider.Bool(v, true, "ipv4_enabled") && provider.String(v, "private_network") == "" && len(elems(v, "authorized_networks")) == 0
			})
			// A settings change bumps the server's settingsVersion.
			if !prior.IsNull() && provider.Changed(prior, plan.Planned, "settings") {
				plan.Planned = setPath(plan.Planned, []string{"settings", "0", "version"}, cty.UnknownVal(cty.Number))
			}
			return nil
		},
		Create: g.createSQLInstance,
		Read: func(ctx context.Context, cur cty.Value) (cty.Value, error) {
			return g.readSQLInstance(ctx, g.project(cur), provider.String(cur, "name"), cur)
		},
		Update:   g.updateSQLInstance,
		Delete:   g.deleteSQLInstance,
		ImportID: g.namedID(func(v cty.Value, name string) string { return "projects/" + g.project(v) + "/instances/" + name }),
		Import: func(ctx context.Context, id string) (cty.Value, error) {
			project, name, err := parseSQLID(id, g.settings.project)
			if err != nil {
				return cty.NilVal, err
			}
			prior := provider.ObjectWith(sqlInstanceSchema, map[string]cty.Value{"deletion_protection": cty.True})
			return g.readSQLInstance(ctx, project, name, prior)
		},
	}
}

// parseSQLID accepts projects/P/instances/NAME, P/NAME and NAME.
func parseSQLID(id, defProject string) (project, name string, err error) {
	parts := strings.Split(strings.Trim(id, "/"), "/")
	switch {
	case len(parts) == 1:
		return defProject, parts[0], nil
	case len(parts) == 2:
		return parts[0], parts[1], nil
	case len(parts) == 4 && parts[0] == "projects" && parts[2] == "instances":
		return parts[1], parts[3], nil
	}
	return "", "", fmt.Errorf("import ID %q: want projects/PROJECT/instances/NAME, PROJECT/NAME or NAME", id)
}

func (g *gcp) region(v cty.Value) string {
	if r := provider.String(v, "region"); r != "" {
		return r
	}
	return g.settings.region
}

func (g *gcp) createSQLInstance(ctx context.Context, planned cty.Value) (cty.Value, error) {
	ctx, cancel := context.WithTimeout(ctx, sqlTimeout)
	defer cancel()
	project, name := g.project(planned), provider.String(planned, "name")
	inst := &sqladmin.DatabaseInstance{
		Name:            name,
		DatabaseVersion: provider.String(planned, "database_version"),
		Region:          g.region(planned),
		RootPassword:    provider.String(planned, "root_password"),
		Settings:        settingsFrom(planned, 0),
	}
	svc, err := g.sqlAPI()
	if err != nil {
		return cty.NilVal, err
	}
	mu := g.sqlLock(project + "/" + name)
	mu.Lock()
	var op *sqladmin.Operation
	err = g.create(ctx, "google_sql_database_instance", "projects/"+project+"/instances/"+name, func(ctx context.Context) (err error) {
		op, err = svc.Instances.Insert(project, inst).Context(ctx).Do()
		return err
	})
	switch {
	case err == nil && op != nil:
		err = g.waitSQL(ctx, svc, project, op, "create Cloud SQL instance "+name)
	case err == nil:
		// Our retried insert met the instance our lost first attempt
		// created; there is no operation to follow, so watch its state.
		op = &sqladmin.Operation{}
		err = g.waitRunnable(ctx, svc, project, name)
	}
	mu.Unlock()
	if err != nil {
		if op != nil {
			// The insert was accepted: whatever became of it, record it
			// so the next plan refreshes it instead of creating again.
			return nullUnknownsIn(planned), err
		}
		return cty.NilVal, err
	}
	v, err := g.readSQLInstance(ctx, project, name, planned)
	if err == nil && v.IsNull() {
		err = fmt.Errorf("the Cloud SQL instance %s was created but cannot be read back", name)
	}
	if err != nil {
		return nullUnknownsIn(planned), err
	}
	return v, nil
}

// settingsFrom builds the API settings from the planned state; version
// is the settingsVersion the update is based on (0 on create).
func settingsFrom(v cty.Value, version int64) *sqladmin.Settings {
	s := func(p ...string) string { return provider.String(v, append([]string{"settings", "0"}, p...)...) }
	st := &sqladmin.Settings{
		Tier:             s("tier"),
		Edition:          editionFor(s("edition"), s("tier")),
		DataDiskType:     s("disk_type"),
		AvailabilityType: s("availability_type"),
		ActivationPolicy: s("activation_policy"),
		UserLabels:       provider.StringMap(v, "settings", "0", "user_labels"),
		SettingsVersion:  version,
	}
	if n, ok := provider.Int(v, "settings", "0", "disk_size"); ok {
		st.DataDiskSizeGb = n
	}
	if b := provider.GetAttr(v, "settings", "0", "disk_autoresize"); b.IsKnown() && !b.IsNull() {
		on := b.True()
		st.StorageAutoResize = &on
	}
	if b := provider.GetAttr(v, "settings", "0", "deletion_protection_enabled"); b.IsKnown() && !b.IsNull() {
		st.DeletionProtectionEnabled = b.True()
		st.ForceSendFields = append(st.ForceSendFields, "DeletionProtectionEnabled")
	}
	if bc := provider.GetAttr(v, "settings", "0", "backup_configuration", "0"); !bc.IsNull() {
		b := &sqladmin.BackupConfiguration{
			Enabled:                     provider.Bool(bc, false, "enabled"),
			StartTime:                   provider.String(bc, "start_time"),
			PointInTimeRecoveryEnabled:  provider.Bool(bc, false, "point_in_time_recovery_enabled"),
			BinaryLogEnabled:            provider.Bool(bc, false, "binary_log_enabled"),
			TransactionLogRetentionDays: intOr(bc, 0, "transaction_log_retention_days"),
			Location:                    provider.String(bc, "location"),
			ForceSendFields:             []string{"Enabled", "PointInTimeRecoveryEnabled"},
		}
		if n, ok := provider.Int(bc, "backup_retention_settings", "0", "retained_backups"); ok {
			b.BackupRetentionSettings = &sqladmin.BackupRetentionSettings{RetainedBackups: n, RetentionUnit: provider.String(bc, "backup_retention_settings", "0", "retention_unit")}
		}
		st.BackupConfiguration = b
	}
	ipc := &sqladmin.IpConfiguration{Ipv4Enabled: true}
	if ic := provider.GetAttr(v, "settings", "0", "ip_configuration", "0"); !ic.IsNull() {
		ipc.Ipv4Enabled = provider.Bool(ic, true, "ipv4_enabled")
		ipc.PrivateNetwork = provider.String(ic, "private_network")
		ipc.SslMode = provider.String(ic, "ssl_mode")
		for _, an := range elems(ic, "authorized_networks") {
			ipc.AuthorizedNetworks = append(ipc.AuthorizedNetworks, &sqladmin.AclEntry{
				Name: provider.String(an, "name"), Value: provider.String(an, "value"), ExpirationTime: provider.String(an, "expiration_time"),
			})
		}
	}
	// false is Go's zero value, which the client would leave out; the
	// API then keeps (or defaults to) true.
	ipc.ForceSendFields = []string{"Ipv4Enabled"}
	st.IpConfiguration = ipc
	if z := provider.String(v, "settings", "0", "location_preference", "0", "zone"); z != "" {
		st.LocationPreference = &sqladmin.LocationPreference{Zone: z}
	}
	for _, f := range elems(v, "settings", "0", "database_flags") {
		st.DatabaseFlags = append(st.DatabaseFlags, &sqladmin.DatabaseFlags{Name: provider.String(f, "name"), Value: provider.String(f, "value")})
	}
	if fb := provider.GetAttr(v, "settings", "0", "final_backup_config", "0"); !fb.IsNull() {
		st.FinalBackupConfig = &sqladmin.FinalBackupConfig{Enabled: provider.Bool(fb, false, "enabled"), RetentionDays: intOr(fb, 0, "retention_days"), ForceSendFields: []string{"Enabled"}}
	}
	return st
}

func (g *gcp) readSQLInstance(ctx context.Context, project, name string, prior cty.Value) (cty.Value, error) {
	svc, err := g.sqlAPI()
	if err != nil {
		return cty.NilVal, err
	}
	var inst *sqladmin.DatabaseInstance
	err = g.do(ctx, "read Cloud SQL instance "+name, func(ctx context.Context) (err error) {
		inst, err = svc.Instances.Get(project, name).Context(ctx).Do()
		return err
	})
	if isNotFound(err) {
		return cty.NullVal(sqlInstanceSchema.ImpliedType()), nil
	}
	if err != nil {
		return cty.NilVal, fmt.Errorf("read Cloud SQL instance %s: %w", name, err)
	}
	var public, private, first string
	var ips []cty.Value
	for _, ip := range inst.IpAddresses {
		switch ip.Type {
		case "PRIMARY":
			public = ip.IpAddress
		case "PRIVATE":
			private = ip.IpAddress
		}
		if first == "" {
			first = ip.IpAddress
		}
		ips = append(ips, cty.ObjectVal(map[string]cty.Value{
			"ip_address": cty.StringVal(ip.IpAddress), "type": cty.StringVal(ip.Type), "time_to_retire": cty.StringVal(ip.TimeToRetire),
		}))
	}
	ipList := cty.ListValEmpty(sqlInstanceSchema.Attributes["ip_address"].Type.ElementType())
	if len(ips) > 0 {
		ipList = cty.ListVal(ips)
	}
	dp := provider.GetAttr(prior, "deletion_protection")
	if dp.IsNull() || !dp.IsKnown() {
		dp = cty.True
	}
	return provider.ObjectWith(sqlInstanceSchema, map[string]cty.Value{
		"name":                          cty.StringVal(inst.Name),
		"database_version":              cty.StringVal(inst.DatabaseVersion),
		"region":                        cty.StringVal(inst.Region),
		"project":                       cty.StringVal(project),
		"root_password":                 provider.GetAttr(prior, "root_password"),
		"deletion_protection":           dp,
		"connection_name":               cty.StringVal(inst.ConnectionName),
		"public_ip_address":             cty.StringVal(public),
		"private_ip_address":            cty.StringVal(private),
		"first_ip_address":              cty.StringVal(first),
		"self_link":                     cty.StringVal(inst.SelfLink),
		"service_account_email_address": cty.StringVal(inst.ServiceAccountEmailAddress),
		"id":                            cty.StringVal(inst.Name),
		"ip_address":                    ipList,
		"settings":                      settingsVal(inst.Settings, provider.GetAttr(prior, "settings", "0")),
	}), nil
}

// settingsVal is the settings block from the API. Nested blocks the
// configuration left out are left out when the API holds only defaults,
// so that an unset block does not show as a change.
func settingsVal(st *sqladmin.Settings, prior cty.Value) cty.Value {
	ss := sqlInstanceSchema.Blocks["settings"].Block
	if st == nil {
		return blocks(sqlInstanceSchema, "settings")
	}
	has := func(block string) bool { return len(elems(prior, block)) > 0 }
	backup := blocks(&ss, "backup_configuration")
	if b := st.BackupConfiguration; b != nil && (has("backup_configuration") || b.Enabled) {
		bs := ss.Blocks["backup_configuration"].Block
		retention := blocks(&bs, "backup_retention_settings")
		pb := provider.GetAttr(prior, "backup_configuration", "0")
		if r := b.BackupRetentionSettings; r != nil && (len(elems(pb, "backup_retention_settings")) > 0 || r.RetainedBackups != 7) {
			retention = blocks(&bs, "backup_retention_settings", map[string]cty.Value{
				"retained_backups": cty.NumberIntVal(r.RetainedBackups), "retention_unit": cty.StringVal(r.RetentionUnit),
			})
		}
		backup = blocks(&ss, "backup_configuration", map[string]cty.Value{
			"enabled":                        boolOrNull(b.Enabled, provider.GetAttr(pb, "enabled")),
			"start_time":                     cty.StringVal(b.StartTime),
			"point_in_time_recovery_enabled": boolOrNull(b.PointInTimeRecoveryEnabled, provider.GetAttr(pb, "point_in_time_recovery_enabled")),
			"binary_log_enabled":             boolOrNull(b.BinaryLogEnabled, provider.GetAttr(pb, "binary_log_enabled")),
			"transaction_log_retention_days": cty.NumberIntVal(b.TransactionLogRetentionDays),
			"location":                       optStr(b.Location),
			"backup_retention_settings":      retention,
		})
	}
	ipConf := blocks(&ss, "ip_configuration")
	if ic := st.IpConfiguration; ic != nil && (has("ip_configuration") || !ic.Ipv4Enabled || len(ic.AuthorizedNetworks) > 0 || ic.PrivateNetwork != "") {
		is := ss.Blocks["ip_configuration"].Block
		nets := cty.SetValEmpty(is.Blocks["authorized_networks"].Block.ImpliedType())
		var ns []cty.Value
		for _, an := range ic.AuthorizedNetworks {
			ns = append(ns, provider.ObjectWith(&is.Blocks["authorized_networks"].Block, map[string]cty.Value{
				"name": optStr(an.Name), "value": cty.StringVal(an.Value), "expiration_time": optStr(an.ExpirationTime),
			}))
		}
		if len(ns) > 0 {
			nets = cty.SetVal(ns)
		}
		ipConf = blocks(&ss, "ip_configuration", map[string]cty.Value{
			"ipv4_enabled":        cty.BoolVal(ic.Ipv4Enabled),
			"private_network":     optStr(ic.PrivateNetwork),
			"ssl_mode":            optStr(ic.SslMode),
			"authorized_networks": nets,
		})
	}
	loc := blocks(&ss, "location_preference")
	if lp := st.LocationPreference; lp != nil && has("location_preference") {
		loc = blocks(&ss, "location_preference", map[string]cty.Value{"zone": optStr(lp.Zone)})
	}
	var flags []map[string]cty.Value
	for _, f := range st.DatabaseFlags {
		flags = append(flags, map[string]cty.Value{"name": cty.StringVal(f.Name), "value": cty.StringVal(f.Value)})
	}
	final := blocks(&ss, "final_backup_config")
	if fb := st.FinalBackupConfig; fb != nil && (has("final_backup_config") || fb.Enabled) {
		final = blocks(&ss, "final_backup_config", map[string]cty.Value{
			"enabled": cty.BoolVal(fb.Enabled), "retention_days": optInt(fb.RetentionDays),
		})
	}
	autoresize := cty.NullVal(cty.Bool)
	if st.StorageAutoResize != nil {
		autoresize = cty.BoolVal(*st.StorageAutoResize)
	}
	return blocks(sqlInstanceSchema, "settings", map[string]cty.Value{
		"tier":                        cty.StringVal(st.Tier),
		"edition":                     optStr(st.Edition),
		"disk_size":                   cty.NumberIntVal(st.DataDiskSizeGb),
		"disk_type":                   optStr(st.DataDiskType),
		"disk_autoresize":             autoresize,
		"availability_type":           optStr(st.AvailabilityType),
		"activation_policy":           optStr(st.ActivationPolicy),
		"deletion_protection_enabled": cty.BoolVal(st.DeletionProtectionEnabled),
		"user_labels":                 labelsVal(prior, "user_labels", st.UserLabels),
		"version":                     cty.NumberIntVal(st.SettingsVersion),
		"backup_configuration":        backup,
		"ip_configuration":            ipConf,
		"location_preference":         loc,
		"database_flags":              blocks(&ss, "database_flags", flags...),
		"final_backup_config":         final,
	})
}

// boolOrNull is false as null when the prior state had it unset, so an
// unset optional flag does not diff against the API's false.
func boolOrNull(b bool, prior cty.Value) cty.Value {
	if !b && prior.IsNull() {
		return cty.NullVal(cty.Bool)
	}
	return cty.BoolVal(b)
}

func (g *gcp) updateSQLInstance(ctx context.Context, prior, planned cty.Value) (cty.Value, error) {
	ctx, cancel := context.WithTimeout(ctx, sqlTimeout)
	defer cancel()
	project, name := g.project(prior), provider.String(prior, "name")
	if provider.Changed(prior, planned, "settings") {
		err := g.sqlCall(ctx, project, name, "update Cloud SQL instance "+name, func(ctx context.Context, svc *sqladmin.Service) (*sqladmin.Operation, error) {
			// Read the current settingsVersion on every attempt: a
			// concurrent change makes the old one fail with 412.
			cur, err := svc.Instances.Get(project, name).Context(ctx).Do()
			if err != nil {
				return nil, err
			}
			inst := &sqladmin.DatabaseInstance{Settings: settingsFrom(planned, cur.Settings.SettingsVersion), DatabaseVersion: cur.DatabaseVersion}
			return svc.Instances.Update(project, name, inst).Context(ctx).Do()
		})
		if err != nil {
			return cty.NilVal, err
		}
	}
	v, err := g.readSQLInstance(ctx, project, name, planned)
	if err == nil && v.IsNull() {
		err = fmt.Errorf("the Cloud SQL instance %s disappeared during the update; run plan again to recreate it", name)
	}
	return v, err
}

func (g *gcp) deleteSQLInstance(ctx context.Context, prior cty.Value) error {
	ctx, cancel := context.WithTimeout(ctx, sqlTimeout)
	defer cancel()
	project, name := g.project(prior), provider.String(prior, "name")
	if provider.Bool(prior, true, "deletion_protection") {
		return fmt.Errorf("the Cloud SQL instance %s has deletion_protection = true (the default): set deletion_protection = false and apply before destroying it", name)
	}
	err := g.sqlCall(ctx, project, name, "delete Cloud SQL instance "+name, func(ctx context.Context, svc *sqladmin.Service) (*sqladmin.Operation, error) {
		return svc.Instances.Delete(project, name).Context(ctx).Do()
	})
	if isNotFound(err) {
		return nil
	}
	return err
}

// editionFor is the edition to send: the configured one, else the one the
// tier implies. Postgres 16+ defaults to ENTERPRISE_PLUS, which rejects
// the db-custom-* tiers most configurations use; only db-perf-optimized-*
// tiers are ENTERPRISE_PLUS.
func editionFor(edition, tier string) string {
	switch {
	case edition != "":
		return edition
	case strings.HasPrefix(tier, "db-perf-optimized-"):
		return "ENTERPRISE_PLUS"
	case tier != "":
		return "ENTERPRISE"
	}
	return ""
}

// waitRunnable polls an instance until it leaves PENDING_CREATE.
func (g *gcp) waitRunnable(ctx context.Context, svc *sqladmin.Service, project, name string) error {
	start := time.Now()
	for {
		var inst *sqladmin.DatabaseInstance
		err := g.do(ctx, "read Cloud SQL instance "+name, func(ctx context.Context) (err error) {
			inst, err = svc.Instances.Get(project, name).Context(ctx).Do()
			return err
		})
		if err != nil {
			return fmt.Errorf("waiting for Cloud SQL instance %s: %w", name, err)
		}
		if inst.State != "PENDING_CREATE" {
			return nil
		}
		if err := g.sqlPollWait(ctx, start); err != nil {
			return fmt.Errorf("waiting for Cloud SQL instance %s: %w", name, err)
		}
	}
}

// sameDefaultBlock plans the prior form of an optional block where one
// side has no block and the other holds only the API's defaults: both
// mean the same settings, and the state reads a block back only when it
// was configured or differs from the defaults (an imported instance has
// none of them).
func sameDefaultBlock(plan *provider.PlanResponse, prior cty.Value, path []string, isDefault func(cty.Value) bool) {
	if prior.IsNull() {
		return
	}
	pv, nv := provider.GetAttr(prior, path...), provider.GetAttr(plan.Planned, path...)
	if pv.IsNull() || nv.IsNull() || !pv.IsKnown() || !nv.IsKnown() || !pv.Type().Equals(nv.Type()) {
		return
	}
	pe, ne := elems(pv), elems(nv)
	if (len(pe) == 0 && len(ne) == 1 && isDefault(ne[0])) || (len(ne) == 0 && len(pe) == 1 && isDefault(pe[0])) {
		plan.Planned = setPath(plan.Planned, path, pv)
	}
}
