package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/airctl/airctl/workflow/store"
)

// poolJSON is Airflow's Pool object with its slot usage.
type poolJSON struct {
	Name            string  `json:"name"`
	Slots           int     `json:"slots"`
	OccupiedSlots   int     `json:"occupied_slots"`
	RunningSlots    int     `json:"running_slots"`
	QueuedSlots     int     `json:"queued_slots"`
	ScheduledSlots  int     `json:"scheduled_slots"`
	OpenSlots       int     `json:"open_slots"`
	DeferredSlots   int     `json:"deferred_slots"`
	Description     *string `json:"description"`
	IncludeDeferred bool    `json:"include_deferred"`
}

type poolUsage struct{ running, queued, scheduled int }

// poolUsage tallies slots by pool from one query of busy task instances,
// rather than three counts per pool.
func (s *Server) poolUsage(ctx context.Context) (map[string]poolUsage, error) {
	tis, err := s.store.ListTaskInstances(ctx, store.TIFilter{States: []store.TIState{store.TIRunning, store.TIQueued, store.TIScheduled}})
	if err != nil {
		return nil, err
	}
	use := map[string]poolUsage{}
	for _, ti := range tis {
		u := use[ti.Pool]
		switch ti.State {
		case store.TIRunning:
			u.running += ti.PoolSlots
		case store.TIQueued:
			u.queued += ti.PoolSlots
		default:
			u.scheduled += ti.PoolSlots
		}
		use[ti.Pool] = u
	}
	return use, nil
}

func newPoolJSON(p store.Pool, u poolUsage) poolJSON {
	occupied := u.running + u.queued
	return poolJSON{
		Name: p.Name, Slots: p.Slots, OccupiedSlots: occupied, RunningSlots: u.running, QueuedSlots: u.queued,
		ScheduledSlots: u.scheduled, OpenSlots: p.Slots - occupied, Description: strPtr(p.Description),
	}
}

func (s *Server) pool(ctx context.Context, name string) (store.Pool, error) {
	p, err := s.store.GetPool(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return p, notFound("Pool not found", "Pool with name:'%s' not found", name)
	}
	return p, err
}

// writePool answers with one pool and its usage.
func (s *Server) writePool(w http.ResponseWriter, r *http.Request, p store.Pool) {
	use, err := s.poolUsage(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newPoolJSON(p, use[p.Name]))
}

// listPools is GET /api/v1/pools, by name.
func (s *Server) listPools(w http.ResponseWriter, r *http.Request) {
	pg, err := pageOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	all, err := s.store.ListPools(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	use, err := s.poolUsage(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items := []poolJSON{}
	for _, p := range slicePage(all, pg) {
		items = append(items, newPoolJSON(p, use[p.Name]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"pools": items, "total_entries": len(all)})
}

// getPool is GET /api/v1/pools/{pool_name}.
func (s *Server) getPool(w http.ResponseWriter, r *http.Request) {
	p, err := s.pool(r.Context(), r.PathValue("pool_name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writePool(w, r, p)
}

type poolBody struct {
	Name            *string `json:"name"`
	Slots           *int    `json:"slots"`
	Description     *string `json:"description"`
	IncludeDeferred *bool   `json:"include_deferred"` // no deferred tasks in aird; accepted
}

// postPool is POST /api/v1/pools; an existing name is a conflict.
func (s *Server) postPool(w http.ResponseWriter, r *http.Request) {
	var body poolBody
	if err := decodeJSON(w, r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	if body.Name == nil || strings.TrimSpace(*body.Name) == "" || body.Slots == nil {
		s.fail(w, r, badRequest("Fields name (non-empty) and slots are required."))
		return
	}
	if *body.Slots < 0 {
		s.fail(w, r, badRequest("slots must be 0 or more, got %d.", *body.Slots))
		return
	}
	p := store.Pool{Name: *body.Name, Slots: *body.Slots, Description: derefOr(body.Description, "")}
	if _, err := s.store.GetPool(r.Context(), p.Name); err == nil {
		s.fail(w, r, conflict("Pool: %s already exists", p.Name))
		return
	} else if !errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	if err := s.store.SetPool(r.Context(), p); err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, store.Event{Event: "api.post_pool", Extra: fmt.Sprintf("name=%s slots=%d", p.Name, p.Slots)})
	s.writePool(w, r, p)
}

// patchPool is PATCH /api/v1/pools/{pool_name}. Renaming is not
// supported; the default pool only takes a new size, as in Airflow.
func (s *Server) patchPool(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("pool_name")
	var body poolBody
	if err := decodeJSON(w, r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	if body.Name != nil && *body.Name != name {
		s.fail(w, r, badRequest("Renaming a pool is not supported: name in the body must be %q.", name))
		return
	}
	mask, err := updateMask(r, "slots", "description", "include_deferred")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if name == store.DefaultPool && mask("description") && body.Description != nil {
		s.fail(w, r, badRequest("Only slots can be modified on the default pool."))
		return
	}
	p, err := s.pool(r.Context(), name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if mask("slots") && body.Slots != nil {
		if *body.Slots < 0 {
			s.fail(w, r, badRequest("slots must be 0 or more, got %d.", *body.Slots))
			return
		}
		p.Slots = *body.Slots
	}
	if mask("description") && body.Description != nil {
		p.Description = *body.Description
	}
	if err := s.store.SetPool(r.Context(), p); err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, store.Event{Event: "api.patch_pool", Extra: fmt.Sprintf("name=%s slots=%d", p.Name, p.Slots)})
	s.writePool(w, r, p)
}

// deletePool is DELETE /api/v1/pools/{pool_name}.
func (s *Server) deletePool(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("pool_name")
	if name == store.DefaultPool {
		s.fail(w, r, badRequest("Default Pool can't be deleted"))
		return
	}
	err := s.store.DeletePool(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		err = notFound("Pool not found", "Pool with name:'%s' not found", name)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, store.Event{Event: "api.delete_pool", Extra: "name=" + name})
	w.WriteHeader(http.StatusNoContent)
}
