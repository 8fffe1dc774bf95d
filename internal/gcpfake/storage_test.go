package gcpfake

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"
)

func logBucketAttrs() *storage.BucketAttrs {
	return &storage.BucketAttrs{
		Location:                 "europe-west1",
		UniformBucketLevelAccess: storage.UniformBucketLevelAccess{Enabled: true},
		VersioningEnabled:        true,
		Labels:                   map[string]string{"app": "airflow"},
		Lifecycle: storage.Lifecycle{Rules: []storage.LifecycleRule{{
			Action:    storage.LifecycleAction{Type: storage.DeleteAction},
			Condition: storage.LifecycleCondition{AgeInDays: 30},
		}}},
	}
}

// Bucket metadata fake-gcs-server would drop survives the round trip.
func TestBucketMetadataRoundTrip(t *testing.T) {
	f := startFake(t, Options{})
	ctx := t.Context()
	b := f.storage(t).Bucket("logs")
	if err := b.Create(ctx, proj, logBucketAttrs()); err != nil {
		t.Fatal(err)
	}
	attrs, err := b.Attrs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case attrs.Location != "EUROPE-WEST1" || attrs.LocationType != "region":
		t.Errorf("location %q %q", attrs.Location, attrs.LocationType)
	case !attrs.UniformBucketLevelAccess.Enabled || attrs.UniformBucketLevelAccess.LockedTime.IsZero():
		t.Errorf("uniform access %+v", attrs.UniformBucketLevelAccess)
	case !attrs.VersioningEnabled || attrs.Labels["app"] != "airflow" || attrs.MetaGeneration != 1:
		t.Errorf("versioning/labels/metageneration: %+v", attrs)
	case len(attrs.Lifecycle.Rules) != 1 || attrs.Lifecycle.Rules[0].Condition.AgeInDays != 30:
		t.Errorf("lifecycle %+v", attrs.Lifecycle)
	case attrs.StorageClass != "STANDARD" || attrs.ProjectNumber == 0 || attrs.Created.IsZero():
		t.Errorf("output fields: %+v", attrs)
	}
	err = f.storage(t).Bucket("logs").Create(ctx, proj, nil)
	wantErr(t, "duplicate bucket", err, http.StatusConflict, "conflict")

	upd := storage.BucketAttrsToUpdate{
		VersioningEnabled: false,
		Lifecycle:         &storage.Lifecycle{Rules: []storage.LifecycleRule{{Action: storage.LifecycleAction{Type: storage.DeleteAction}, Condition: storage.LifecycleCondition{AgeInDays: 7}}}},
	}
	upd.SetLabel("tier", "logs")
	attrs, err = b.If(storage.BucketConditions{MetagenerationMatch: 1}).Update(ctx, upd)
	if err != nil {
		t.Fatal(err)
	}
	if attrs.VersioningEnabled || attrs.Lifecycle.Rules[0].Condition.AgeInDays != 7 || attrs.Labels["tier"] != "logs" ||
		attrs.Labels["app"] != "airflow" || attrs.MetaGeneration != 2 || !attrs.UniformBucketLevelAccess.Enabled {
		t.Errorf("after update: %+v", attrs)
	}
	_, err = b.If(storage.BucketConditions{MetagenerationMatch: 1}).Update(ctx, upd)
	wantErr(t, "stale metageneration", err, http.StatusPreconditionFailed, "conditionNotMet")

	it := f.storage(t).Buckets(ctx, proj)
	got, err := it.Next()
	if err != nil || got.Name != "logs" {
		t.Fatalf("list: %v %v", got, err)
	}
	if _, err := it.Next(); !errors.Is(err, iterator.Done) {
		t.Errorf("list has more than one bucket: %v", err)
	}
}

func put(ctx context.Context, obj *storage.ObjectHandle, body string) (int64, error) {
	w := obj.NewWriter(ctx)
	if _, err := io.WriteString(w, body); err != nil {
		return 0, err
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	return w.Attrs().Generation, nil
}

// The state lock's preconditions hold end to end through the real client.
func TestObjectPreconditions(t *testing.T) {
	f := startFake(t, Options{})
	ctx := t.Context()
	c := f.storage(t)
	if err := c.Bucket("state").Create(ctx, proj, nil); err != nil {
		t.Fatal(err)
	}
	obj := c.Bucket("state").Object("default.tflock")
	gen, err := put(ctx, obj.If(storage.Conditions{DoesNotExist: true}), "lock-1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = put(ctx, obj.If(storage.Conditions{DoesNotExist: true}), "lock-2")
	wantErr(t, "second create", err, http.StatusPreconditionFailed, "")
	_, err = put(ctx, obj.If(storage.Conditions{GenerationMatch: gen + 1}), "x")
	wantErr(t, "write with a stale generation", err, http.StatusPreconditionFailed, "")
	gen2, err := put(ctx, obj.If(storage.Conditions{GenerationMatch: gen}), "lock-1b")
	if err != nil {
		t.Fatal(err)
	}

	// Reads use the XML API at /{bucket}/{object}.
	r, err := obj.NewReader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r)
	r.Close()
	if string(body) != "lock-1b" {
		t.Errorf("read %q", body)
	}

	err = obj.If(storage.Conditions{GenerationMatch: gen}).Delete(ctx)
	wantErr(t, "delete with a stale generation", err, http.StatusPreconditionFailed, "conditionNotMet")
	if err := obj.If(storage.Conditions{GenerationMatch: gen2}).Delete(ctx); err != nil {
		t.Fatalf("delete with the live generation: %v", err)
	}
	if _, err := obj.Attrs(ctx); !errors.Is(err, storage.ErrObjectNotExist) {
		t.Errorf("after delete: %v", err)
	}
}

func TestBucketDeleteNeedsEmptyBucket(t *testing.T) {
	f := startFake(t, Options{})
	ctx := t.Context()
	c := f.storage(t)
	b := c.Bucket("logs")
	if err := b.Create(ctx, proj, &storage.BucketAttrs{VersioningEnabled: true}); err != nil {
		t.Fatal(err)
	}
	obj := b.Object("logs/dag/task/2026-03-01T00:00:00/1.log")
	for _, body := range []string{"try 1", "try 1 again"} {
		if _, err := put(ctx, obj, body); err != nil {
			t.Fatal(err)
		}
	}
	// Versioning reached fake-gcs-server: the overwrite kept a generation.
	n := 0
	it := b.Objects(ctx, &storage.Query{Versions: true})
	for {
		_, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 {
		t.Errorf("%d object versions, want 2", n)
	}
	wantErr(t, "delete non-empty bucket", b.Delete(ctx), http.StatusConflict, "conflict")
	if err := obj.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	// A noncurrent generation still makes the bucket non-empty.
	wantErr(t, "delete bucket with noncurrent versions", b.Delete(ctx), http.StatusConflict, "conflict")
	it = b.Objects(ctx, &storage.Query{Versions: true})
	for {
		a, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Object(a.Name).Generation(a.Generation).Delete(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Attrs(ctx); !errors.Is(err, storage.ErrBucketNotExist) {
		t.Errorf("after delete: %v", err)
	}
}

// STORAGE_EMULATOR_HOST works too, and XML reads work whatever host name
// the client used to reach the fake.
func TestStorageEmulatorHost(t *testing.T) {
	f := startFake(t, Options{})
	host := EndpointsFor(f.url).StorageEmulatorHost
	t.Setenv("STORAGE_EMULATOR_HOST", "localhost"+host[len("127.0.0.1"):])
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c, err := storage.NewClient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bucket("bkt").Create(ctx, proj, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := put(ctx, c.Bucket("bkt").Object("o"), "hello"); err != nil {
		t.Fatal(err)
	}
	r, err := c.Bucket("bkt").Object("o").NewReader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if b, _ := io.ReadAll(r); string(b) != "hello" {
		t.Errorf("read %q", b)
	}
}
