// Package gcs stores state as objects in a Cloud Storage bucket, as
// Terraform's gcs backend does: <prefix>/<workspace>.tfstate holds the state
// and <prefix>/<workspace>.tflock is the lock.
//
// Unlike Terraform, state writes also carry a generation precondition (the
// generation last read or written by this Backend), so even a run that
// skipped locking cannot overwrite state written by someone else.
package gcs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/storage"
	"github.com/googleapis/gax-go/v2"

	"github.com/airctl/airctl/provision/state"
)

// Config says where the state lives.
type Config struct {
	Bucket string
	// Prefix is the "directory" of the state objects; empty means the bucket
	// root.
	Prefix string
	// Workspace defaults to "default".
	Workspace string
	// Retry tunes retries of transient errors; the zero value is the
	// production default (see retryOptions).
	Retry RetryConfig
}

// RetryConfig bounds the storage client's retries. Tests shorten it.
type RetryConfig struct {
	Initial     time.Duration // first backoff, default 250ms
	Max         time.Duration // backoff cap, default 8s
	MaxAttempts int           // default 6
	// CallTimeout bounds one call with all its retries, default 45s. It is
	// what bounds uploads: storage v1.70 applies MaxAttempts to every call
	// except uploads, which retry until their context ends.
	CallTimeout time.Duration
}

// Backend is a state object and a lock object in one bucket.
type Backend struct {
	bucket    *storage.BucketHandle
	bucketNm  string
	stateName string
	lockName  string
	retry     []storage.RetryOption
	timeout   time.Duration

	// mu guards the snapshot this Backend last read or wrote: Write compares
	// against it and uses its generation as the write precondition.
	mu   sync.Mutex
	last *snapshot
}

// snapshot is the stored state as this Backend last saw it.
type snapshot struct {
	state *state.State // nil if the object is absent or empty
	gen   int64        // 0 if the object does not exist
}

// New returns a backend using client, which the caller creates (with
// credentials, or an emulator endpoint in tests) and closes.
func New(client *storage.Client, cfg Config) (*Backend, error) {
	if client == nil || cfg.Bucket == "" {
		return nil, errors.New("gcs state backend: a storage client and a bucket are required (backend \"gcs\" { bucket = \"...\" })")
	}
	ws := cfg.Workspace
	if ws == "" {
		ws = "default"
	}
	if !validWorkspace(ws) {
		return nil, fmt.Errorf("gcs state backend: workspace name %q may only use letters, digits, '_', '.' and '-'", ws)
	}
	prefix := strings.Trim(cfg.Prefix, "/")
	return &Backend{
		bucket:    client.Bucket(cfg.Bucket),
		bucketNm:  cfg.Bucket,
		stateName: path.Join(prefix, ws+".tfstate"),
		lockName:  path.Join(prefix, ws+".tflock"),
		retry:     retryOptions(cfg.Retry),
		timeout:   cmp.Or(cfg.Retry.CallTimeout, 45*time.Second),
	}, nil
}

// StateURL is the state object's gs:// URL.
func (b *Backend) StateURL() string { return b.url(b.stateName) }

// LockURL is the lock object's gs:// URL.
func (b *Backend) LockURL() string { return b.url(b.lockName) }

func (b *Backend) url(name string) string { return "gs://" + b.bucketNm + "/" + name }

// retryOptions: every call that changes an object carries a generation
// precondition (DoesNotExist to create, GenerationMatch to replace or
// delete), which makes it safe to repeat: a repeat can never replace a newer
// object, at worst it finds that its own first attempt succeeded and fails the
// precondition, which the callers recognise (lock: by the nonce in the lock
// body; state: by identical content). So RetryAlways is safe, and 429/5xx and
// connection errors are retried with backoff by the storage client itself.
// Retries are bounded (6 attempts, about 15 s of backoff, and CallTimeout
// per call, which is the only bound on uploads) so an outage fails the
// command with an error instead of hanging it; the caller's context bounds
// them further.
func retryOptions(c RetryConfig) []storage.RetryOption {
	if c.Initial <= 0 {
		c.Initial = 250 * time.Millisecond
	}
	if c.Max <= 0 {
		c.Max = 8 * time.Second
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 6
	}
	return []storage.RetryOption{
		storage.WithPolicy(storage.RetryAlways),
		storage.WithBackoff(gax.Backoff{Initial: c.Initial, Max: c.Max, Multiplier: 2}),
		storage.WithMaxAttempts(c.MaxAttempts),
	}
}

// validWorkspace keeps workspace names to characters that are safe in an
// object name and cannot climb out of the prefix.
func validWorkspace(ws string) bool {
	for i, r := range ws {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			i > 0 && (r == '_' || r == '.' || r == '-')
		if !ok {
			return false
		}
	}
	return ws != ""
}

// callContext bounds one storage call including its retries.
func (b *Backend) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, b.timeout)
}

func (b *Backend) object(name string) *storage.ObjectHandle {
	return b.bucket.Object(name).Retryer(b.retry...)
}

var _ state.Backend = (*Backend)(nil)
