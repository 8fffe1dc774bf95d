package google

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"cloud.google.com/go/storage"
	"github.com/zclconf/go-cty/cty"
	"google.golang.org/api/iterator"

	"github.com/airctl/airctl/provision/provider"
)

// google_storage_bucket. Import ID: the bucket name.

var bucketSchema = &provider.Schema{
	Attributes: map[string]*provider.Attribute{
		"name":                        {Type: cty.String, Required: true, ForceNew: true},
		"location":                    {Type: cty.String, Required: true, ForceNew: true, Description: "Upper-cased, as the API returns it."},
		"project":                     {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
		"storage_class":               {Type: cty.String, Optional: true, Computed: true},
		"uniform_bucket_level_access": {Type: cty.Bool, Optional: true, Computed: true},
		"public_access_prevention":    {Type: cty.String, Optional: true, Computed: true},
		"labels":                      {Type: cty.Map(cty.String), Optional: true},
		"force_destroy":               {Type: cty.Bool, Optional: true, Computed: true, Default: cty.False, Description: "Delete the objects too when destroying the bucket (airctl-side)."},
		"id":                          {Type: cty.String, Computed: true},
		"self_link":                   {Type: cty.String, Computed: true},
		"url":                         {Type: cty.String, Computed: true},
	},
	Blocks: map[string]*provider.NestedBlock{
		"versioning": {Nesting: provider.NestingList, MaxItems: 1, Block: provider.Schema{Attributes: map[string]*provider.Attribute{
			"enabled": {Type: cty.Bool, Required: true},
		}}},
		"lifecycle_rule": {Nesting: provider.NestingList, Block: provider.Schema{Blocks: map[string]*provider.NestedBlock{
			"action": {Nesting: provider.NestingList, MinItems: 1, MaxItems: 1, Block: provider.Schema{Attributes: map[string]*provider.Attribute{
				"type":          {Type: cty.String, Required: true, Description: "Delete, SetStorageClass or AbortIncompleteMultipartUpload."},
				"storage_class": {Type: cty.String, Optional: true},
			}}},
			"condition": {Nesting: provider.NestingList, MinItems: 1, MaxItems: 1, Block: provider.Schema{Attributes: map[string]*provider.Attribute{
				"age":                   {Type: cty.Number, Optional: true},
				"num_newer_versions":    {Type: cty.Number, Optional: true},
				"with_state":            {Type: cty.String, Optional: true, Computed: true, Description: "LIVE, ARCHIVED or ANY (the API's default)."},
				"matches_storage_class": {Type: cty.List(cty.String), Optional: true},
			}}},
		}}},
	},
}

func bucketResource(g *gcp) *provider.Resource {
	return &provider.Resource{
		Schema: bucketSchema,
		CustomizePlan: func(_ context.Context, _, _ cty.Value, plan *provider.PlanResponse) error {
			// GCS stores locations upper-cased; planning the same keeps
			// "us-central1" in a configuration from replacing the bucket.
			if loc := provider.GetAttr(plan.Planned, "location"); loc.IsKnown() && !loc.IsNull() {
				plan.Planned = provider.SetAttrs(plan.Planned, map[string]cty.Value{"location": cty.StringVal(strings.ToUpper(loc.AsString()))})
			}
			return nil
		},
		Create: g.createBucket,
		Read: func(ctx context.Context, cur cty.Value) (cty.Value, error) {
			return g.readBucket(ctx, provider.String(cur, "name"), cur)
		},
		Update:   g.updateBucket,
		Delete:   g.deleteBucket,
		ImportID: g.namedID(func(_ cty.Value, name string) string { return name }),
		// A missing bucket reads as null, which the SDK reports as
		// provider.ErrNoObject: an interrupted create is then redone.
		Import: func(ctx context.Context, id string) (cty.Value, error) {
			return g.readBucket(ctx, id, cty.NullVal(bucketSchema.ImpliedType()))
		},
	}
}

func (g *gcp) createBucket(ctx context.Context, planned cty.Value) (cty.Value, error) {
	c, err := g.storageAPI()
	if err != nil {
		return cty.NilVal, err
	}
	name := provider.String(planned, "name")
	project := g.project(planned)
	if project == "" {
		return cty.NilVal, errors.New("no project: set project in the provider block or the resource, or GOOGLE_PROJECT")
	}
	attrs := &storage.BucketAttrs{
		Location:          provider.String(planned, "location"),
		StorageClass:      provider.String(planned, "storage_class"),
		Labels:            provider.StringMap(planned, "labels"),
		VersioningEnabled: provider.Bool(planned, false, "versioning", "0", "enabled"),
		Lifecycle:         lifecycleFrom(planned),
		UniformBucketLevelAccess: storage.UniformBucketLevelAccess{
			Enabled: provider.Bool(planned, false, "uniform_bucket_level_access"),
		},
	}
	if pap := provider.String(planned, "public_access_prevention"); pap != "" {
		attrs.PublicAccessPrevention = papFromString(pap)
	}
	err = g.create(ctx, "google_storage_bucket", name, func(ctx context.Context) error {
		return c.Bucket(name).Create(ctx, project, attrs)
	})
	if err != nil {
		return cty.NilVal, err
	}
	v, err := g.readBucket(ctx, name, planned)
	if err == nil && v.IsNull() {
		err = fmt.Errorf("bucket %q was created but cannot be read back", name)
	}
	if err != nil {
		// The bucket exists: record what is known so a re-run does not
		// meet "already exists".
		return nullUnknownsIn(planned), err
	}
	return v, nil
}

// readBucket refreshes a bucket; null when it is gone. prior (possibly
// null) decides the form of values the API cannot tell apart (unset vs
// empty labels, versioning block absent vs disabled).
func (g *gcp) readBucket(ctx context.Context, name string, prior cty.Value) (cty.Value, error) {
	c, err := g.storageAPI()
	if err != nil {
		return cty.NilVal, err
	}
	var a *storage.BucketAttrs
	err = g.do(ctx, "read bucket "+name, func(ctx context.Context) (err error) {
		a, err = c.Bucket(name).Attrs(ctx)
		return err
	})
	if errors.Is(err, storage.ErrBucketNotExist) || isNotFound(err) {
		return cty.NullVal(bucketSchema.ImpliedType()), nil
	}
	if err != nil {
		return cty.NilVal, fmt.Errorf("read bucket %s: %w", name, err)
	}
	versioning := blocks(bucketSchema, "versioning")
	if a.VersioningEnabled || len(elems(prior, "versioning")) > 0 {
		versioning = blocks(bucketSchema, "versioning", map[string]cty.Value{"enabled": cty.BoolVal(a.VersioningEnabled)})
	}
	project := provider.String(prior, "project")
	if project == "" {
		project = g.settings.project
	}
	forceDestroy := provider.GetAttr(prior, "force_destroy")
	if forceDestroy.IsNull() || !forceDestroy.IsKnown() {
		forceDestroy = cty.False
	}
	return provider.ObjectWith(bucketSchema, map[string]cty.Value{
		"name":                        cty.StringVal(a.Name),
		"location":                    cty.StringVal(strings.ToUpper(a.Location)),
		"project":                     optStr(project),
		"storage_class":               cty.StringVal(a.StorageClass),
		"uniform_bucket_level_access": cty.BoolVal(a.UniformBucketLevelAccess.Enabled),
		"public_access_prevention":    cty.StringVal(a.PublicAccessPrevention.String()),
		"labels":                      labelsVal(prior, "labels", a.Labels),
		"force_destroy":               forceDestroy,
		"id":                          cty.StringVal(a.Name),
		"self_link":                   cty.StringVal("https://www.googleapis.com/storage/v1/b/" + a.Name),
		"url":                         cty.StringVal("gs://" + a.Name),
		"versioning":                  versioning,
		"lifecycle_rule":              lifecycleVal(a.Lifecycle, prior),
	}), nil
}

func (g *gcp) updateBucket(ctx context.Context, prior, planned cty.Value) (cty.Value, error) {
	c, err := g.storageAPI()
	if err != nil {
		return cty.NilVal, err
	}
	name := provider.String(prior, "name")
	var u storage.BucketAttrsToUpdate
	send := false
	if provider.Changed(prior, planned, "labels") {
		old, now := provider.StringMap(prior, "labels"), provider.StringMap(planned, "labels")
		for k := range old {
			if _, ok := now[k]; !ok {
				u.DeleteLabel(k)
			}
		}
		for k, v := range now {
			u.SetLabel(k, v)
		}
		send = true
	}
	if provider.Changed(prior, planned, "versioning") {
		u.VersioningEnabled = provider.Bool(planned, false, "versioning", "0", "enabled")
		send = true
	}
	if provider.Changed(prior, planned, "lifecycle_rule") {
		lc := lifecycleFrom(planned)
		u.Lifecycle = &lc
		send = true
	}
	if provider.Changed(prior, planned, "uniform_bucket_level_access") {
		u.UniformBucketLevelAccess = &storage.UniformBucketLevelAccess{Enabled: provider.Bool(planned, false, "uniform_bucket_level_access")}
		send = true
	}
	if sc := provider.String(planned, "storage_class"); sc != "" && provider.Changed(prior, planned, "storage_class") {
		u.StorageClass = sc
		send = true
	}
	if pap := provider.String(planned, "public_access_prevention"); pap != "" && provider.Changed(prior, planned, "public_access_prevention") {
		u.PublicAccessPrevention = papFromString(pap)
		send = true
	}
	if send {
		err := g.do(ctx, "update bucket "+name, func(ctx context.Context) error {
			_, err := c.Bucket(name).Update(ctx, u)
			return err
		})
		if err != nil {
			return prior, fmt.Errorf("update bucket %s: %w", name, err)
		}
	}
	v, err := g.readBucket(ctx, name, planned)
	if err != nil {
		return planned, err
	}
	if v.IsNull() {
		return cty.NilVal, fmt.Errorf("bucket %s disappeared during the update; run plan again to recreate it", name)
	}
	return v, nil
}

func (g *gcp) deleteBucket(ctx context.Context, prior cty.Value) error {
	c, err := g.storageAPI()
	if err != nil {
		return err
	}
	name := provider.String(prior, "name")
	if provider.Bool(prior, false, "force_destroy") {
		if err := g.emptyBucket(ctx, c.Bucket(name)); err != nil {
			return err
		}
	}
	err = g.do(ctx, "delete bucket "+name, func(ctx context.Context) error {
		return c.Bucket(name).Delete(ctx)
	})
	switch {
	case err == nil, errors.Is(err, storage.ErrBucketNotExist), isNotFound(err):
		return nil
	case isConflict(err):
		return fmt.Errorf("bucket %s is not empty: set force_destroy = true and apply before destroying, or empty it yourself: %w", name, err)
	}
	return fmt.Errorf("delete bucket %s: %w", name, err)
}

// emptyBucket deletes every object version, for force_destroy.
func (g *gcp) emptyBucket(ctx context.Context, b *storage.BucketHandle) error {
	it := b.Objects(ctx, &storage.Query{Versions: true})
	for {
		var o *storage.ObjectAttrs
		err := g.do(ctx, "list objects", func(context.Context) (err error) {
			o, err = it.Next()
			if errors.Is(err, iterator.Done) {
				return nil
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("force_destroy: list objects: %w", err)
		}
		if o == nil {
			return nil
		}
		err = g.do(ctx, "delete object "+o.Name, func(ctx context.Context) error {
			err := b.Object(o.Name).Generation(o.Generation).Delete(ctx)
			if errors.Is(err, storage.ErrObjectNotExist) {
				return nil
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("force_destroy: delete %s: %w", o.Name, err)
		}
	}
}

func papFromString(s string) storage.PublicAccessPrevention {
	switch s {
	case "enforced":
		return storage.PublicAccessPreventionEnforced
	case "inherited":
		return storage.PublicAccessPreventionInherited
	}
	return storage.PublicAccessPreventionUnknown
}

func lifecycleFrom(v cty.Value) storage.Lifecycle {
	var lc storage.Lifecycle
	for _, r := range elems(v, "lifecycle_rule") {
		cond := storage.LifecycleCondition{
			AgeInDays:             intOr(r, 0, "condition", "0", "age"),
			NumNewerVersions:      intOr(r, 0, "condition", "0", "num_newer_versions"),
			MatchesStorageClasses: strs(r, "condition", "0", "matches_storage_class"),
		}
		switch provider.String(r, "condition", "0", "with_state") {
		case "LIVE":
			cond.Liveness = storage.Live
		case "ARCHIVED":
			cond.Liveness = storage.Archived
		case "ANY":
			cond.Liveness = storage.LiveAndArchived
		}
		lc.Rules = append(lc.Rules, storage.LifecycleRule{
			Action: storage.LifecycleAction{
				Type:         provider.String(r, "action", "0", "type"),
				StorageClass: provider.String(r, "action", "0", "storage_class"),
			},
			Condition: cond,
		})
	}
	return lc
}

func lifecycleVal(lc storage.Lifecycle, prior cty.Value) cty.Value {
	rule := bucketSchema.Blocks["lifecycle_rule"].Block
	priorRules := elems(prior, "lifecycle_rule")
	var objs []map[string]cty.Value
	for i, r := range lc.Rules {
		withState := cty.NullVal(cty.String)
		switch r.Condition.Liveness {
		case storage.Live:
			withState = cty.StringVal("LIVE")
		case storage.Archived:
			withState = cty.StringVal("ARCHIVED")
		case storage.LiveAndArchived:
			withState = cty.StringVal("ANY")
		}
		classes := cty.NullVal(cty.List(cty.String))
		if len(r.Condition.MatchesStorageClasses) > 0 {
			classes = strList(r.Condition.MatchesStorageClasses)
		} else if i < len(priorRules) && !provider.GetAttr(priorRules[i], "condition", "0", "matches_storage_class").IsNull() {
			classes = cty.ListValEmpty(cty.String)
		}
		objs = append(objs, map[string]cty.Value{
			"action": blocks(&rule, "action", map[string]cty.Value{
				"type":          cty.StringVal(r.Action.Type),
				"storage_class": optStr(r.Action.StorageClass),
			}),
			"condition": blocks(&rule, "condition", map[string]cty.Value{
				"age":                   optInt(r.Condition.AgeInDays),
				"num_newer_versions":    optInt(r.Condition.NumNewerVersions),
				"with_state":            withState,
				"matches_storage_class": classes,
			}),
		})
	}
	return blocks(bucketSchema, "lifecycle_rule", objs...)
}
