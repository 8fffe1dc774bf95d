package store

import (
	"slices"
	"time"
)

// TIState is the state of a task instance. The empty state is Airflow's
// "none": not yet considered by the scheduler.
type TIState string

// Task instance states, as in Airflow.
const (
	TINone           TIState = ""
	TIScheduled      TIState = "scheduled"
	TIQueued         TIState = "queued"
	TIRunning        TIState = "running"
	TISuccess        TIState = "success"
	TIFailed         TIState = "failed"
	TIUpForRetry     TIState = "up_for_retry"
	TIUpstreamFailed TIState = "upstream_failed"
	TISkipped        TIState = "skipped"
	// TIUpForReschedule is a sensor in reschedule mode between two pokes:
	// it holds no worker slot and runs again at NextRetryAt without
	// using up a try.
	TIUpForReschedule TIState = "up_for_reschedule"
)

// Finished reports whether the state is terminal for the current run.
func (s TIState) Finished() bool {
	return slices.Contains([]TIState{TISuccess, TIFailed, TIUpstreamFailed, TISkipped}, s)
}

// String renders the none state as "none" for humans.
func (s TIState) String() string {
	if s == TINone {
		return "none"
	}
	return string(s)
}

// RunState is the state of a DAG run.
type RunState string

// DAG run states.
const (
	RunQueued  RunState = "queued"
	RunRunning RunState = "running"
	RunSuccess RunState = "success"
	RunFailed  RunState = "failed"
)

// RunType says what created a run; it prefixes the run ID as in Airflow.
type RunType string

// Run types.
const (
	RunScheduled RunType = "scheduled"
	RunManual    RunType = "manual"
	RunBackfill  RunType = "backfill"
)

// DAG is the store's record of a DAG file entry.
type DAG struct {
	DagID        string
	FileLoc      string
	Description  string
	Schedule     string // expression as written; empty = manual only
	Timezone     string
	Tags         []string
	IsPaused     bool
	IsActive     bool // false once the DAG's file no longer defines it
	LastParsedAt time.Time
}

// ImportError is a DAG file that failed to load, with file:line:col.
type ImportError struct {
	Filename  string
	Message   string
	Timestamp time.Time
}

// DagRun is one run of a DAG for one logical date.
type DagRun struct {
	ID                int64
	DagID             string
	RunID             string
	RunType           RunType
	State             RunState
	LogicalDate       time.Time
	DataIntervalStart time.Time
	DataIntervalEnd   time.Time
	Conf              map[string]any
	ExternalTrigger   bool
	QueuedAt          time.Time
	StartDate         time.Time // zero until running
	EndDate           time.Time // zero until finished
}

// TIKey identifies a task instance.
type TIKey struct {
	DagID, RunID, TaskID string
}

// TaskInstance is one task of one run. TryNumber counts started tries
// (0 before the first start); MaxTries is the task's retries.
type TaskInstance struct {
	TIKey
	State          TIState
	TryNumber      int
	MaxTries       int
	Queue          string
	Pool           string
	PoolSlots      int
	PriorityWeight int
	Operator       string
	Hostname       string
	PID            int
	QueuedByJobID  int64
	QueuedAt       time.Time
	StartDate      time.Time
	EndDate        time.Time
	NextRetryAt    time.Time // when an up_for_retry task may run again
	UpdatedAt      time.Time // set by the store on every write
}

// Duration is the run time of the latest try, zero while unfinished.
func (ti TaskInstance) Duration() time.Duration {
	if ti.StartDate.IsZero() || ti.EndDate.IsZero() {
		return 0
	}
	return ti.EndDate.Sub(ti.StartDate)
}

// DagRunFilter selects runs; zero fields do not filter. Results are
// ordered by logical date, newest first when Desc is set.
type DagRunFilter struct {
	DagID    string
	States   []RunState
	RunTypes []RunType
	// LogicalDateFrom/To bound the logical date inclusively.
	LogicalDateFrom time.Time
	LogicalDateTo   time.Time
	Desc            bool
	Limit           int
	Offset          int
}

// TIFilter selects task instances; zero fields do not filter.
type TIFilter struct {
	DagID   string
	RunID   string
	TaskIDs []string
	States  []TIState
	Pool    string
	// QueuedByJobID selects task instances queued by that scheduler job.
	QueuedByJobID int64
	Limit         int // caps ListTaskInstances; zero means no limit
	Offset        int // skips that many rows of ListTaskInstances (API paging)
}

// TIStatus is a task instance at a glance (a cell of the UI grid).
type TIStatus struct {
	RunID, TaskID string
	State         TIState
	TryNumber     int
}

// TryStart says which try of a queued task instance a worker starts, where
// and when.
type TryStart struct {
	Try      int // ti.TryNumber+1 while queued
	Hostname string
	PID      int
	At       time.Time
}

// StartTryFn moves a task instance queued for s.Try to running: try number
// s.Try, started at s.At, on s.Hostname. A sensor rescheduled between
// pokes (StartDate set, EndDate zero) keeps its first poke as StartDate.
// Anything else is ErrStateConflict: the message is stale.
func StartTryFn(s TryStart) func(*TaskInstance) error {
	return func(ti *TaskInstance) error {
		if ti.State != TIQueued || ti.TryNumber+1 != s.Try {
			return ErrStateConflict
		}
		if !ti.EndDate.IsZero() || ti.StartDate.IsZero() {
			ti.StartDate = s.At
		}
		ti.State, ti.TryNumber = TIRunning, s.Try
		ti.EndDate, ti.NextRetryAt = time.Time{}, time.Time{}
		ti.Hostname, ti.PID = s.Hostname, s.PID
		return nil
	}
}

// BusyCount is how many task instances of one DAG in one pool are in one
// busy state (queued or running), and the pool slots they hold.
type BusyCount struct {
	DagID, Pool string
	State       TIState
	Count       int
	PoolSlots   int
}

// Variable is a key/value available to DAGs as var.<key>.
//
// A Secret variable's Value is stored as given (DAGs read it like any
// other) but every surface that shows it to people masks it: the API and
// UI show "***" and task logs replace it (secrets.Masker).
type Variable struct {
	Key         string
	Value       string
	Description string
	Secret      bool
}

// Connection is a stored connection (Airflow's connection table). Everything
// but the identification is in Ciphertext, encrypted by package
// connections; the store never sees the key nor the plaintext.
type Connection struct {
	ConnID      string
	ConnType    string
	Description string
	Ciphertext  []byte
	UpdatedAt   time.Time // set by the store on every write
}

// SLAMiss is a task that had not succeeded by its SLA deadline in one run.
type SLAMiss struct {
	DagID       string
	TaskID      string
	RunID       string
	LogicalDate time.Time
	Deadline    time.Time // LogicalDate + the task's sla
	DetectedAt  time.Time
	Notified    bool // the sla_miss notifiers have been sent
}

// SLAMissFilter selects SLA misses; zero fields do not filter.
type SLAMissFilter struct {
	DagID  string
	Limit  int // zero means no limit
	Offset int
}

// Pool limits how many task instances may run at once across DAGs.
type Pool struct {
	Name        string
	Slots       int
	Description string
}

// Role names a set of permissions in the webserver.
type Role string

// Roles, from most to least privileged.
const (
	RoleAdmin  Role = "Admin"
	RoleOp     Role = "Op"
	RoleUser   Role = "User"
	RoleViewer Role = "Viewer"
)

// User is a webserver account; PasswordHash is bcrypt.
type User struct {
	ID           int64
	Username     string
	Email        string
	Role         Role
	PasswordHash string
	Active       bool
	CreatedAt    time.Time
	LastLogin    time.Time
	// SessionGen is the generation of the user's webserver sessions: a
	// session cookie is valid only while it carries the current one, so
	// bumping it signs the user out everywhere (logout). UpdateUser never
	// lowers it.
	SessionGen int64
}

// Job is a running aird process (scheduler, worker) with its heartbeat.
type Job struct {
	ID              int64
	JobType         string // "scheduler", "worker", …
	State           string // "running", "success", "failed"
	Hostname        string
	PID             int
	StartDate       time.Time
	EndDate         time.Time
	LatestHeartbeat time.Time
	// Name is how the process presents itself in flower (worker.name);
	// empty when it has none, and then flower names it by its hostname.
	Name string
}

// Event is an audit log entry (who did what to which DAG/run/task).
type Event struct {
	ID     int64
	When   time.Time
	Event  string
	DagID  string
	RunID  string
	TaskID string
	Owner  string
	Extra  string
}

// EventFilter selects events, newest first.
type EventFilter struct {
	DagID string
	Event string
	Limit int
}
