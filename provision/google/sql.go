package google

import (
	"context"
	"fmt"
	"time"

	sqladmin "google.golang.org/api/sqladmin/v1"
)

// Shared Cloud SQL plumbing: operations are polled (the discovery client
// has no wait helper), and calls on one instance are serialised and
// retried on 409 operationInProgress, since Cloud SQL runs one operation
// per instance at a time.

// sqlCall runs one mutating Cloud SQL call on instance and waits for its
// operation, holding the instance's lock throughout.
func (g *gcp) sqlCall(ctx context.Context, project, instance, what string, fn func(ctx context.Context, svc *sqladmin.Service) (*sqladmin.Operation, error)) error {
	svc, err := g.sqlAPI()
	if err != nil {
		return err
	}
	mu := g.sqlLock(project + "/" + instance)
	mu.Lock()
	defer mu.Unlock()
	var op *sqladmin.Operation
	err = g.doIf(ctx, what, isSQLTransient, func(ctx context.Context) (err error) {
		op, err = fn(ctx, svc)
		return err
	})
	if err != nil {
		return err
	}
	return g.waitSQL(ctx, svc, project, op, what)
}

// waitSQL polls op until DONE (see sqlPollWait), retrying transient
// errors. Giving up before DONE is a pendingError: the change may still
// happen.
func (g *gcp) waitSQL(ctx context.Context, svc *sqladmin.Service, project string, op *sqladmin.Operation, what string) error {
	start := time.Now()
	for op.Status != "DONE" {
		if err := g.sqlPollWait(ctx, start); err != nil {
			return &pendingError{fmt.Errorf("%s: waiting for operation %s: %w", what, op.Name, err)}
		}
		name := op.Name
		err := g.do(ctx, "poll operation "+name, func(ctx context.Context) (err error) {
			op, err = svc.Operations.Get(project, name).Context(ctx).Do()
			return err
		})
		if err != nil {
			return &pendingError{fmt.Errorf("%s: polling operation %s: %w", what, name, err)}
		}
	}
	if op.Error != nil && len(op.Error.Errors) > 0 {
		e := op.Error.Errors[0]
		return fmt.Errorf("%s: operation %s failed: %s: %s", what, op.Name, e.Code, e.Message)
	}
	return nil
}

// sqlTimeout bounds one whole Cloud SQL change: an instance create takes
// minutes in reality.
const sqlTimeout = 40 * time.Minute
