package gcpfake

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	sqladmin "google.golang.org/api/sqladmin/v1"
	storagev1 "google.golang.org/api/storage/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// state is everything the fake knows, guarded by Server.mu. Keys are the
// resource paths GCP uses in selfLinks, relative to the API root
// ("projects/p/zones/z/instances/vm", "projects/p/instances/db").
type state struct {
	seq uint64 // last id handed out; ids are decimal strings like GCP's

	compute    map[string]proto.Message // compute resources by key
	igMembers  map[string][]string      // instance group key → member instance keys
	computeOps map[string]*computeOp    // by operation key (…/operations/name)

	sqlInstances map[string]*sqladmin.DatabaseInstance // projects/p/instances/i
	sqlDatabases map[string]*sqladmin.Database         // projects/p/instances/i/databases/d
	sqlUsers     map[string]*sqladmin.User             // projects/p/instances/i/users/host/name
	sqlOps       map[string]*sqlOp                     // projects/p/operations/name

	buckets map[string]*storagev1.Bucket // by name: bucket names are global

	timers []timer // pending time-driven transitions, sorted by At
}

type computeOp struct {
	Op     *computepb.Operation
	DoneAt time.Time
	Fail   *apiError // set when the operation is to end in error
}

type sqlOp struct {
	Op     *sqladmin.Operation
	DoneAt time.Time
	Fail   *apiError
}

// timer is a transition due at a point in time: an operation finishing, a
// VM reaching RUNNING, a managed certificate becoming ACTIVE. Timers are
// applied lazily at the start of each request (no goroutines), so a paused
// clock in tests freezes them.
type timer struct {
	At  time.Time `json:"at"`
	Do  string    `json:"do"`
	Key string    `json:"key"`
}

const (
	doComputeOp       = "computeOp"
	doSQLOp           = "sqlOp"
	doInstanceRunning = "instanceRunning"
	doSQLRunnable     = "sqlRunnable"
	doCertActive      = "certActive"
)

func newState() *state {
	return &state{
		compute:      map[string]proto.Message{},
		igMembers:    map[string][]string{},
		computeOps:   map[string]*computeOp{},
		sqlInstances: map[string]*sqladmin.DatabaseInstance{},
		sqlDatabases: map[string]*sqladmin.Database{},
		sqlUsers:     map[string]*sqladmin.User{},
		sqlOps:       map[string]*sqlOp{},
		buckets:      map[string]*storagev1.Bucket{},
	}
}

// idBase makes ids 19 digits long, like GCP's.
const idBase = 1_000_000_000_000_000_000

func (st *state) nextID() uint64 {
	st.seq++
	return idBase + st.seq*7919 // spread them out so ids do not look sequential
}

func (st *state) addTimer(t timer) {
	i := sort.Search(len(st.timers), func(i int) bool { return st.timers[i].At.After(t.At) })
	st.timers = append(st.timers, timer{})
	copy(st.timers[i+1:], st.timers[i:])
	st.timers[i] = t
}

// advance applies every timer due at now, in time order, and reports
// whether anything changed.
func (s *Server) advance(now time.Time) bool {
	st := s.st
	n := 0
	for n < len(st.timers) && !st.timers[n].At.After(now) {
		n++
	}
	due := st.timers[:n]
	st.timers = append([]timer(nil), st.timers[n:]...)
	for _, t := range due {
		s.fire(t)
	}
	return n > 0
}

func (s *Server) fire(t timer) {
	switch t.Do {
	case doComputeOp:
		s.finishComputeOp(t.Key, t.At)
	case doSQLOp:
		s.finishSQLOp(t.Key, t.At)
	case doInstanceRunning:
		if inst, ok := s.st.compute[t.Key].(*computepb.Instance); ok && inst.GetStatus() == "PROVISIONING" {
			inst.Status = proto.String("RUNNING")
		}
	case doSQLRunnable:
		if inst, ok := s.st.sqlInstances[t.Key]; ok && inst.State == "PENDING_CREATE" {
			inst.State = "RUNNABLE"
		}
	case doCertActive:
		if cert, ok := s.st.compute[t.Key].(*computepb.SslCertificate); ok {
			activateCert(cert, t.At)
		}
	}
}

// snapshot is the persisted form of state (Options.StateFile). Compute
// resources are stored as their protojson, the rest as the JSON of the
// google.golang.org/api types.
type snapshot struct {
	Version      int                                   `json:"version"`
	Seq          uint64                                `json:"seq"`
	Compute      map[string]json.RawMessage            `json:"compute"`
	IGMembers    map[string][]string                   `json:"instanceGroupMembers"`
	ComputeOps   map[string]persistedComputeOp         `json:"computeOperations"`
	SQLInstances map[string]*sqladmin.DatabaseInstance `json:"sqlInstances"`
	SQLDatabases map[string]*sqladmin.Database         `json:"sqlDatabases"`
	SQLUsers     map[string]*sqladmin.User             `json:"sqlUsers"`
	SQLOps       map[string]*sqlOp                     `json:"sqlOperations"`
	Buckets      map[string]*storagev1.Bucket          `json:"buckets"`
	Objects      []persistedObject                     `json:"objects"`
	Timers       []timer                               `json:"timers"`
}

type persistedComputeOp struct {
	Op     json.RawMessage `json:"op"`
	DoneAt time.Time       `json:"doneAt"`
	Fail   *apiError       `json:"fail,omitempty"`
}

// persistedObject is a live object version; noncurrent versions are not
// kept across restarts.
type persistedObject struct {
	Bucket      string            `json:"bucket"`
	Name        string            `json:"name"`
	Generation  int64             `json:"generation"`
	ContentType string            `json:"contentType,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	Created     time.Time         `json:"created"`
	Content     []byte            `json:"content"`
}

const snapshotVersion = 1

// save writes the state file atomically (temp file + rename), so a crash
// mid-write leaves the previous state. Called with s.mu held.
func (s *Server) save() error {
	if s.opts.StateFile == "" {
		return nil
	}
	snap, err := s.snapshot()
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(snap, "", " ")
	if err != nil {
		return fmt.Errorf("encoding state: %w", err)
	}
	dir := filepath.Dir(s.opts.StateFile)
	tmp, err := os.CreateTemp(dir, ".gcpfake-state-*")
	if err != nil {
		return fmt.Errorf("writing state: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("writing state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing state: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.opts.StateFile); err != nil {
		return fmt.Errorf("writing state: %w", err)
	}
	return nil
}

func (s *Server) snapshot() (*snapshot, error) {
	st := s.st
	snap := &snapshot{
		Version: snapshotVersion, Seq: st.seq,
		Compute: map[string]json.RawMessage{}, IGMembers: st.igMembers,
		ComputeOps:   map[string]persistedComputeOp{},
		SQLInstances: st.sqlInstances, SQLDatabases: st.sqlDatabases, SQLUsers: st.sqlUsers, SQLOps: st.sqlOps,
		Buckets: st.buckets, Timers: st.timers,
	}
	for k, m := range st.compute {
		b, err := protojson.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("encoding %s: %w", k, err)
		}
		snap.Compute[k] = b
	}
	for k, op := range st.computeOps {
		b, err := protojson.Marshal(op.Op)
		if err != nil {
			return nil, fmt.Errorf("encoding %s: %w", k, err)
		}
		snap.ComputeOps[k] = persistedComputeOp{Op: b, DoneAt: op.DoneAt, Fail: op.Fail}
	}
	objs, err := s.objectSnapshot()
	if err != nil {
		return nil, err
	}
	snap.Objects = objs
	return snap, nil
}

func (s *Server) objectSnapshot() ([]persistedObject, error) {
	var out []persistedObject
	names := make([]string, 0, len(s.st.buckets))
	for name := range s.st.buckets {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, b := range names {
		resp, err := s.gcs.ListObjectsWithOptionsPaginated(b, fakestorage.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("listing objects of %s: %w", b, err)
		}
		for _, a := range resp.Objects {
			obj, err := s.gcs.GetObject(b, a.Name)
			if err != nil {
				continue // deleted since the listing
			}
			out = append(out, persistedObject{
				Bucket: b, Name: a.Name, Generation: obj.Generation, ContentType: obj.ContentType,
				Metadata: obj.Metadata, Created: obj.Created, Content: obj.Content,
			})
		}
	}
	return out, nil
}

// load reads the state file if it exists; a missing file is an empty fake.
func (s *Server) load() error {
	if s.opts.StateFile == "" {
		return nil
	}
	b, err := os.ReadFile(s.opts.StateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading state: %w", err)
	}
	var snap snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return fmt.Errorf("parsing state file %s: %w", s.opts.StateFile, err)
	}
	if snap.Version != snapshotVersion {
		return fmt.Errorf("state file %s: version %d, want %d", s.opts.StateFile, snap.Version, snapshotVersion)
	}
	return s.restore(&snap)
}

func (s *Server) restore(snap *snapshot) error {
	st := s.st
	st.seq = snap.Seq
	for k, raw := range snap.Compute {
		kd := kindForKey(k)
		if kd == nil {
			return fmt.Errorf("state file: unknown compute resource %s", k)
		}
		m := kd.newMsg()
		if err := protojson.Unmarshal(raw, m); err != nil {
			return fmt.Errorf("state file: %s: %w", k, err)
		}
		st.compute[k] = m
	}
	for k, op := range snap.ComputeOps {
		m := &computepb.Operation{}
		if err := protojson.Unmarshal(op.Op, m); err != nil {
			return fmt.Errorf("state file: %s: %w", k, err)
		}
		st.computeOps[k] = &computeOp{Op: m, DoneAt: op.DoneAt, Fail: op.Fail}
	}
	copyInto(st.igMembers, snap.IGMembers)
	copyInto(st.sqlInstances, snap.SQLInstances)
	copyInto(st.sqlDatabases, snap.SQLDatabases)
	copyInto(st.sqlUsers, snap.SQLUsers)
	copyInto(st.sqlOps, snap.SQLOps)
	copyInto(st.buckets, snap.Buckets)
	st.timers = snap.Timers
	for name, b := range st.buckets {
		s.gcs.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: name, VersioningEnabled: b.Versioning != nil && b.Versioning.Enabled})
	}
	for _, o := range snap.Objects {
		s.gcs.CreateObject(fakestorage.Object{
			ObjectAttrs: fakestorage.ObjectAttrs{
				BucketName: o.Bucket, Name: o.Name, Generation: o.Generation, ContentType: o.ContentType,
				Metadata: o.Metadata, Created: o.Created,
			},
			Content: o.Content,
		})
	}
	return nil
}

func copyInto[V any](dst, src map[string]V) {
	for k, v := range src {
		dst[k] = v
	}
}

// keyCollection returns the collection segment of a compute key
// ("projects/p/global/backendServices/x" → "backendServices").
func keyCollection(key string) string {
	parts := strings.Split(key, "/")
	if len(parts) < 2 {
		return ""
	}
	return parts[len(parts)-2]
}
