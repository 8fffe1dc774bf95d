package storetest

import (
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

func testVariables(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetVariable(ctx, "env")
	mustBe(t, err, store.ErrNotFound)
	mustBe(t, s.DeleteVariable(ctx, "env"), store.ErrNotFound)

	env := store.Variable{Key: "env", Value: "prod", Description: "where we run"}
	must(t, s.SetVariable(ctx, env))
	must(t, s.SetVariable(ctx, store.Variable{Key: "bucket", Value: "s3://b"}))
	got, err := s.GetVariable(ctx, "env")
	must(t, err)
	equal(t, "variable", got, env)

	env.Value, env.Description = "staging", ""
	must(t, s.SetVariable(ctx, env))
	got, err = s.GetVariable(ctx, "env")
	must(t, err)
	equal(t, "overwritten variable", got, env)

	vs, err := s.ListVariables(ctx)
	must(t, err)
	equal(t, "variables", vs, []store.Variable{{Key: "bucket", Value: "s3://b"}, env})

	must(t, s.DeleteVariable(ctx, "env"))
	_, err = s.GetVariable(ctx, "env")
	mustBe(t, err, store.ErrNotFound)
	vs, err = s.ListVariables(ctx)
	must(t, err)
	equal(t, "variables after delete", len(vs), 1)
}

func testPools(t *testing.T, s store.Store) {
	ctx := t.Context()
	def, err := s.GetPool(ctx, store.DefaultPool)
	must(t, err)
	equal(t, "default pool slots", def.Slots, store.DefaultPoolSlots)
	_, err = s.GetPool(ctx, "db")
	mustBe(t, err, store.ErrNotFound)
	mustBe(t, s.DeletePool(ctx, "db"), store.ErrNotFound)

	db := store.Pool{Name: "db", Slots: 4, Description: "database connections"}
	must(t, s.SetPool(ctx, db))
	got, err := s.GetPool(ctx, "db")
	must(t, err)
	equal(t, "pool", got, db)
	db.Slots = 2
	must(t, s.SetPool(ctx, db))
	got, err = s.GetPool(ctx, "db")
	must(t, err)
	equal(t, "resized pool", got, db)

	pools, err := s.ListPools(ctx)
	must(t, err)
	equal(t, "pools", pools, []store.Pool{db, def})

	must(t, s.DeletePool(ctx, "db"))
	_, err = s.GetPool(ctx, "db")
	mustBe(t, err, store.ErrNotFound)

	if err := s.DeletePool(ctx, store.DefaultPool); err == nil {
		t.Error("the default pool was deleted")
	}
	_, err = s.GetPool(ctx, store.DefaultPool)
	must(t, err)
}

func testMigrateIdempotent(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.SetPool(ctx, store.Pool{Name: store.DefaultPool, Slots: 5}))
	must(t, s.SetVariable(ctx, store.Variable{Key: "k", Value: "v"}))
	must(t, s.Migrate(ctx))
	must(t, s.Migrate(ctx))
	p, err := s.GetPool(ctx, store.DefaultPool)
	must(t, err)
	equal(t, "default pool slots after Migrate", p.Slots, 5)
	_, err = s.GetVariable(ctx, "k")
	must(t, err)
}

func testUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetUser(ctx, "ada")
	mustBe(t, err, store.ErrNotFound)

	ada := store.User{Username: "ada", Email: "ada@example.com", Role: store.RoleAdmin,
		PasswordHash: "$2a$10$hash", Active: true, CreatedAt: day(0)}
	created, err := s.CreateUser(ctx, ada)
	must(t, err)
	if created.ID == 0 {
		t.Fatal("CreateUser did not set ID")
	}
	want := ada
	want.ID, want.CreatedAt = created.ID, dbTime(ada.CreatedAt)
	equal(t, "created user", created, want)
	got, err := s.GetUser(ctx, "ada")
	must(t, err)
	equal(t, "user", got, want)

	_, err = s.CreateUser(ctx, store.User{Username: "ada", Role: store.RoleViewer})
	mustBe(t, err, store.ErrAlreadyExists)

	bob, err := s.CreateUser(ctx, store.User{Username: "bob", Role: store.RoleViewer})
	must(t, err)
	if bob.CreatedAt.IsZero() || time.Since(bob.CreatedAt) > time.Minute {
		t.Errorf("CreatedAt of a new user = %v, want now", bob.CreatedAt)
	}

	upd := want
	upd.Role, upd.Active, upd.LastLogin, upd.Email = store.RoleOp, false, day(1), "a@example.org"
	upd.SessionGen = 3
	must(t, s.UpdateUser(ctx, upd))
	got, err = s.GetUser(ctx, "ada")
	must(t, err)
	upd.LastLogin = dbTime(upd.LastLogin)
	equal(t, "updated user", got, upd)
	mustBe(t, s.UpdateUser(ctx, store.User{Username: "nope"}), store.ErrNotFound)
	stale := upd
	stale.SessionGen = 1
	must(t, s.UpdateUser(ctx, stale))
	got, err = s.GetUser(ctx, "ada")
	must(t, err)
	equal(t, "session generation after a stale update", got.SessionGen, int64(3))

	users, err := s.ListUsers(ctx)
	must(t, err)
	equal(t, "users", users, []store.User{upd, bob})

	must(t, s.DeleteUser(ctx, "ada"))
	_, err = s.GetUser(ctx, "ada")
	mustBe(t, err, store.ErrNotFound)
	mustBe(t, s.DeleteUser(ctx, "ada"), store.ErrNotFound)
}
