// Package store is the metadata store of aird: DAGs, runs, task instances,
// variables, pools, users, jobs and the event log. Callers depend only on the
// Store interface; sqlite (embedded) and postgres implement it and both must
// pass the shared behaviour suite in store/storetest.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors every implementation returns (wrapped) so callers can use errors.Is.
var (
	ErrNotFound      = errors.New("not found")
	ErrAlreadyExists = errors.New("already exists")
	// ErrStateConflict is returned by an update func to abort a
	// compare-and-set when the row is not in the state the caller expected.
	ErrStateConflict = errors.New("state conflict")
)

// Store is safe for concurrent use by many goroutines.
//
// Getters, and the updates and deletes of one thing, return ErrNotFound
// when it does not exist. Times come back in UTC, truncated to the
// microsecond; the zero time round-trips.
type Store interface {
	// Migrate applies pending schema migrations; it is idempotent.
	Migrate(ctx context.Context) error
	Close() error

	// UpsertDAG records a parsed DAG. A new DAG starts with the given
	// IsPaused; an existing one keeps its paused flag.
	UpsertDAG(ctx context.Context, d DAG) error
	GetDAG(ctx context.Context, dagID string) (DAG, error)
	ListDAGs(ctx context.Context) ([]DAG, error)
	SetDAGPaused(ctx context.Context, dagID string, paused bool) error
	// DeactivateDAGs marks every DAG not in keep as inactive (its file is gone).
	DeactivateDAGs(ctx context.Context, keep []string) error
	// ReplaceImportErrors swaps the whole set of DAG file errors.
	ReplaceImportErrors(ctx context.Context, errs []ImportError) error
	ListImportErrors(ctx context.Context) ([]ImportError, error)

	// CreateDagRun inserts a run and its task instances atomically. It
	// returns ErrAlreadyExists if (dag_id, run_id) or (dag_id, logical_date)
	// is taken. It sets the run's ID and the task instances' DagID and RunID.
	CreateDagRun(ctx context.Context, run DagRun, tis []TaskInstance) (DagRun, error)
	GetDagRun(ctx context.Context, dagID, runID string) (DagRun, error)
	// ListDagRuns returns matching runs and the total count before paging.
	ListDagRuns(ctx context.Context, f DagRunFilter) ([]DagRun, int, error)
	// UpdateDagRun runs fn on the current row inside a transaction and
	// writes what fn leaves; an error from fn aborts and is returned.
	// fn must not call the Store, and cannot change ID, DagID or RunID.
	UpdateDagRun(ctx context.Context, dagID, runID string, fn func(*DagRun) error) (DagRun, error)
	// DeleteDagRun removes a run and its task instances.
	DeleteDagRun(ctx context.Context, dagID, runID string) error

	GetTaskInstance(ctx context.Context, k TIKey) (TaskInstance, error)
	// ListTaskInstances orders by PriorityWeight (highest first), then by
	// run creation, then by TaskID: the order a scheduler queues them in.
	ListTaskInstances(ctx context.Context, f TIFilter) ([]TaskInstance, error)
	// CountTaskInstances ignores f.Limit.
	CountTaskInstances(ctx context.Context, f TIFilter) (int, error)
	// CountBusy groups the queued and running task instances by DAG, pool
	// and state, with the pool slots each group holds: all a scheduler's
	// slot accounting needs, in one query.
	CountBusy(ctx context.Context) ([]BusyCount, error)
	// ListTIStatuses returns the state and try of every task instance of
	// the given runs of a DAG, in no particular order: what a grid of runs
	// × tasks shows, without reading and sorting whole rows.
	ListTIStatuses(ctx context.Context, dagID string, runIDs []string) ([]TIStatus, error)
	// UpdateTaskInstance is the compare-and-set primitive of the task state
	// machine: fn sees the current row under a write lock and may return
	// ErrStateConflict to leave it untouched. fn must not call the Store and
	// cannot change the key; the store sets UpdatedAt.
	UpdateTaskInstance(ctx context.Context, k TIKey, fn func(*TaskInstance) error) (TaskInstance, error)
	// MoveTaskInstances moves the named task instances of one run that are
	// in state from to state to, in one statement: the scheduler's
	// transitions of a pass (none → scheduled for a whole fan-out). A move
	// to a finished state sets EndDate to at. It returns the task IDs it
	// moved; the others had left from (another scheduler or a worker got
	// there first).
	MoveTaskInstances(ctx context.Context, dagID, runID string, taskIDs []string, from, to TIState, at time.Time) ([]string, error)
	// StartTry is a worker's claim of a queued try, the hottest update, in
	// one step: what UpdateTaskInstance with StartTryFn(s) does.
	StartTry(ctx context.Context, k TIKey, s TryStart) (TaskInstance, error)

	GetVariable(ctx context.Context, key string) (Variable, error)
	SetVariable(ctx context.Context, v Variable) error
	DeleteVariable(ctx context.Context, key string) error
	ListVariables(ctx context.Context) ([]Variable, error)

	GetPool(ctx context.Context, name string) (Pool, error)
	SetPool(ctx context.Context, p Pool) error
	// DeletePool refuses to delete DefaultPool.
	DeletePool(ctx context.Context, name string) error
	ListPools(ctx context.Context) ([]Pool, error)

	// CreateUser returns the user with its ID, ErrAlreadyExists if the
	// username is taken. A zero CreatedAt means now.
	CreateUser(ctx context.Context, u User) (User, error)
	GetUser(ctx context.Context, username string) (User, error)
	// UpdateUser writes the user named u.Username, keeping ID and CreatedAt.
	UpdateUser(ctx context.Context, u User) error
	DeleteUser(ctx context.Context, username string) error
	ListUsers(ctx context.Context) ([]User, error)

	// StartJob registers a scheduler/worker process and returns it with its
	// ID. A zero StartDate means now, a zero LatestHeartbeat the StartDate.
	StartJob(ctx context.Context, j Job) (Job, error)
	HeartbeatJob(ctx context.Context, id int64, at time.Time) error
	EndJob(ctx context.Context, id int64, state string, at time.Time) error
	GetJob(ctx context.Context, id int64) (Job, error)
	// LatestJob returns the job of that type with the newest heartbeat.
	LatestJob(ctx context.Context, jobType string) (Job, error)

	// Scheduler HA and failover (issue 7).

	// ListJobs returns every job of that type, newest first.
	ListJobs(ctx context.Context, jobType string) ([]Job, error)
	// ClaimTaskInstances moves those of keys that are scheduled to queued,
	// queued by scheduler job jobID at `at`, and returns them in keys'
	// order. Several schedulers may claim at once: a row another claimer
	// holds is skipped, not waited for (Postgres: FOR UPDATE SKIP LOCKED),
	// so each task instance is claimed by exactly one caller. Unknown keys
	// and task instances in other states are left out.
	ClaimTaskInstances(ctx context.Context, keys []TIKey, jobID int64, at time.Time) ([]TaskInstance, error)
	// Critical runs fn while no other caller, in any process on this
	// database, runs its own: the schedulers' count-then-claim of open
	// slots (parallelism, pools, max_active_tasks), which claims alone
	// cannot keep within the limits. fn may call the Store; its error is
	// returned. A process that dies inside fn releases the section.
	Critical(ctx context.Context, fn func(context.Context) error) error

	// AddEvent ignores e.ID; a zero When means now.
	AddEvent(ctx context.Context, e Event) error
	ListEvents(ctx context.Context, f EventFilter) ([]Event, error)

	// SetConnection creates or replaces the connection; the store sets
	// UpdatedAt. The ciphertext is opaque here: package connections
	// encrypts and decrypts it, so the key never reaches the database.
	SetConnection(ctx context.Context, c Connection) error
	GetConnection(ctx context.Context, connID string) (Connection, error)
	DeleteConnection(ctx context.Context, connID string) error
	// ListConnections orders by ConnID.
	ListConnections(ctx context.Context) ([]Connection, error)

	// SetTaskOutput creates or replaces the output of a task instance
	// (ErrNotFound if the task instance does not exist). The caller
	// enforces MaxTaskOutputSize.
	SetTaskOutput(ctx context.Context, k TIKey, value string) error
	// GetTaskOutputs maps task ID to output for the tasks of one run that
	// have one.
	GetTaskOutputs(ctx context.Context, dagID, runID string) (map[string]string, error)

	// RecordSLAMiss inserts the miss unless one for the same (DagID,
	// TaskID, RunID) exists, and reports whether it did, so a miss is
	// recorded and notified once however many schedulers see it.
	RecordSLAMiss(ctx context.Context, m SLAMiss) (created bool, err error)
	MarkSLAMissNotified(ctx context.Context, dagID, taskID, runID string) error
	// ListSLAMisses returns matching misses, newest detected first, and the
	// total count before paging.
	ListSLAMisses(ctx context.Context, f SLAMissFilter) ([]SLAMiss, int, error)
}

// DefaultPool always exists; tasks without a pool use it.
const DefaultPool = "default_pool"

// DefaultPoolSlots is the size of DefaultPool after the first migration.
const DefaultPoolSlots = 128

// MaxTaskOutputSize is the largest task output callers may store, in
// bytes: outputs are small results passed between tasks, not data.
const MaxTaskOutputSize = 64 << 10
