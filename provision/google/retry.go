package google

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/googleapis/gax-go/v2/apierror"
	"github.com/sethvargo/go-retry"
	"google.golang.org/api/googleapi"

	"github.com/airctl/airctl/provision/provider"
)

// retryPolicy bounds retries of transient errors: each wait is a random
// duration up to the current backoff ("full jitter", so that parallel
// calls hit by the same outage do not retry in lockstep), which doubles up
// to max; the whole call gives up after deadline.
type retryPolicy struct {
	initial, max, deadline time.Duration
}

// do runs fn until it succeeds, fails with a non-transient error, or the
// deadline passes. what names the call for the error message.
func (g *gcp) do(ctx context.Context, what string, fn func(context.Context) error) error {
	return g.doIf(ctx, what, isTransient, fn)
}

// doIf is do with its own test of which errors to retry.
func (g *gcp) doIf(ctx context.Context, what string, retryable func(error) bool, fn func(context.Context) error) error {
	p := g.retry
	if p.initial == 0 {
		p = defaultRetry
	}
	backoff := retry.WithMaxDuration(p.deadline,
		retry.WithFullJitter(retry.WithCappedDuration(p.max, retry.NewExponential(p.initial))))
	attempts := 0
	var last error
	err := retry.Do(ctx, backoff, func(ctx context.Context) error {
		attempts++
		if last = fn(ctx); last == nil || !retryable(last) || ctx.Err() != nil {
			return last
		}
		return retry.RetryableError(last)
	})
	switch {
	case err == nil || last == nil || !retryable(last):
		return err
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %w (last error: %w)", what, ctx.Err(), last)
	default:
		return fmt.Errorf("%s: still failing after %d attempts in %s: %w", what, attempts, p.deadline, last)
	}
}

// httpCode is the HTTP status of an API error from either client family,
// 0 for other errors.
func httpCode(err error) int {
	var ae *apierror.APIError
	if errors.As(err, &ae) && ae.HTTPCode() > 0 {
		return ae.HTTPCode()
	}
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return ge.Code
	}
	return 0
}

// reason is the first error reason of an API error ("alreadyExists",
// "operationInProgress"), "" if none.
func reason(err error) string {
	var ae *apierror.APIError
	if errors.As(err, &ae) && ae.Reason() != "" {
		return ae.Reason()
	}
	var ge *googleapi.Error
	if errors.As(err, &ge) && len(ge.Errors) > 0 {
		return ge.Errors[0].Reason
	}
	return ""
}

// isTransient: rate limiting, server errors, and connections that broke
// before an answer arrived.
func isTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	switch c := httpCode(err); {
	case c == http.StatusTooManyRequests, c >= 500:
		return true
	case c != 0:
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED)
}

// isSQLBusy: Cloud SQL runs one operation per instance and rejects
// another with 409 operationInProgress, which clears once it finishes.
func isSQLBusy(err error) bool {
	return httpCode(err) == http.StatusConflict && reason(err) == "operationInProgress"
}

func isSQLTransient(err error) bool { return isTransient(err) || isSQLBusy(err) }

func isNotFound(err error) bool { return httpCode(err) == http.StatusNotFound }

func isConflict(err error) bool { return httpCode(err) == http.StatusConflict }

var errNotConfigured = errors.New("the google provider is not configured")

// alreadyExists is the error for a create that met an existing object:
// airctl never adopts it silently (it may belong to someone else), but
// tells how to bring it under management.
func alreadyExists(typeName, id string, err error) error {
	return &existsError{fmt.Errorf("%s %q already exists: import it with: airctl import %s.<name> %s (%w)", typeName, id, typeName, id, err)}
}

// existsError tells the engine (errors.Is provider.ErrAlreadyExists) that
// the object it recorded as being created is not its own.
type existsError struct{ error }

func (e *existsError) Unwrap() error { return e.error }

func (e *existsError) Is(target error) bool { return target == provider.ErrAlreadyExists }
