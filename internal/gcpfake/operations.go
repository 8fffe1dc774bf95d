package gcpfake

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	sqladmin "google.golang.org/api/sqladmin/v1"
	"google.golang.org/protobuf/proto"
)

const opUser = "gcpfake@airctl.local"

// Timestamps as each API writes them: compute uses RFC 3339 with
// milliseconds and a zone offset, Cloud SQL and Storage use UTC.
func computeTime(t time.Time) string { return t.Format("2006-01-02T15:04:05.000-07:00") }
func utcTime(t time.Time) string     { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// latency is the operation duration of the method being served.
func (c *call) latency() time.Duration { return c.s.latency.For(c.method) }

// doneAt is when the operation this call starts will be DONE.
func (c *call) doneAt() time.Time { return c.now.Add(c.latency()) }

// onCommit queues a side effect of the call's change (a timer, a boot disk,
// instance group membership) that only happens if the change is committed.
func (c *call) onCommit(f func()) { c.pending = append(c.pending, f) }

// later schedules a timer with the call's change.
func (c *call) later(do, key string, at time.Time) {
	c.onCommit(func() { c.s.st.addTimer(timer{At: at, Do: do, Key: key}) })
}

// also stores a compute resource created alongside the main change.
func (c *call) also(key string, m proto.Message) {
	c.onCommit(func() { c.s.st.compute[key] = m })
}

// commit applies the change of a call, with the side effects it queued,
// unless its operation is injected to fail.
func (c *call) commit(change func()) {
	c.dirty = true
	if c.failOp != nil {
		return
	}
	change()
	for _, f := range c.pending {
		f()
	}
}

// opName mimics GCP's operation names ("operation-1700000000000-60a…").
func (c *call) opName(prefix string) string {
	id := c.s.st.nextID()
	return fmt.Sprintf("%s%d-%012x-%08x", prefix, c.now.UnixMilli(), id%0xffffffffffff, uint32(id*2654435761))
}

// scopeOf returns the operation scope of a compute key: the zone or region
// segment pair, or "global".
func scopeOf(key string) string {
	parts := strings.Split(key, "/")
	if len(parts) >= 4 && (parts[2] == "zones" || parts[2] == "regions") {
		return parts[2] + "/" + parts[3]
	}
	return "global"
}

// computeOp starts the operation for a change to the resource at key and
// commits the change (unless injected to fail). With zero latency the
// operation is already DONE in the response.
func (c *call) computeOp(opType, key string, targetID uint64, change func()) *computepb.Operation {
	c.commit(change)
	project := strings.Split(key, "/")[1]
	scope := scopeOf(key)
	name := c.opName("operation-")
	opKey := "projects/" + project + "/" + scope + "/operations/" + name
	op := &computepb.Operation{
		Kind:          proto.String("compute#operation"),
		Id:            proto.Uint64(c.s.st.nextID()),
		Name:          proto.String(name),
		OperationType: proto.String(opType),
		TargetLink:    proto.String(selfLink(key)),
		TargetId:      proto.Uint64(targetID),
		Status:        computepb.Operation_RUNNING.Enum(),
		Progress:      proto.Int32(0),
		InsertTime:    proto.String(computeTime(c.now)),
		StartTime:     proto.String(computeTime(c.now)),
		User:          proto.String(opUser),
		SelfLink:      proto.String(selfLink(opKey)),
	}
	switch {
	case strings.HasPrefix(scope, "zones/"):
		op.Zone = proto.String(selfLink("projects/" + project + "/" + scope))
	case strings.HasPrefix(scope, "regions/"):
		op.Region = proto.String(selfLink("projects/" + project + "/" + scope))
	}
	rec := &computeOp{Op: op, DoneAt: c.doneAt(), Fail: c.failOp}
	c.s.st.computeOps[opKey] = rec
	if rec.DoneAt.After(c.now) {
		c.s.st.addTimer(timer{At: rec.DoneAt, Do: doComputeOp, Key: opKey})
	} else {
		c.s.finishComputeOp(opKey, c.now)
	}
	return proto.Clone(op).(*computepb.Operation)
}

// finishComputeOp marks an operation DONE. A failed one carries all three of
// error, httpErrorStatusCode and httpErrorMessage: the Go client's op.Wait
// only reports an error when httpErrorStatusCode is set.
func (s *Server) finishComputeOp(key string, at time.Time) {
	rec, ok := s.st.computeOps[key]
	if !ok || rec.Op.GetStatus() == computepb.Operation_DONE {
		return
	}
	op := rec.Op
	op.Status = computepb.Operation_DONE.Enum()
	op.Progress = proto.Int32(100)
	op.EndTime = proto.String(computeTime(at))
	if f := rec.Fail; f != nil {
		op.HttpErrorStatusCode = proto.Int32(int32(f.Code))
		op.HttpErrorMessage = proto.String(strings.ToUpper(http.StatusText(f.Code)))
		op.Error = &computepb.Error{Errors: []*computepb.Errors{{
			Code:    proto.String(f.Reason),
			Message: proto.String(f.Message),
		}}}
	}
}

func (c *call) computeOpKey() string {
	return c.scopePrefix() + "operations/" + c.params["operation"]
}

func (s *Server) getComputeOperation(c *call) (any, error) {
	rec, ok := s.st.computeOps[c.computeOpKey()]
	if !ok {
		return nil, errResourceNotFound(c.computeOpKey())
	}
	return proto.Clone(rec.Op), nil
}

func (s *Server) deleteComputeOperation(c *call) (any, error) {
	key := c.computeOpKey()
	if _, ok := s.st.computeOps[key]; !ok {
		return nil, errResourceNotFound(key)
	}
	delete(s.st.computeOps, key)
	c.dirty = true
	return map[string]any{}, nil
}

func (s *Server) listComputeOperations(c *call) (any, error) {
	prefix := c.scopePrefix() + "operations/"
	var keys []string
	for k := range s.st.computeOps {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	items := make([]proto.Message, 0, len(keys))
	for _, k := range keys {
		items = append(items, s.st.computeOps[k].Op)
	}
	return listResponse("compute#operationList", selfLink(strings.TrimSuffix(prefix, "/")), items)
}

// waitComputeOperation serves POST …/operations/{op}/wait: it blocks until
// the operation is DONE, WaitMax passes (then the operation is returned
// still running, as GCP does after about two minutes), the client goes away
// or the server closes. It must not hold the lock while blocked.
func (s *Server) waitComputeOperation(w http.ResponseWriter, c *call) {
	key := c.computeOpKey()
	limit := time.NewTimer(s.opts.WaitMax)
	defer limit.Stop()
	for {
		var op *computepb.Operation
		var doneAt, now time.Time
		var changed chan struct{}
		resp, err := s.run(c, func(c *call) (any, error) {
			rec, ok := s.st.computeOps[key]
			if !ok {
				return nil, errResourceNotFound(key)
			}
			// Taken under the lock, so no change can slip in unseen.
			op, doneAt, now, changed = proto.Clone(rec.Op).(*computepb.Operation), rec.DoneAt, c.now, s.changed
			return op, nil
		})
		if err != nil {
			writeError(w, err)
			return
		}
		if op.GetStatus() == computepb.Operation_DONE {
			writeResponse(w, resp)
			return
		}
		tick := time.NewTimer(max(doneAt.Sub(now), time.Millisecond))
		select {
		case <-tick.C:
		case <-changed:
		case <-limit.C:
			writeResponse(w, resp)
			return
		case <-s.closed:
			writeResponse(w, resp)
			return
		case <-c.r.Context().Done():
			tick.Stop()
			return
		}
		tick.Stop()
	}
}

// sqlOp starts a Cloud SQL operation on instance and commits the change
// (unless injected to fail). Cloud SQL answers PENDING, then RUNNING.
func (c *call) sqlOp(opType, instance string, change func()) *sqladmin.Operation {
	c.commit(change)
	p := c.project()
	name := c.opName("")
	key := "projects/" + p + "/operations/" + name
	op := &sqladmin.Operation{
		Kind:          "sql#operation",
		Name:          name,
		OperationType: opType,
		Status:        "PENDING",
		TargetId:      instance,
		TargetProject: p,
		TargetLink:    sqlLink("projects/" + p + "/instances/" + instance),
		SelfLink:      sqlLink(key),
		InsertTime:    utcTime(c.now),
		User:          opUser,
	}
	rec := &sqlOp{Op: op, DoneAt: c.doneAt(), Fail: c.failOp}
	c.s.st.sqlOps[key] = rec
	if rec.DoneAt.After(c.now) {
		c.s.st.addTimer(timer{At: rec.DoneAt, Do: doSQLOp, Key: key})
	} else {
		c.s.finishSQLOp(key, c.now)
	}
	cp := *op
	return &cp
}

func (s *Server) finishSQLOp(key string, at time.Time) {
	rec, ok := s.st.sqlOps[key]
	if !ok || rec.Op.Status == "DONE" {
		return
	}
	op := rec.Op
	op.Status = "DONE"
	if op.StartTime == "" {
		op.StartTime = op.InsertTime
	}
	op.EndTime = utcTime(at)
	if f := rec.Fail; f != nil {
		op.Error = &sqladmin.OperationErrors{Kind: "sql#operationErrors", Errors: []*sqladmin.OperationError{{
			Kind: "sql#operationError", Code: f.Reason, Message: f.Message,
		}}}
	}
}

func (s *Server) getSQLOperation(c *call) (any, error) {
	key := "projects/" + c.project() + "/operations/" + c.params["operation"]
	rec, ok := s.st.sqlOps[key]
	if !ok {
		return nil, errNotFound("The Cloud SQL operation does not exist.")
	}
	if rec.Op.Status == "PENDING" {
		rec.Op.Status, rec.Op.StartTime = "RUNNING", utcTime(c.now)
		c.dirty = true
	}
	cp := *rec.Op
	return &cp, nil
}

func (s *Server) listSQLOperations(c *call) (any, error) {
	prefix := "projects/" + c.project() + "/operations/"
	inst := c.query("instance")
	var keys []string
	for k, rec := range s.st.sqlOps {
		if strings.HasPrefix(k, prefix) && (inst == "" || rec.Op.TargetId == inst) {
			keys = append(keys, k)
		}
	}
	// Newest first, as Cloud SQL lists them.
	sort.Slice(keys, func(i, j int) bool { return s.st.sqlOps[keys[i]].Op.InsertTime > s.st.sqlOps[keys[j]].Op.InsertTime })
	items := make([]*sqladmin.Operation, 0, len(keys))
	for _, k := range keys {
		items = append(items, s.st.sqlOps[k].Op)
	}
	return &sqladmin.OperationsListResponse{Kind: "sql#operationsList", Items: items}, nil
}

// sqlBusy reports an unfinished operation on instance: Cloud SQL runs one
// operation per instance at a time and refuses others with 409.
func (s *Server) sqlBusy(project, instance string) error {
	for k, rec := range s.st.sqlOps {
		if rec.Op.Status != "DONE" && rec.Op.TargetId == instance && strings.HasPrefix(k, "projects/"+project+"/") {
			return newAPIError(http.StatusConflict, "operationInProgress",
				"Operation failed because another operation was already in progress. Try your request after the current operation is complete.")
		}
	}
	return nil
}
