package gcpfake

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	sqladmin "google.golang.org/api/sqladmin/v1"
)

// Cloud SQL Admin v1: instances, databases, users and project-scoped
// operations. Cloud SQL runs one operation per instance at a time (409
// operationInProgress otherwise), which a provider creating a database and
// a user in parallel must handle, as Terraform's does with a per-instance
// mutex.

const sqlBase = "https://sqladmin.googleapis.com/v1/"

func sqlLink(key string) string { return sqlBase + key }

func (s *Server) addSQLHandlers(h map[string]handlerFunc) {
	h["sql.instances.insert"] = s.insertSQLInstance
	h["sql.instances.get"] = s.getSQLInstance
	h["sql.instances.list"] = s.listSQLInstances
	h["sql.instances.patch"] = s.modifySQLInstance(true)
	h["sql.instances.update"] = s.modifySQLInstance(false)
	h["sql.instances.delete"] = s.deleteSQLInstance
	h["sql.databases.insert"] = s.insertDatabase
	h["sql.databases.get"] = s.getDatabase
	h["sql.databases.list"] = s.listDatabases
	h["sql.databases.patch"] = s.modifyDatabase(true)
	h["sql.databases.update"] = s.modifyDatabase(false)
	h["sql.databases.delete"] = s.deleteDatabase
	h["sql.users.insert"] = s.insertUser
	h["sql.users.get"] = s.getUser
	h["sql.users.list"] = s.listUsers
	h["sql.users.update"] = s.updateUser
	h["sql.users.delete"] = s.deleteUser
	h["sql.operations.get"] = s.getSQLOperation
	h["sql.operations.list"] = s.listSQLOperations
}

func errNoInstance() *apiError {
	return newAPIError(http.StatusNotFound, "instanceDoesNotExist", "The Cloud SQL instance does not exist.")
}

// decodeAPI decodes a body strictly into v (a google.golang.org/api type),
// validates it against the discovery schema and drops output-only fields.
func (c *call) decodeAPI(v any) (map[string]any, error) {
	if err := c.decodeJSON(v); err != nil {
		return nil, err
	}
	body, err := c.strippedBody()
	if err != nil {
		return nil, err
	}
	return body, fromMap(body, v)
}

func (c *call) sqlKey() string {
	return "projects/" + c.project() + "/instances/" + c.params["instance"]
}

// sqlInstance returns the instance named in the path, or 404.
func (c *call) sqlInstance() (string, *sqladmin.DatabaseInstance, error) {
	key := c.sqlKey()
	inst, ok := c.s.st.sqlInstances[key]
	if !ok {
		return key, nil, errNoInstance()
	}
	return key, inst, nil
}

var sqlNameRE = regexp.MustCompile(`^[a-z](?:[a-z0-9-]{0,96}[a-z0-9])?$`)

func (s *Server) insertSQLInstance(c *call) (any, error) {
	inst := &sqladmin.DatabaseInstance{}
	body, err := c.decodeAPI(inst)
	if err != nil {
		return nil, err
	}
	if !sqlNameRE.MatchString(inst.Name) {
		return nil, errInvalid("Invalid request: instance name (%s): must start with a lowercase letter and contain only lowercase letters, digits and hyphens.", inst.Name)
	}
	if inst.DatabaseVersion == "" {
		return nil, errRequired("databaseVersion")
	}
	if inst.Settings == nil || inst.Settings.Tier == "" {
		return nil, errRequired("settings.tier")
	}
	key := "projects/" + c.project() + "/instances/" + inst.Name
	if _, ok := s.st.sqlInstances[key]; ok {
		return nil, newAPIError(http.StatusConflict, "instanceAlreadyExists", "The Cloud SQL instance already exists.")
	}
	if err := s.sqlBusy(c.project(), inst.Name); err != nil {
		return nil, err
	}
	if inst.Region == "" {
		inst.Region = "us-central1"
	}
	inst.RootPassword = ""
	if err := c.fillSQLInstance(key, inst, nil, body); err != nil {
		return nil, err
	}
	inst.Settings.SettingsVersion = 1
	inst.CreateTime = utcTime(c.now)
	inst.State = "RUNNABLE"
	if c.latency() > 0 {
		inst.State = "PENDING_CREATE"
		c.later(doSQLRunnable, key, c.doneAt())
	}
	return c.sqlOp("CREATE", inst.Name, func() {
		s.st.sqlInstances[key] = inst
		c.builtinUsers(key, inst)
	}), nil
}

// builtinUsers adds what a new instance has before anyone creates
// anything: the postgres database and user (root@% on MySQL).
func (c *call) builtinUsers(key string, inst *sqladmin.DatabaseInstance) {
	if !strings.HasPrefix(inst.DatabaseVersion, "POSTGRES") {
		c.s.st.sqlUsers[key+"/users/%/root"] = &sqladmin.User{Kind: "sql#user", Name: "root", Host: "%", Instance: inst.Name, Project: inst.Project, Etag: c.etag()}
		return
	}
	c.s.st.sqlDatabases[key+"/databases/postgres"] = c.database(inst, "postgres", "UTF8", "en_US.UTF8")
	c.s.st.sqlUsers[key+"/users//postgres"] = &sqladmin.User{Kind: "sql#user", Name: "postgres", Instance: inst.Name, Project: inst.Project, Etag: c.etag(), Type: "BUILT_IN"}
}

// fillSQLInstance validates inst and fills defaults and output-only
// fields; prev is the current instance on patch/update. body is the raw
// request, needed where the Go type cannot tell false from absent.
func (c *call) fillSQLInstance(key string, inst, prev *sqladmin.DatabaseInstance, body map[string]any) error {
	inst.Kind = "sql#instance"
	inst.Project = c.project()
	inst.SelfLink = sqlLink(key)
	inst.ConnectionName = c.project() + ":" + inst.Region + ":" + inst.Name
	inst.BackendType = "SECOND_GEN"
	inst.InstanceType = "CLOUD_SQL_INSTANCE"
	inst.SqlNetworkArchitecture = "NEW_NETWORK_ARCHITECTURE"
	inst.Etag = c.etag()
	inst.ServiceAccountEmailAddress = fmt.Sprintf("p%d-%s@gcp-sa-cloud-sql.iam.gserviceaccount.com", projectNumber(c.project()), shortHash(c.project())[:6])
	inst.DatabaseInstalledVersion, inst.MaintenanceVersion = installedVersion(inst.DatabaseVersion)
	if prev != nil {
		inst.CreateTime, inst.State, inst.ServerCaCert = prev.CreateTime, prev.State, prev.ServerCaCert
	}
	if err := c.fillSettings(inst, prev, body); err != nil {
		return err
	}
	inst.GceZone = inst.Settings.LocationPreference.Zone
	inst.IpAddresses = c.sqlIPs(inst)
	if inst.ServerCaCert == nil {
		inst.ServerCaCert = &sqladmin.SslCert{
			Kind: "sql#sslCert", Instance: inst.Name, CommonName: "C=US,O=Google\\, Inc,CN=Google Cloud SQL Server CA",
			CertSerialNumber: "0", Sha1Fingerprint: shortHash(key), CreateTime: utcTime(c.now),
			ExpirationTime: utcTime(c.now.Add(10 * 365 * 24 * time.Hour)),
		}
	}
	return nil
}

func (c *call) fillSettings(inst, prev *sqladmin.DatabaseInstance, body map[string]any) error {
	st := inst.Settings
	st.Kind = "sql#settings"
	if err := checkTier(inst.DatabaseVersion, st); err != nil {
		return err
	}
	if prev != nil && st.DataDiskSizeGb == 0 {
		st.DataDiskSizeGb = prev.Settings.DataDiskSizeGb // the disk is never reset
	}
	if prev != nil && st.DataDiskSizeGb < prev.Settings.DataDiskSizeGb {
		return errInvalid("Invalid request: the disk size cannot be decreased (from %d GB to %d GB).", prev.Settings.DataDiskSizeGb, st.DataDiskSizeGb)
	}
	defaultStr(&st.ActivationPolicy, "ALWAYS")
	defaultStr(&st.AvailabilityType, "ZONAL")
	defaultStr(&st.PricingPlan, "PER_USE")
	defaultStr(&st.ReplicationType, "SYNCHRONOUS")
	defaultStr(&st.DataDiskType, "PD_SSD")
	defaultStr(&st.ConnectorEnforcement, "NOT_REQUIRED")
	if st.DataDiskSizeGb == 0 {
		st.DataDiskSizeGb = 10
	}
	if st.StorageAutoResize == nil {
		on := true
		st.StorageAutoResize = &on
	}
	if st.LocationPreference == nil {
		st.LocationPreference = &sqladmin.LocationPreference{}
	}
	st.LocationPreference.Kind = "sql#locationPreference"
	defaultStr(&st.LocationPreference.Zone, inst.Region+"-a")
	if err := fillBackup(inst.DatabaseVersion, st); err != nil {
		return err
	}
	if st.IpConfiguration == nil {
		st.IpConfiguration = &sqladmin.IpConfiguration{}
	}
	ipc := st.IpConfiguration
	// ipv4Enabled defaults to true, but a Go bool cannot say "unset":
	// read it from the request, else keep the current value.
	ipv4, given := rawBool(body, "settings", "ipConfiguration", "ipv4Enabled")
	switch {
	case given:
		ipc.Ipv4Enabled = ipv4
	case prev != nil && c.method == "sql.instances.patch":
		ipc.Ipv4Enabled = prev.Settings.IpConfiguration.Ipv4Enabled
	default:
		ipc.Ipv4Enabled = true
	}
	if !ipc.Ipv4Enabled && ipc.PrivateNetwork == "" {
		return errInvalid("Invalid request: at least one of public IP or private IP connectivity must be enabled.")
	}
	defaultStr(&ipc.SslMode, "ALLOW_UNENCRYPTED_AND_ENCRYPTED")
	if prev != nil {
		st.SettingsVersion = prev.Settings.SettingsVersion + 1
	}
	return nil
}

func fillBackup(version string, st *sqladmin.Settings) error {
	if st.BackupConfiguration == nil {
		st.BackupConfiguration = &sqladmin.BackupConfiguration{}
	}
	b := st.BackupConfiguration
	b.Kind = "sql#backupConfiguration"
	if b.PointInTimeRecoveryEnabled && !b.Enabled {
		return errInvalid("Invalid request: point-in-time recovery requires automated backups to be enabled.")
	}
	if b.BinaryLogEnabled && strings.HasPrefix(version, "POSTGRES") {
		return errInvalid("Invalid request: binary logging is only available for MySQL instances.")
	}
	defaultStr(&b.StartTime, "00:00")
	if b.TransactionLogRetentionDays == 0 {
		b.TransactionLogRetentionDays = 7
	}
	if b.BackupRetentionSettings == nil {
		b.BackupRetentionSettings = &sqladmin.BackupRetentionSettings{}
	}
	defaultStr(&b.BackupRetentionSettings.RetentionUnit, "COUNT")
	if b.BackupRetentionSettings.RetainedBackups == 0 {
		b.BackupRetentionSettings.RetainedBackups = 7
	}
	if b.TransactionLogRetentionDays > b.BackupRetentionSettings.RetainedBackups && b.PointInTimeRecoveryEnabled {
		return errInvalid("Invalid request: transactionLogRetentionDays (%d) must not exceed the number of retained backups (%d).",
			b.TransactionLogRetentionDays, b.BackupRetentionSettings.RetainedBackups)
	}
	return nil
}

var customTierRE = regexp.MustCompile(`^db-custom-(\d+)-(\d+)$`)

// checkTier applies the edition rules that trip real deployments: Postgres
// 16+ and MySQL 8.4 default to ENTERPRISE_PLUS, which only takes the
// db-perf-optimized-N-* tiers, so db-custom-1-3840 needs edition
// ENTERPRISE; custom tiers need 0.9–6.5 GB per vCPU in 256 MB steps.
func checkTier(version string, st *sqladmin.Settings) error {
	if st.Edition == "" {
		st.Edition = defaultEdition(version)
	}
	tier := st.Tier
	plus := strings.HasPrefix(tier, "db-perf-optimized-N-")
	if (st.Edition == "ENTERPRISE_PLUS") != plus {
		return errInvalid("Invalid Tier (%s) for (%s) Edition. Use a predefined Tier like %s instead.", tier, st.Edition,
			map[bool]string{true: "db-custom-2-7680", false: "db-perf-optimized-N-2"}[plus])
	}
	if m := customTierRE.FindStringSubmatch(tier); m != nil {
		cpus, _ := strconv.Atoi(m[1])
		mem, _ := strconv.Atoi(m[2])
		switch {
		case cpus != 1 && (cpus%2 != 0 || cpus > 96):
			return errInvalid("Invalid Tier (%s): the number of vCPUs must be 1 or an even number up to 96.", tier)
		case mem%256 != 0 || mem*10 < cpus*9216 || mem*10 > cpus*66560:
			return errInvalid("Invalid Tier (%s): memory must be a multiple of 256 MB between 0.9 and 6.5 GB per vCPU.", tier)
		}
		return nil
	}
	if !plus && !strings.HasPrefix(tier, "db-f1-micro") && !strings.HasPrefix(tier, "db-g1-small") && !strings.HasPrefix(tier, "db-n1-") {
		return errInvalid("Invalid Tier (%s) for (%s) Edition.", tier, st.Edition)
	}
	return nil
}

func defaultEdition(version string) string {
	v := strings.TrimPrefix(version, "POSTGRES_")
	if n, err := strconv.Atoi(v); err == nil && n >= 16 {
		return "ENTERPRISE_PLUS"
	}
	if version == "MYSQL_8_4" {
		return "ENTERPRISE_PLUS"
	}
	return "ENTERPRISE"
}

// installedVersion gives a plausible minor version for a major one.
func installedVersion(version string) (installed, maintenance string) {
	minor := map[string]string{"POSTGRES_17": "5", "POSTGRES_16": "9", "POSTGRES_15": "13", "POSTGRES_14": "18", "MYSQL_8_0": "41"}[version]
	if minor == "" {
		return version, version + ".R20260101.00_00"
	}
	return version + "_" + minor, version + "_" + minor + ".R20260101.00_00"
}

// sqlIPs reports the configured SQL IP as the public (PRIMARY) and, with a
// private network, the PRIVATE address, so a local Postgres can stand in.
func (c *call) sqlIPs(inst *sqladmin.DatabaseInstance) []*sqladmin.IpMapping {
	var ips []*sqladmin.IpMapping
	ipc := inst.Settings.IpConfiguration
	if ipc.Ipv4Enabled {
		ips = append(ips, &sqladmin.IpMapping{Type: "PRIMARY", IpAddress: c.s.opts.SQLIP})
	}
	if ipc.PrivateNetwork != "" {
		ips = append(ips, &sqladmin.IpMapping{Type: "PRIVATE", IpAddress: c.s.opts.SQLIP})
	}
	return ips
}

func (s *Server) getSQLInstance(c *call) (any, error) {
	_, inst, err := c.sqlInstance()
	if err != nil {
		return nil, err
	}
	return inst, nil
}

func (s *Server) listSQLInstances(c *call) (any, error) {
	prefix := "projects/" + c.project() + "/instances/"
	var keys []string
	for k := range s.st.sqlInstances {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	resp := &sqladmin.InstancesListResponse{Kind: "sql#instancesList", Items: []*sqladmin.DatabaseInstance{}}
	for _, k := range keys {
		resp.Items = append(resp.Items, s.st.sqlInstances[k])
	}
	return resp, nil
}

// modifySQLInstance serves patch (merge) and update (replace). A stale
// settings.settingsVersion is refused with 412; update requires it.
func (s *Server) modifySQLInstance(patch bool) handlerFunc {
	return func(c *call) (any, error) {
		key, cur, err := c.sqlInstance()
		if err != nil {
			return nil, err
		}
		req := &sqladmin.DatabaseInstance{}
		body, err := c.decodeAPI(req)
		if err != nil {
			return nil, err
		}
		if err := checkSettingsVersion(body, cur.Settings.SettingsVersion, !patch); err != nil {
			return nil, err
		}
		if err := s.sqlBusy(c.project(), cur.Name); err != nil {
			return nil, err
		}
		for field, v := range map[string]string{"name": cur.Name, "region": cur.Region} {
			if got, ok := body[field].(string); ok && got != v {
				return nil, errInvalid("Invalid request: the %s of an instance cannot be changed.", field)
			}
		}
		next := &sqladmin.DatabaseInstance{}
		merged := body
		if patch {
			merged = mergePatch(toMap(cur), body)
		}
		if err := fromMap(merged, next); err != nil {
			return nil, errInvalid("Invalid request: %v", err)
		}
		next.Name, next.Region, next.RootPassword = cur.Name, cur.Region, ""
		if next.DatabaseVersion == "" {
			next.DatabaseVersion = cur.DatabaseVersion
		}
		if next.Settings == nil {
			return nil, errRequired("settings")
		}
		if err := c.fillSQLInstance(key, next, cur, body); err != nil {
			return nil, err
		}
		return c.sqlOp("UPDATE", cur.Name, func() { s.st.sqlInstances[key] = next }), nil
	}
}

func checkSettingsVersion(body map[string]any, current int64, required bool) error {
	settings, _ := body["settings"].(map[string]any)
	raw, ok := settings["settingsVersion"]
	if !ok {
		if required {
			return errRequired("settings.settingsVersion")
		}
		return nil
	}
	got, err := strconv.ParseInt(fmt.Sprint(raw), 10, 64)
	if err != nil || got != current {
		return errConditionNotMet("Precondition check failed: settings.settingsVersion %v is not the current version %d.", raw, current)
	}
	return nil
}

func (s *Server) deleteSQLInstance(c *call) (any, error) {
	key, cur, err := c.sqlInstance()
	if err != nil {
		return nil, err
	}
	if cur.Settings.DeletionProtectionEnabled {
		return nil, errInvalid("The instance is protected from deletion: disable settings.deletionProtectionEnabled and try again.")
	}
	if err := s.sqlBusy(c.project(), cur.Name); err != nil {
		return nil, err
	}
	return c.sqlOp("DELETE", cur.Name, func() {
		delete(s.st.sqlInstances, key)
		for k := range s.st.sqlDatabases {
			if strings.HasPrefix(k, key+"/") {
				delete(s.st.sqlDatabases, k)
			}
		}
		for k := range s.st.sqlUsers {
			if strings.HasPrefix(k, key+"/") {
				delete(s.st.sqlUsers, k)
			}
		}
	}), nil
}

func (c *call) database(inst *sqladmin.DatabaseInstance, name, charset, collation string) *sqladmin.Database {
	return &sqladmin.Database{
		Kind: "sql#database", Name: name, Charset: charset, Collation: collation,
		Instance: inst.Name, Project: inst.Project, Etag: c.etag(),
		SelfLink: sqlLink("projects/" + inst.Project + "/instances/" + inst.Name + "/databases/" + name),
	}
}

func (s *Server) insertDatabase(c *call) (any, error) {
	key, inst, err := c.sqlInstance()
	if err != nil {
		return nil, err
	}
	req := &sqladmin.Database{}
	if _, err := c.decodeAPI(req); err != nil {
		return nil, err
	}
	if req.Name == "" {
		return nil, errRequired("name")
	}
	dbKey := key + "/databases/" + req.Name
	if _, ok := s.st.sqlDatabases[dbKey]; ok {
		return nil, newAPIError(http.StatusConflict, "alreadyExists", "The database %s already exists in instance %s.", req.Name, inst.Name)
	}
	if err := s.sqlBusy(c.project(), inst.Name); err != nil {
		return nil, err
	}
	db := c.database(inst, req.Name, or(req.Charset, "UTF8"), or(req.Collation, "en_US.UTF8"))
	return c.sqlOp("CREATE_DATABASE", inst.Name, func() { s.st.sqlDatabases[dbKey] = db }), nil
}

func (c *call) sqlDatabase() (string, *sqladmin.Database, error) {
	key := c.sqlKey() + "/databases/" + c.params["database"]
	if _, ok := c.s.st.sqlInstances[c.sqlKey()]; !ok {
		return key, nil, errNoInstance()
	}
	db, ok := c.s.st.sqlDatabases[key]
	if !ok {
		return key, nil, errNotFound("The database %s does not exist.", c.params["database"])
	}
	return key, db, nil
}

func (s *Server) getDatabase(c *call) (any, error) {
	_, db, err := c.sqlDatabase()
	if err != nil {
		return nil, err
	}
	return db, nil
}

func (s *Server) listDatabases(c *call) (any, error) {
	key, _, err := c.sqlInstance()
	if err != nil {
		return nil, err
	}
	resp := &sqladmin.DatabasesListResponse{Kind: "sql#databasesList", Items: []*sqladmin.Database{}}
	for _, k := range sortedKeys(s.st.sqlDatabases, key+"/databases/") {
		resp.Items = append(resp.Items, s.st.sqlDatabases[k])
	}
	return resp, nil
}

func (s *Server) modifyDatabase(patch bool) handlerFunc {
	return func(c *call) (any, error) {
		key, cur, err := c.sqlDatabase()
		if err != nil {
			return nil, err
		}
		req := &sqladmin.Database{}
		if _, err := c.decodeAPI(req); err != nil {
			return nil, err
		}
		if req.Name != "" && req.Name != cur.Name {
			return nil, errInvalid("Invalid request: a database cannot be renamed.")
		}
		if err := s.sqlBusy(c.project(), cur.Instance); err != nil {
			return nil, err
		}
		next := *cur
		next.Etag = c.etag()
		if req.Charset != "" || !patch {
			next.Charset = or(req.Charset, "UTF8")
		}
		if req.Collation != "" || !patch {
			next.Collation = or(req.Collation, "en_US.UTF8")
		}
		return c.sqlOp("UPDATE_DATABASE", cur.Instance, func() { s.st.sqlDatabases[key] = &next }), nil
	}
}

func (s *Server) deleteDatabase(c *call) (any, error) {
	key, cur, err := c.sqlDatabase()
	if err != nil {
		return nil, err
	}
	if err := s.sqlBusy(c.project(), cur.Instance); err != nil {
		return nil, err
	}
	return c.sqlOp("DELETE_DATABASE", cur.Instance, func() { delete(s.st.sqlDatabases, key) }), nil
}

// userKey keys users by host and name; Postgres has no hosts.
func userKey(instKey string, inst *sqladmin.DatabaseInstance, host, name string) string {
	if strings.HasPrefix(inst.DatabaseVersion, "POSTGRES") {
		host = ""
	}
	return instKey + "/users/" + host + "/" + name
}

// userOut is a user as returned: passwords are never sent back.
func userOut(u *sqladmin.User) *sqladmin.User {
	cp := *u
	cp.Password = ""
	return &cp
}

func (s *Server) insertUser(c *call) (any, error) {
	key, inst, err := c.sqlInstance()
	if err != nil {
		return nil, err
	}
	req := &sqladmin.User{}
	if _, err := c.decodeAPI(req); err != nil {
		return nil, err
	}
	if req.Name == "" {
		return nil, errRequired("name")
	}
	uKey := userKey(key, inst, req.Host, req.Name)
	if _, ok := s.st.sqlUsers[uKey]; ok {
		return nil, newAPIError(http.StatusConflict, "alreadyExists", "The user %s already exists in instance %s.", req.Name, inst.Name)
	}
	if err := s.sqlBusy(c.project(), inst.Name); err != nil {
		return nil, err
	}
	u := *req
	u.Kind, u.Instance, u.Project, u.Etag = "sql#user", inst.Name, inst.Project, c.etag()
	if strings.HasPrefix(inst.DatabaseVersion, "POSTGRES") {
		u.Host = ""
	}
	return c.sqlOp("CREATE_USER", inst.Name, func() { s.st.sqlUsers[uKey] = &u }), nil
}

// sqlUser finds the user named by the path (get) or by the name and host
// query parameters (update, delete).
func (c *call) sqlUser() (string, *sqladmin.User, error) {
	key, inst, err := c.sqlInstance()
	if err != nil {
		return "", nil, err
	}
	name := c.params["name"]
	if name == "" {
		name = c.query("name")
	}
	if name == "" {
		return "", nil, errRequired("name")
	}
	uKey := userKey(key, inst, c.query("host"), name)
	u, ok := c.s.st.sqlUsers[uKey]
	if !ok {
		return uKey, nil, errNotFound("The user %s does not exist in instance %s.", name, inst.Name)
	}
	return uKey, u, nil
}

func (s *Server) getUser(c *call) (any, error) {
	_, u, err := c.sqlUser()
	if err != nil {
		return nil, err
	}
	return userOut(u), nil
}

func (s *Server) listUsers(c *call) (any, error) {
	key, _, err := c.sqlInstance()
	if err != nil {
		return nil, err
	}
	resp := &sqladmin.UsersListResponse{Kind: "sql#usersList", Items: []*sqladmin.User{}}
	for _, k := range sortedKeys(s.st.sqlUsers, key+"/users/") {
		resp.Items = append(resp.Items, userOut(s.st.sqlUsers[k]))
	}
	return resp, nil
}

func (s *Server) updateUser(c *call) (any, error) {
	key, cur, err := c.sqlUser()
	if err != nil {
		return nil, err
	}
	req := &sqladmin.User{}
	if _, err := c.decodeAPI(req); err != nil {
		return nil, err
	}
	if err := s.sqlBusy(c.project(), cur.Instance); err != nil {
		return nil, err
	}
	next := *cur
	next.Etag = c.etag()
	if req.Password != "" {
		next.Password = req.Password
	}
	if req.PasswordPolicy != nil {
		next.PasswordPolicy = req.PasswordPolicy
	}
	if req.DatabaseRoles != nil {
		next.DatabaseRoles = req.DatabaseRoles
	}
	return c.sqlOp("UPDATE_USER", cur.Instance, func() { s.st.sqlUsers[key] = &next }), nil
}

func (s *Server) deleteUser(c *call) (any, error) {
	key, cur, err := c.sqlUser()
	if err != nil {
		return nil, err
	}
	if err := s.sqlBusy(c.project(), cur.Instance); err != nil {
		return nil, err
	}
	return c.sqlOp("DELETE_USER", cur.Instance, func() { delete(s.st.sqlUsers, key) }), nil
}

func (c *call) etag() string { return shortHash(fmt.Sprint(c.s.st.nextID())) }

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

func sortedKeys[V any](m map[string]V, prefix string) []string {
	var keys []string
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func defaultStr(p *string, v string) {
	if *p == "" {
		*p = v
	}
}

// rawBool reads a boolean at path in a raw JSON body.
func rawBool(body map[string]any, path ...string) (val, present bool) {
	var cur any = body
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return false, false
		}
		if cur, ok = m[p]; !ok {
			return false, false
		}
	}
	b, ok := cur.(bool)
	return b, ok
}
