package web

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

type variableList struct {
	Variables []variableJSON `json:"variables"`
	Total     int            `json:"total_entries"`
}

func TestVariablesCRUD(t *testing.T) {
	e := newEnv(t)
	for _, k := range []string{"b", "a", "c"} {
		w := e.as("op", "POST", "/api/v1/variables", map[string]any{"key": k, "value": "v-" + k, "description": "d"})
		expect(t, w, 200)
	}
	l := decode[variableList](t, e.as("op", "GET", "/api/v1/variables?limit=2", nil))
	if l.Total != 3 || len(l.Variables) != 2 || l.Variables[0].Key != "a" || l.Variables[1].Key != "b" {
		t.Fatalf("%+v", l)
	}
	v := decode[variableJSON](t, e.as("op", "GET", "/api/v1/variables/c", nil))
	if v.Value != "v-c" || v.Description == nil || *v.Description != "d" {
		t.Fatalf("%+v", v)
	}
	// update_mask=value leaves the description alone.
	w := e.as("op", "PATCH", "/api/v1/variables/c?update_mask=value", map[string]any{"key": "c", "value": "new", "description": "ignored"})
	expect(t, w, 200)
	if got, _ := e.st.GetVariable(context.Background(), "c"); got.Value != "new" || got.Description != "d" {
		t.Fatalf("after patch %+v", got)
	}
	expectProblem(t, e.as("op", "PATCH", "/api/v1/variables/c", map[string]any{"key": "other", "value": "x"}), 400, "doesn't match")
	expectProblem(t, e.as("op", "PATCH", "/api/v1/variables/c?update_mask=colour", map[string]any{"value": "x"}), 400, "colour")
	expectProblem(t, e.as("op", "PATCH", "/api/v1/variables/nope", map[string]any{"value": "x"}), 404, "nope")
	expectProblem(t, e.as("op", "POST", "/api/v1/variables", map[string]any{"key": "x"}), 400, "value")
	expectProblem(t, e.as("op", "POST", "/api/v1/variables", map[string]any{"key": "x", "value": 3}), 400, "value")
	expect(t, e.as("op", "DELETE", "/api/v1/variables/c", nil), http.StatusNoContent)
	expectProblem(t, e.as("op", "DELETE", "/api/v1/variables/c", nil), 404, "c")
	expectProblem(t, e.as("op", "GET", "/api/v1/variables/c", nil), 404, "c")
	for name, n := range map[string]int{"api.post_variables": 3, "api.patch_variable": 1, "api.delete_variable": 1} {
		ev := e.events(name)
		if len(ev) != n {
			t.Errorf("%s: %d events, want %d", name, len(ev), n)
		}
		for _, x := range ev {
			if strings.Contains(x.Extra, "v-") || strings.Contains(x.Extra, "new") {
				t.Errorf("event %s records the value: %q", name, x.Extra)
			}
		}
	}
}

type poolList struct {
	Pools []poolJSON `json:"pools"`
	Total int        `json:"total_entries"`
}

func TestPoolsCRUDAndUsage(t *testing.T) {
	e := newEnv(t)
	w := e.as("op", "POST", "/api/v1/pools", map[string]any{"name": "big", "slots": 4, "description": "for big jobs"})
	expect(t, w, 200)
	if p := decode[poolJSON](t, w); p.Name != "big" || p.Slots != 4 || p.OpenSlots != 4 {
		t.Fatalf("%+v", p)
	}
	expectProblem(t, e.as("op", "POST", "/api/v1/pools", map[string]any{"name": "big", "slots": 1}), 409, "big")
	expectProblem(t, e.as("op", "POST", "/api/v1/pools", map[string]any{"name": "neg", "slots": -2}), 400, "slots")
	expectProblem(t, e.as("op", "POST", "/api/v1/pools", map[string]any{"slots": 2}), 400, "name")

	// Usage counts busy task instances in the pool.
	e.trigger("example", map[string]any{"dag_run_id": "r1"})
	e.setTI(store.TIKey{DagID: "example", RunID: "r1", TaskID: "extract"}, store.TIRunning, 1)
	e.setTI(store.TIKey{DagID: "example", RunID: "r1", TaskID: "transform"}, store.TIQueued, 0)
	e.setTI(store.TIKey{DagID: "example", RunID: "r1", TaskID: "load"}, store.TIScheduled, 0)
	l := decode[poolList](t, e.as("viewer", "GET", "/api/v1/pools", nil))
	if l.Total != 2 || l.Pools[0].Name != "big" || l.Pools[1].Name != store.DefaultPool {
		t.Fatalf("%+v", l)
	}
	def := l.Pools[1]
	if def.RunningSlots != 1 || def.QueuedSlots != 1 || def.ScheduledSlots != 1 || def.OccupiedSlots != 2 || def.OpenSlots != def.Slots-2 {
		t.Fatalf("default pool usage %+v", def)
	}
	if l := decode[poolList](t, e.as("viewer", "GET", "/api/v1/pools?limit=1&offset=1", nil)); len(l.Pools) != 1 || l.Pools[0].Name != store.DefaultPool || l.Total != 2 {
		t.Fatalf("page %+v", l)
	}

	w = e.as("op", "PATCH", "/api/v1/pools/big?update_mask=slots", map[string]any{"slots": 8, "description": "ignored"})
	expect(t, w, 200)
	if p, _ := e.st.GetPool(context.Background(), "big"); p.Slots != 8 || p.Description != "for big jobs" {
		t.Fatalf("after patch %+v", p)
	}
	expect(t, e.as("op", "PATCH", "/api/v1/pools/default_pool", map[string]any{"slots": 64}), 200)
	expectProblem(t, e.as("op", "PATCH", "/api/v1/pools/default_pool", map[string]any{"description": "x"}), 400, "default pool")
	expectProblem(t, e.as("op", "PATCH", "/api/v1/pools/big", map[string]any{"name": "huge"}), 400, "Renaming")
	expectProblem(t, e.as("op", "PATCH", "/api/v1/pools/nope", map[string]any{"slots": 1}), 404, "nope")
	expectProblem(t, e.as("op", "DELETE", "/api/v1/pools/default_pool", nil), 400, "Default Pool")
	expect(t, e.as("op", "DELETE", "/api/v1/pools/big", nil), http.StatusNoContent)
	expectProblem(t, e.as("op", "DELETE", "/api/v1/pools/big", nil), 404, "big")
	expectProblem(t, e.as("viewer", "GET", "/api/v1/pools/big", nil), 404, "big")
	for name, n := range map[string]int{"api.post_pool": 1, "api.patch_pool": 2, "api.delete_pool": 1} {
		if got := len(e.events(name)); got != n {
			t.Errorf("%s: %d events, want %d", name, got, n)
		}
	}
}

type userList struct {
	Users []userJSON `json:"users"`
	Total int        `json:"total_entries"`
}

func TestUsersAdminOnly(t *testing.T) {
	e := newEnv(t)
	w := e.as("admin", "GET", "/api/v1/users?limit=2", nil)
	expect(t, w, 200)
	l := decode[userList](t, w)
	if l.Total != 4 || len(l.Users) != 2 || l.Users[0].Username != "admin" || l.Users[0].Roles[0].Name != "Admin" || !l.Users[0].Active {
		t.Fatalf("%+v", l)
	}
	if strings.Contains(w.Body.String(), "$2a$") {
		t.Fatal("password hashes in the answer")
	}
	u := decode[userJSON](t, e.as("admin", "GET", "/api/v1/users/viewer", nil))
	if u.Email != "viewer@example.com" || u.Roles[0].Name != "Viewer" {
		t.Fatalf("%+v", u)
	}
	expectProblem(t, e.as("admin", "GET", "/api/v1/users/nope", nil), 404, "nope")
}

func TestCreateUserValidation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u, pw, err := CreateUser(ctx, e.st, NewUser{Username: "gen", Email: "g@example.com", Role: "op", Cost: 4})
	if err != nil || len(pw) < 20 || u.Role != store.RoleOp {
		t.Fatalf("generated: %v %q %+v", err, pw, u)
	}
	r := req("GET", "/api/v1/pools", nil)
	r.SetBasicAuth("gen", pw)
	expect(t, e.serve(r), 200)
	for _, n := range []NewUser{
		{Username: "x", Email: "x@example.com", Role: "Root"},
		{Username: "a:b", Email: "x@example.com", Role: "Admin"},
		{Username: "x", Email: "nope", Role: "Admin"},
		{Username: "x", Email: "x@example.com", Role: "Admin", Password: "short"},
		{Username: "admin", Email: "x@example.com", Role: "Admin", Password: "long-enough"},
	} {
		n.Cost = 4
		if _, _, err := CreateUser(ctx, e.st, n); err == nil {
			t.Errorf("%+v: no error", n)
		}
	}
}

// TestHealth: always 200 and unauthenticated; the scheduler is healthy
// only with a running job whose heartbeat is recent.
func TestHealth(t *testing.T) {
	e := newEnv(t)
	get := func() healthJSON {
		t.Helper()
		w := e.as("", "GET", "/health", nil)
		expect(t, w, 200)
		return decode[healthJSON](t, w)
	}
	h := get()
	if h.Metadatabase.Status != healthy || h.Scheduler.Status != unhealthy || !time.Time(h.Scheduler.LatestSchedulerHeartbeat).IsZero() {
		t.Fatalf("no scheduler yet: %+v", h)
	}
	if !strings.Contains(e.as("", "GET", "/api/v1/health", nil).Body.String(), `"latest_scheduler_heartbeat":null`) {
		t.Fatal("heartbeat is not null without a scheduler")
	}
	ctx := context.Background()
	j, err := e.st.StartJob(ctx, store.Job{JobType: "scheduler", State: "running", Hostname: "h"})
	if err != nil {
		t.Fatal(err)
	}
	if h := get(); h.Scheduler.Status != healthy || time.Since(time.Time(h.Scheduler.LatestSchedulerHeartbeat)) > time.Minute {
		t.Fatalf("fresh heartbeat: %+v", h)
	}
	stale := time.Now().Add(-31 * time.Second)
	if err := e.st.HeartbeatJob(ctx, j.ID, stale); err != nil {
		t.Fatal(err)
	}
	if h := get(); h.Scheduler.Status != unhealthy || !time.Time(h.Scheduler.LatestSchedulerHeartbeat).Equal(stale.UTC().Truncate(time.Microsecond)) {
		t.Fatalf("stale heartbeat: %+v", h)
	}
	if err := e.st.HeartbeatJob(ctx, j.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := e.st.EndJob(ctx, j.ID, "success", time.Now()); err != nil {
		t.Fatal(err)
	}
	if h := get(); h.Scheduler.Status != unhealthy {
		t.Fatalf("ended scheduler: %+v", h)
	}
	// A store that does not answer: the metadatabase is unhealthy, still 200.
	e.srv.store = failingStore{Store: e.st}
	if h := get(); h.Metadatabase.Status != unhealthy || h.Scheduler.Status != unhealthy {
		t.Fatalf("store down: %+v", h)
	}
}

// failingStore is a store whose job lookups fail, as when the database is
// unreachable.
type failingStore struct{ store.Store }

func (failingStore) LatestJob(context.Context, string) (store.Job, error) {
	return store.Job{}, errors.New("connection refused")
}
