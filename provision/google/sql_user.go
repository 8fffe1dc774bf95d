package google

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/zclconf/go-cty/cty"
	sqladmin "google.golang.org/api/sqladmin/v1"

	"github.com/airctl/airctl/provision/provider"
)

// google_sql_user. Import ID: INSTANCE/NAME, PROJECT/INSTANCE/NAME or
// PROJECT/INSTANCE/HOST/NAME (MySQL). The API never returns a password:
// state keeps the configured one, and an imported user has none until
// the configuration sets it (which then updates it). A password left
// unset is generated at create (24 random characters) and kept in state,
// marked sensitive.

var sqlUserSchema = &provider.Schema{Attributes: map[string]*provider.Attribute{
	"name":            {Type: cty.String, Required: true, ForceNew: true},
	"instance":        {Type: cty.String, Required: true, ForceNew: true},
	"project":         {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
	"host":            {Type: cty.String, Optional: true, ForceNew: true, Description: "MySQL only."},
	"type":            {Type: cty.String, Optional: true, ForceNew: true, Description: "BUILT_IN (default), CLOUD_IAM_USER, …"},
	"password":        {Type: cty.String, Optional: true, Computed: true, Sensitive: true},
	"deletion_policy": {Type: cty.String, Optional: true, Computed: true, Default: cty.StringVal("DELETE")},
	"id":              {Type: cty.String, Computed: true},
}}

func sqlUserResource(g *gcp) *provider.Resource {
	return &provider.Resource{
		Schema: sqlUserSchema,
		Create: g.createSQLUser,
		Read: func(ctx context.Context, cur cty.Value) (cty.Value, error) {
			return g.readSQLUser(ctx, g.project(cur), provider.String(cur, "instance"), provider.String(cur, "host"), provider.String(cur, "name"), cur)
		},
		Update:   g.updateSQLUser,
		Delete:   g.deleteSQLUser,
		ImportID: g.namedID(g.sqlUserImportID),
		Import: func(ctx context.Context, id string) (cty.Value, error) {
			parts := strings.Split(strings.Trim(id, "/"), "/")
			project, instance, host, name := g.settings.project, "", "", ""
			switch len(parts) {
			case 2:
				instance, name = parts[0], parts[1]
			case 3:
				project, instance, name = parts[0], parts[1], parts[2]
			case 4:
				project, instance, host, name = parts[0], parts[1], parts[2], parts[3]
			default:
				return cty.NilVal, fmt.Errorf("import ID %q: want INSTANCE/NAME, PROJECT/INSTANCE/NAME or PROJECT/INSTANCE/HOST/NAME", id)
			}
			return g.readSQLUser(ctx, project, instance, host, name, cty.NullVal(sqlUserSchema.ImpliedType()))
		},
	}
}

func sqlUserID(name, host, instance string) string { return name + "/" + host + "/" + instance }

// newPassword is 24 characters from a 62-letter alphabet (about 143 bits).
func newPassword() (string, error) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 24)
	for i := range b {
		var one [1]byte
		for {
			if _, err := rand.Read(one[:]); err != nil {
				return "", fmt.Errorf("generate a password: %w", err)
			}
			if int(one[0]) < 256-256%len(alphabet) { // no modulo bias
				break
			}
		}
		b[i] = alphabet[int(one[0])%len(alphabet)]
	}
	return string(b), nil
}

func (g *gcp) createSQLUser(ctx context.Context, planned cty.Value) (cty.Value, error) {
	ctx, cancel := context.WithTimeout(ctx, sqlTimeout)
	defer cancel()
	project, instance, name := g.project(planned), provider.String(planned, "instance"), provider.String(planned, "name")
	password := provider.String(planned, "password")
	if pv := provider.GetAttr(planned, "password"); !pv.IsKnown() || pv.IsNull() {
		var err error
		if password, err = newPassword(); err != nil {
			return cty.NilVal, err
		}
		planned = provider.SetAttrs(planned, map[string]cty.Value{"password": cty.StringVal(password)})
	}
	u := &sqladmin.User{Name: name, Host: provider.String(planned, "host"), Type: provider.String(planned, "type"), Password: password}
	retried := false
	err := g.sqlCall(ctx, project, instance, "create user "+name, func(ctx context.Context, svc *sqladmin.Service) (*sqladmin.Operation, error) {
		op, err := svc.Users.Insert(project, instance, u).Context(ctx).Do()
		switch {
		case isConflict(err) && !isSQLBusy(err) && retried:
			return &sqladmin.Operation{Status: "DONE"}, nil
		case isTransient(err):
			retried = true
		}
		return op, err
	})
	if isConflict(err) && !isSQLBusy(err) {
		return cty.NilVal, alreadyExists("google_sql_user", instance+"/"+name, err)
	}
	if err != nil {
		return createFailed(planned, err)
	}
	v, err := g.readSQLUser(ctx, project, instance, u.Host, name, planned)
	if err == nil && v.IsNull() {
		err = fmt.Errorf("user %s was created but cannot be read back", name)
	}
	if err != nil {
		return nullUnknownsIn(planned), err
	}
	return v, nil
}

func (g *gcp) readSQLUser(ctx context.Context, project, instance, host, name string, prior cty.Value) (cty.Value, error) {
	svc, err := g.sqlAPI()
	if err != nil {
		return cty.NilVal, err
	}
	var u *sqladmin.User
	err = g.do(ctx, "read user "+name, func(ctx context.Context) (err error) {
		call := svc.Users.Get(project, instance, name).Context(ctx)
		if host != "" {
			call = call.Host(host)
		}
		u, err = call.Do()
		return err
	})
	if isNotFound(err) {
		return cty.NullVal(sqlUserSchema.ImpliedType()), nil
	}
	if err != nil {
		return cty.NilVal, fmt.Errorf("read user %s of %s: %w", name, instance, err)
	}
	policy := provider.GetAttr(prior, "deletion_policy")
	if policy.IsNull() || !policy.IsKnown() {
		policy = cty.StringVal("DELETE")
	}
	typ := optStr(u.Type)
	if pt := provider.GetAttr(prior, "type"); pt.IsNull() && u.Type == "BUILT_IN" {
		typ = pt // the default, left unset in the configuration
	}
	pw := provider.GetAttr(prior, "password")
	if !pw.IsKnown() {
		pw = cty.NullVal(cty.String)
	}
	return provider.ObjectWith(sqlUserSchema, map[string]cty.Value{
		"name":            cty.StringVal(u.Name),
		"instance":        keepRef(provider.GetAttr(prior, "instance"), instance),
		"project":         cty.StringVal(project),
		"host":            optStr(u.Host),
		"type":            typ,
		"password":        pw,
		"deletion_policy": policy,
		"id":              cty.StringVal(sqlUserID(u.Name, u.Host, instance)),
	}), nil
}

func (g *gcp) updateSQLUser(ctx context.Context, prior, planned cty.Value) (cty.Value, error) {
	ctx, cancel := context.WithTimeout(ctx, sqlTimeout)
	defer cancel()
	project, instance, name, host := g.project(prior), provider.String(prior, "instance"), provider.String(prior, "name"), provider.String(prior, "host")
	if pv := provider.GetAttr(planned, "password"); provider.Changed(prior, planned, "password") && pv.IsKnown() && !pv.IsNull() {
		u := &sqladmin.User{Name: name, Host: host, Password: pv.AsString()}
		err := g.sqlCall(ctx, project, instance, "set password of user "+name, func(ctx context.Context, svc *sqladmin.Service) (*sqladmin.Operation, error) {
			call := svc.Users.Update(project, instance, u).Name(name).Context(ctx)
			if host != "" {
				call = call.Host(host)
			}
			return call.Do()
		})
		if isNotFound(err) {
			// The user went away since the plan (typically with its
			// instance, replaced in the same apply): create it again.
			return g.createSQLUser(ctx, planned)
		}
		if err != nil {
			return cty.NilVal, err
		}
	}
	v, err := g.readSQLUser(ctx, project, instance, host, name, planned)
	if err == nil && v.IsNull() {
		err = fmt.Errorf("user %s disappeared during the update; run plan again to recreate it", name)
	}
	return v, err
}

func (g *gcp) deleteSQLUser(ctx context.Context, prior cty.Value) error {
	if provider.String(prior, "deletion_policy") == "ABANDON" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, sqlTimeout)
	defer cancel()
	project, instance, name, host := g.project(prior), provider.String(prior, "instance"), provider.String(prior, "name"), provider.String(prior, "host")
	err := g.sqlCall(ctx, project, instance, "delete user "+name, func(ctx context.Context, svc *sqladmin.Service) (*sqladmin.Operation, error) {
		call := svc.Users.Delete(project, instance).Name(name).Context(ctx)
		if host != "" {
			call = call.Host(host)
		}
		return call.Do()
	})
	if isNotFound(err) {
		return nil
	}
	return err
}

// sqlUserImportID is PROJECT/INSTANCE/NAME, with the host for MySQL
// users (PROJECT/INSTANCE/HOST/NAME).
func (g *gcp) sqlUserImportID(v cty.Value, name string) string {
	parts := []string{g.project(v), provider.String(v, "instance")}
	if h := provider.String(v, "host"); h != "" {
		parts = append(parts, h)
	}
	return strings.Join(append(parts, name), "/")
}
