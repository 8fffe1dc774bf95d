package google

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/googleapis/gax-go/v2/apierror"
	"github.com/zclconf/go-cty/cty"
	"google.golang.org/api/googleapi"

	"github.com/airctl/airctl/provision/provider"
)

// Shared Compute Engine plumbing: every mutating call returns an
// operation to wait for, references must be URLs (GCP rejects bare names),
// and updates carry the current fingerprint.

// waitOp waits for a compute operation through the API's wait method,
// which answers as soon as the operation is DONE (or after about two
// minutes, when it is called again): unlike polling, no interval past the
// operation's end adds to the apply's critical path, and there is one
// request per operation instead of one per poll. Transient errors are
// retried as any call's. done reports whether the operation was seen
// DONE; err also carries an operation that failed with only error.errors
// set, which the client's op.Wait treats as success.
func (g *gcp) waitOp(ctx context.Context, op *compute.Operation, what string) (done bool, err error) {
	if op == nil {
		return true, nil
	}
	c, err := g.computeAPI()
	if err != nil {
		return false, err
	}
	pb := op.Proto()
	for pb.GetStatus() != computepb.Operation_DONE {
		err := g.do(ctx, what+": wait for operation "+pb.GetName(), func(ctx context.Context) error {
			next, err := c.waitOperation(ctx, pb)
			if err == nil {
				pb = next
			}
			return err
		})
		if err != nil {
			return false, fmt.Errorf("%s: waiting for operation %s: %w", what, pb.GetName(), err)
		}
	}
	return true, opError(pb, what)
}

// waitOperation calls the wait method of op's scope (zone, region or
// global), in op's project as its selfLink names it.
func (c *computeClients) waitOperation(ctx context.Context, op *computepb.Operation) (*computepb.Operation, error) {
	project := segmentAfter(op.GetSelfLink(), "projects")
	switch {
	case op.GetZone() != "":
		return c.zoneOps.Wait(ctx, &computepb.WaitZoneOperationRequest{Project: project, Zone: lastSegment(op.GetZone()), Operation: op.GetName()})
	case op.GetRegion() != "":
		return c.regionOps.Wait(ctx, &computepb.WaitRegionOperationRequest{Project: project, Region: lastSegment(op.GetRegion()), Operation: op.GetName()})
	}
	return c.globalOps.Wait(ctx, &computepb.WaitGlobalOperationRequest{Project: project, Operation: op.GetName()})
}

// segmentAfter is the path segment following name in a URL or path.
func segmentAfter(path, name string) string {
	parts := strings.Split(path, "/")
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] == name {
			return parts[i+1]
		}
	}
	return ""
}

// opError turns a DONE operation's error fields into an API error, so
// that callers can test its HTTP code like any other.
func opError(pb *computepb.Operation, what string) error {
	code := int(pb.GetHttpErrorStatusCode())
	if len(pb.GetError().GetErrors()) == 0 && (code == 0 || (code >= 200 && code < 300)) {
		return nil
	}
	if code == 0 {
		code = http.StatusBadRequest
	}
	ge := &googleapi.Error{Code: code, Message: pb.GetHttpErrorMessage()}
	var msgs []string
	for _, e := range pb.GetError().GetErrors() {
		msgs = append(msgs, e.GetCode()+": "+e.GetMessage())
		ge.Errors = append(ge.Errors, googleapi.ErrorItem{Reason: e.GetCode(), Message: e.GetMessage()})
	}
	if len(msgs) > 0 {
		ge.Message = strings.TrimPrefix(ge.Message+": "+strings.Join(msgs, "; "), ": ")
	}
	err, _ := apierror.FromError(ge)
	return fmt.Errorf("%s: operation %s failed: %w", what, pb.GetName(), err)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// call runs a mutating compute call with retries and waits for its
// operation. A 412 (the fingerprint moved under us) is retried too: fn
// must read the current fingerprint on every attempt.
func (g *gcp) call(ctx context.Context, what string, fn func(context.Context) (*compute.Operation, error)) error {
	var op *compute.Operation
	err := g.doIf(ctx, what, func(err error) bool {
		return isTransient(err) || httpCode(err) == http.StatusPreconditionFailed
	}, func(ctx context.Context) (err error) {
		op, err = fn(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	_, err = g.waitOp(ctx, op, what)
	return err
}

// insert creates a compute object and waits for it; see gcp.create for
// how a 409 is told apart from our own retried request.
func (g *gcp) insert(ctx context.Context, typeName, id string, fn func(context.Context) (*compute.Operation, error)) error {
	var op *compute.Operation
	if err := g.create(ctx, typeName, id, func(ctx context.Context) (err error) {
		op, err = fn(ctx)
		return err
	}); err != nil {
		return err
	}
	if done, err := g.waitOp(ctx, op, "create "+typeName+" "+id); err != nil {
		if isConflict(err) {
			return alreadyExists(typeName, id, err)
		}
		if !done {
			// Accepted but not seen to finish (interrupted, or polling
			// gave up): the object may well exist.
			return &pendingError{err}
		}
		return err
	}
	return nil
}

// pendingError is a create the API accepted without airctl seeing it
// finish. The object is recorded (see createFailed), so that the next
// plan refreshes it instead of creating a duplicate or forgetting it.
type pendingError struct{ err error }

func (e *pendingError) Error() string {
	return e.err.Error() + " (the object may exist: it is recorded in the state and the next plan will refresh it)"
}
func (e *pendingError) Unwrap() error { return e.err }

// createFailed is what a Create returns after its insert failed: the
// planned value (unknowns nulled) when the object may exist, else
// nothing.
func createFailed(planned cty.Value, err error) (cty.Value, error) {
	var pe *pendingError
	if errors.As(err, &pe) {
		return nullUnknownsIn(planned), err
	}
	return cty.NilVal, err
}

// get reads a compute object; found is false on 404.
func get[T any](ctx context.Context, g *gcp, what string, fn func(context.Context) (T, error)) (v T, found bool, err error) {
	err = g.do(ctx, what, func(ctx context.Context) (err error) {
		v, err = fn(ctx)
		return err
	})
	if isNotFound(err) {
		return v, false, nil
	}
	if err != nil {
		return v, false, fmt.Errorf("%s: %w", what, err)
	}
	return v, true, nil
}

// remove deletes a compute object; one already gone is fine.
func (g *gcp) remove(ctx context.Context, what string, fn func(context.Context) (*compute.Operation, error)) error {
	var op *compute.Operation
	err := g.do(ctx, what, func(ctx context.Context) (err error) {
		op, err = fn(ctx)
		return err
	})
	if isNotFound(err) {
		return nil
	}
	if err == nil {
		_, err = g.waitOp(ctx, op, what)
	}
	if isNotFound(err) {
		return nil
	}
	if err != nil && (reason(err) == "resourceInUseByAnotherResource" || strings.Contains(err.Error(), "already being used by")) {
		return fmt.Errorf("%s: %w; change or destroy what uses it first (for a replacement, lifecycle { create_before_destroy = true } lets the user move to the new object before the old one goes)", what, err)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// Reference forms: the API wants URLs or projects/… paths; a
// configuration may give a bare name (Terraform accepts them).

func globalRef(project, collection, v string) string {
	switch {
	case v == "":
		return ""
	case strings.Contains(v, "/"):
		if strings.HasPrefix(v, "global/") {
			return "projects/" + project + "/" + v
		}
		return v
	}
	return "projects/" + project + "/global/" + collection + "/" + v
}

func regionalRef(project, region, collection, v string) string {
	if v == "" || strings.Contains(v, "/") {
		return v
	}
	return "projects/" + project + "/regions/" + region + "/" + collection + "/" + v
}

func zonalRef(project, zone, collection, v string) string {
	if v == "" || strings.Contains(v, "/") {
		return v
	}
	return "projects/" + project + "/zones/" + zone + "/" + collection + "/" + v
}

// parseID splits an import ID of the forms projects/P/<scope>/NAME,
// <scope>/NAME or NAME into project, scope value (zone/region, "" for
// global) and name. scopeParts is how many segments the scope has after
// projects/P ("global/COLLECTION" = 2, "zones/Z/COLLECTION" = 3).
func parseID(id, defProject, defScope string, scopeParts int) (project, scope, name string, err error) {
	parts := strings.Split(strings.Trim(relPath(id), "/"), "/")
	switch {
	case len(parts) == 1:
		return defProject, defScope, parts[0], nil
	case parts[0] == "projects" && len(parts) == 3+scopeParts:
		if scopeParts == 3 {
			scope = parts[3]
		}
		return parts[1], scope, parts[len(parts)-1], nil
	case scopeParts == 3 && len(parts) == 2:
		return defProject, parts[0], parts[1], nil
	case scopeParts == 3 && len(parts) == 3:
		return parts[0], parts[1], parts[2], nil
	}
	return "", "", "", fmt.Errorf("import ID %q: want projects/PROJECT/…/NAME or NAME", id)
}

// fmtID is a numeric resource id as Terraform shows it.
func fmtID(id uint64) string { return strconv.FormatUint(id, 10) }

// globalCall sends one request about the global compute resource project/name.
type globalCall func(ctx context.Context, c *computeClients, project, name string) (*compute.Operation, error)

// createGlobal is the Create of a global compute resource named by its
// "name" attribute: build makes the insert request from the planned value,
// and the created object is read back. The parts every such resource
// shares (the durable create intent, the 409 advice) live in g.insert.
func (g *gcp) createGlobal(typeName, what, collection string, readFn globalReader,
	build func(ctx context.Context, c *computeClients, project, name string, planned cty.Value) (*compute.Operation, error),
) func(context.Context, cty.Value) (cty.Value, error) {
	return func(ctx context.Context, planned cty.Value) (cty.Value, error) {
		c, err := g.computeAPI()
		if err != nil {
			return cty.NilVal, err
		}
		project, name := g.project(planned), provider.String(planned, "name")
		err = g.insert(ctx, typeName, globalID(project, collection, name), func(ctx context.Context) (*compute.Operation, error) {
			return build(ctx, c, project, name, planned)
		})
		if err != nil {
			return createFailed(planned, err)
		}
		return readBack(ctx, what+" "+name, planned, func(ctx context.Context) (cty.Value, error) { return readFn(ctx, project, name, planned) })
	}
}

// deleteGlobal is the Delete of a global compute resource named by its
// "name" attribute.
func (g *gcp) deleteGlobal(what string, del globalCall) func(context.Context, cty.Value) error {
	return func(ctx context.Context, prior cty.Value) error {
		c, err := g.computeAPI()
		if err != nil {
			return err
		}
		project, name := g.project(prior), provider.String(prior, "name")
		return g.remove(ctx, "delete "+what+" "+name, func(ctx context.Context) (*compute.Operation, error) {
			return del(ctx, c, project, name)
		})
	}
}

// globalReader reads the global compute resource project/name; prior
// keeps references in the form the configuration wrote them.
type globalReader func(ctx context.Context, project, name string, prior cty.Value) (cty.Value, error)
