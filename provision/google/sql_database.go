package google

import (
	"context"
	"fmt"
	"strings"

	"github.com/zclconf/go-cty/cty"
	sqladmin "google.golang.org/api/sqladmin/v1"

	"github.com/airctl/airctl/provision/provider"
)

// google_sql_database. Import ID: projects/P/instances/I/databases/NAME,
// P/I/NAME or I/NAME. Every argument replaces it (Cloud SQL can patch
// charset/collation, but changing them on a live database is not
// something to do quietly). deletion_policy "ABANDON" leaves the
// database in place on destroy, as in Terraform.

var sqlDatabaseSchema = &provider.Schema{Attributes: map[string]*provider.Attribute{
	"name":            {Type: cty.String, Required: true, ForceNew: true},
	"instance":        {Type: cty.String, Required: true, ForceNew: true},
	"project":         {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
	"charset":         {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
	"collation":       {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
	"deletion_policy": {Type: cty.String, Optional: true, Computed: true, Default: cty.StringVal("DELETE")},
	"id":              {Type: cty.String, Computed: true},
	"self_link":       {Type: cty.String, Computed: true},
}}

func sqlDatabaseResource(g *gcp) *provider.Resource {
	return &provider.Resource{
		Schema: sqlDatabaseSchema,
		Create: g.createSQLDatabase,
		Read: func(ctx context.Context, cur cty.Value) (cty.Value, error) {
			return g.readSQLDatabase(ctx, g.project(cur), provider.String(cur, "instance"), provider.String(cur, "name"), cur)
		},
		// deletion_policy is airctl-side: changing it needs no API call.
		Update: func(_ context.Context, _, planned cty.Value) (cty.Value, error) { return planned, nil },
		Delete: g.deleteSQLDatabase,
		ImportID: g.namedID(func(v cty.Value, name string) string {
			return sqlDatabaseID(g.project(v), provider.String(v, "instance"), name)
		}),
		Import: func(ctx context.Context, id string) (cty.Value, error) {
			parts := strings.Split(strings.Trim(id, "/"), "/")
			project, instance, name := g.settings.project, "", ""
			switch {
			case len(parts) == 6 && parts[0] == "projects" && parts[2] == "instances" && parts[4] == "databases":
				project, instance, name = parts[1], parts[3], parts[5]
			case len(parts) == 3:
				project, instance, name = parts[0], parts[1], parts[2]
			case len(parts) == 2:
				instance, name = parts[0], parts[1]
			default:
				return cty.NilVal, fmt.Errorf("import ID %q: want projects/P/instances/INSTANCE/databases/NAME, P/INSTANCE/NAME or INSTANCE/NAME", id)
			}
			return g.readSQLDatabase(ctx, project, instance, name, cty.NullVal(sqlDatabaseSchema.ImpliedType()))
		},
	}
}

func sqlDatabaseID(project, instance, name string) string {
	return "projects/" + project + "/instances/" + instance + "/databases/" + name
}

func (g *gcp) createSQLDatabase(ctx context.Context, planned cty.Value) (cty.Value, error) {
	ctx, cancel := context.WithTimeout(ctx, sqlTimeout)
	defer cancel()
	project, instance, name := g.project(planned), provider.String(planned, "instance"), provider.String(planned, "name")
	db := &sqladmin.Database{Name: name, Charset: provider.String(planned, "charset"), Collation: provider.String(planned, "collation")}
	retried := false
	err := g.sqlCall(ctx, project, instance, "create database "+name, func(ctx context.Context, svc *sqladmin.Service) (*sqladmin.Operation, error) {
		op, err := svc.Databases.Insert(project, instance, db).Context(ctx).Do()
		switch {
		case isConflict(err) && !isSQLBusy(err) && retried:
			// Our earlier attempt got through; nothing to wait for.
			return &sqladmin.Operation{Status: "DONE"}, nil
		case isTransient(err):
			retried = true
		}
		return op, err
	})
	if isConflict(err) && !isSQLBusy(err) {
		return cty.NilVal, alreadyExists("google_sql_database", sqlDatabaseID(project, instance, name), err)
	}
	if err != nil {
		return createFailed(planned, err)
	}
	v, err := g.readSQLDatabase(ctx, project, instance, name, planned)
	if err == nil && v.IsNull() {
		err = fmt.Errorf("database %s was created but cannot be read back", name)
	}
	if err != nil {
		return nullUnknownsIn(planned), err
	}
	return v, nil
}

func (g *gcp) readSQLDatabase(ctx context.Context, project, instance, name string, prior cty.Value) (cty.Value, error) {
	svc, err := g.sqlAPI()
	if err != nil {
		return cty.NilVal, err
	}
	var db *sqladmin.Database
	err = g.do(ctx, "read database "+name, func(ctx context.Context) (err error) {
		db, err = svc.Databases.Get(project, instance, name).Context(ctx).Do()
		return err
	})
	if isNotFound(err) {
		return cty.NullVal(sqlDatabaseSchema.ImpliedType()), nil
	}
	if err != nil {
		return cty.NilVal, fmt.Errorf("read database %s of %s: %w", name, instance, err)
	}
	policy := provider.GetAttr(prior, "deletion_policy")
	if policy.IsNull() || !policy.IsKnown() {
		policy = cty.StringVal("DELETE")
	}
	return provider.ObjectWith(sqlDatabaseSchema, map[string]cty.Value{
		"name":            cty.StringVal(db.Name),
		"instance":        keepRef(provider.GetAttr(prior, "instance"), instance),
		"project":         cty.StringVal(project),
		"charset":         optStr(db.Charset),
		"collation":       optStr(db.Collation),
		"deletion_policy": policy,
		"id":              cty.StringVal(sqlDatabaseID(project, instance, name)),
		"self_link":       cty.StringVal(db.SelfLink),
	}), nil
}

func (g *gcp) deleteSQLDatabase(ctx context.Context, prior cty.Value) error {
	if provider.String(prior, "deletion_policy") == "ABANDON" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, sqlTimeout)
	defer cancel()
	project, instance, name := g.project(prior), provider.String(prior, "instance"), provider.String(prior, "name")
	err := g.sqlCall(ctx, project, instance, "delete database "+name, func(ctx context.Context, svc *sqladmin.Service) (*sqladmin.Operation, error) {
		return svc.Databases.Delete(project, instance, name).Context(ctx).Do()
	})
	if isNotFound(err) {
		return nil // the database, or its whole instance, is gone
	}
	return err
}
