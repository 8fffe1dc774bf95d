package gcpfake

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"
	storagev1 "google.golang.org/api/storage/v1"
)

// Cloud Storage. Bucket metadata is served here because fake-gcs-server
// keeps only versioning and default event-based hold, silently dropping
// lifecycle rules, uniform bucket-level access, labels and location.
// Objects (state files, locks, task logs) go to the embedded
// fake-gcs-server, which is faithful for them, with two fixes: object
// DELETE honours ifGenerationMatch (fake-gcs-server v1.56.1 ignores it) and
// XML-API downloads work whatever host name the client used.

const storageBase = "https://www.googleapis.com/storage/v1/"

func (s *Server) addBucketHandlers(h map[string]handlerFunc) {
	h["storage.buckets.insert"] = s.insertBucket
	h["storage.buckets.get"] = s.getBucket
	h["storage.buckets.list"] = s.listBuckets
	h["storage.buckets.patch"] = s.modifyBucket(true)
	h["storage.buckets.update"] = s.modifyBucket(false)
	h["storage.buckets.delete"] = s.deleteBucket
}

var bucketNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$`)

func errNoBucket() *apiError {
	return errNotFound("The specified bucket does not exist.")
}

func errBucketConflict(format string, args ...any) *apiError {
	return newAPIError(http.StatusConflict, "conflict", format, args...)
}

func (s *Server) insertBucket(c *call) (any, error) {
	project := c.query("project")
	if project == "" {
		return nil, errRequired("project")
	}
	if err := s.checkProject(project); err != nil {
		return nil, err
	}
	b := &storagev1.Bucket{}
	if _, err := c.decodeAPI(b); err != nil {
		return nil, err
	}
	if !bucketNameRE.MatchString(b.Name) || strings.Contains(b.Name, "..") || strings.HasPrefix(b.Name, "goog") {
		return nil, errInvalid("Invalid bucket name: '%s'", b.Name)
	}
	if old, ok := s.st.buckets[b.Name]; ok {
		if old.ProjectNumber == uint64(projectNumber(project)) {
			return nil, errBucketConflict("Your previous request to create the named bucket succeeded and you already own it.")
		}
		return nil, errBucketConflict("The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.")
	}
	if ubla(b) && (c.query("predefinedAcl") != "" || c.query("predefinedDefaultObjectAcl") != "") {
		return nil, errInvalid("Cannot use ACL API to set bucket or object ACLs when uniform bucket-level access is enabled.")
	}
	b.Kind, b.Id, b.SelfLink = "storage#bucket", b.Name, storageBase+"b/"+b.Name
	b.ProjectNumber = uint64(projectNumber(project))
	b.Generation = int64(s.st.nextID() % 1e16)
	b.Metageneration = 1
	b.TimeCreated = utcTime(c.now)
	fillBucket(c, b, nil)
	s.gcs.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: b.Name, VersioningEnabled: versioned(b)})
	s.st.buckets[b.Name] = b
	c.dirty = true
	return b, nil
}

func ubla(b *storagev1.Bucket) bool {
	return b.IamConfiguration != nil && b.IamConfiguration.UniformBucketLevelAccess != nil && b.IamConfiguration.UniformBucketLevelAccess.Enabled
}

func versioned(b *storagev1.Bucket) bool { return b.Versioning != nil && b.Versioning.Enabled }

// fillBucket sets the server-side fields of a new or changed bucket.
func fillBucket(c *call, b, prev *storagev1.Bucket) {
	b.Updated = utcTime(c.now)
	b.Etag = base64.StdEncoding.EncodeToString([]byte{0x08, byte(b.Metageneration)})
	b.Location = strings.ToUpper(b.Location)
	if b.Location == "" {
		b.Location = "US"
	}
	switch {
	case b.Location == "US" || b.Location == "EU" || b.Location == "ASIA":
		b.LocationType = "multi-region"
	case b.CustomPlacementConfig != nil || b.Location == "NAM4" || b.Location == "EUR4" || b.Location == "ASIA1":
		b.LocationType = "dual-region"
	default:
		b.LocationType = "region"
	}
	defaultStr(&b.StorageClass, "STANDARD")
	defaultStr(&b.Rpo, "DEFAULT")
	if b.IamConfiguration == nil {
		b.IamConfiguration = &storagev1.BucketIamConfiguration{}
	}
	iam := b.IamConfiguration
	if iam.UniformBucketLevelAccess == nil {
		iam.UniformBucketLevelAccess = &storagev1.BucketIamConfigurationUniformBucketLevelAccess{}
	}
	u := iam.UniformBucketLevelAccess
	u.LockedTime = ""
	if u.Enabled {
		// Uniform access can be turned off for 90 days after it is enabled.
		locked := c.now.Add(90 * 24 * time.Hour)
		if prev != nil && ubla(prev) {
			locked, _ = time.Parse("2006-01-02T15:04:05.000Z", prev.IamConfiguration.UniformBucketLevelAccess.LockedTime)
		}
		u.LockedTime = utcTime(locked)
	}
	iam.BucketPolicyOnly = &storagev1.BucketIamConfigurationBucketPolicyOnly{Enabled: u.Enabled, LockedTime: u.LockedTime}
	defaultStr(&iam.PublicAccessPrevention, "inherited")
	if b.SoftDeletePolicy == nil {
		b.SoftDeletePolicy = &storagev1.BucketSoftDeletePolicy{RetentionDurationSeconds: 7 * 24 * 3600, EffectiveTime: utcTime(c.now)}
	}
}

func (s *Server) bucket(c *call) (*storagev1.Bucket, error) {
	b, ok := s.st.buckets[c.params["bucket"]]
	if !ok {
		return nil, errNoBucket()
	}
	return b, checkMetageneration(c, b.Metageneration)
}

// checkMetageneration applies the ifMetagenerationMatch/NotMatch
// preconditions of bucket requests.
func checkMetageneration(c *call, current int64) error {
	cur := strconv.FormatInt(current, 10)
	if v := c.query("ifMetagenerationMatch"); v != "" && v != cur {
		return errConditionNotMet("At least one of the pre-conditions you specified did not hold.")
	}
	if v := c.query("ifMetagenerationNotMatch"); v != "" && v == cur {
		return errConditionNotMet("At least one of the pre-conditions you specified did not hold.")
	}
	return nil
}

func (s *Server) getBucket(c *call) (any, error) {
	return s.bucket(c)
}

func (s *Server) listBuckets(c *call) (any, error) {
	project := c.query("project")
	if project == "" {
		return nil, errRequired("project")
	}
	resp := &storagev1.Buckets{Kind: "storage#buckets", Items: []*storagev1.Bucket{}}
	for _, name := range sortedKeys(s.st.buckets, c.query("prefix")) {
		if b := s.st.buckets[name]; b.ProjectNumber == uint64(projectNumber(project)) {
			resp.Items = append(resp.Items, b)
		}
	}
	return resp, nil
}

func (s *Server) modifyBucket(patch bool) handlerFunc {
	return func(c *call) (any, error) {
		cur, err := s.bucket(c)
		if err != nil {
			return nil, err
		}
		body, err := c.decodeAPI(&storagev1.Bucket{})
		if err != nil {
			return nil, err
		}
		if n, ok := body["name"].(string); ok && n != cur.Name {
			return nil, errInvalid("Invalid argument: the bucket name cannot be changed.")
		}
		if l, ok := body["location"].(string); ok && !strings.EqualFold(l, cur.Location) {
			return nil, errInvalid("Invalid argument: the location of a bucket cannot be changed.")
		}
		merged := body
		if patch {
			merged = mergePatch(toMap(cur), body)
		}
		next := &storagev1.Bucket{}
		if err := fromMap(merged, next); err != nil {
			return nil, errInvalid("Invalid argument: %v", err)
		}
		if ubla(cur) && !ubla(next) && c.now.After(mustTime(cur.IamConfiguration.UniformBucketLevelAccess.LockedTime)) {
			return nil, errInvalid("Uniform bucket-level access is locked on this bucket and cannot be disabled.")
		}
		next.Kind, next.Id, next.Name, next.SelfLink = cur.Kind, cur.Id, cur.Name, cur.SelfLink
		next.ProjectNumber, next.Generation, next.TimeCreated, next.Location = cur.ProjectNumber, cur.Generation, cur.TimeCreated, cur.Location
		next.Metageneration = cur.Metageneration + 1
		fillBucket(c, next, cur)
		if versioned(next) != versioned(cur) {
			s.syncVersioning(next.Name, versioned(next))
		}
		s.st.buckets[cur.Name] = next
		c.dirty = true
		return next, nil
	}
}

func mustTime(s string) time.Time {
	t, _ := time.Parse("2006-01-02T15:04:05.000Z", s)
	return t
}

// syncVersioning tells fake-gcs-server about versioning, which decides
// whether overwritten objects are kept as noncurrent generations. It has
// no Go API for that, so the change goes through its own HTTP handler.
func (s *Server) syncVersioning(bucket string, on bool) {
	body := fmt.Sprintf(`{"versioning":{"enabled":%t}}`, on)
	req, err := http.NewRequest(http.MethodPatch, "/storage/v1/b/"+url.PathEscape(bucket), bytes.NewBufferString(body))
	if err != nil {
		s.logf("gcpfake: versioning of %s: %v", bucket, err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	s.gcs.HTTPHandler().ServeHTTP(discardWriter{header: http.Header{}}, req)
}

func (s *Server) deleteBucket(c *call) (any, error) {
	b, err := s.bucket(c)
	if err != nil {
		return nil, err
	}
	s.gcsMu.Lock() // no object may land between the emptiness check and the delete
	defer s.gcsMu.Unlock()
	resp, err := s.gcs.ListObjectsWithOptionsPaginated(b.Name, fakestorage.ListOptions{Versions: true})
	if err != nil {
		return nil, fmt.Errorf("listing objects of %s: %w", b.Name, err)
	}
	if len(resp.Objects) > 0 {
		return nil, errBucketConflict("The bucket you tried to delete is not empty.")
	}
	if err := s.gcs.Backend().DeleteBucket(b.Name); err != nil {
		return nil, fmt.Errorf("deleting bucket %s from fake-gcs-server: %w", b.Name, err)
	}
	delete(s.st.buckets, b.Name)
	c.dirty = true
	return noContent{}, nil
}

// serveObjects hands object traffic to fake-gcs-server.
func (s *Server) serveObjects(w http.ResponseWriter, r *http.Request) {
	mutating := r.Method != http.MethodGet && r.Method != http.MethodHead
	s.serveObjectLocked(w, r, mutating)
	if mutating && s.opts.StateFile != "" {
		// Outside gcsMu: save takes s.mu, and bucket deletes take s.mu then gcsMu.
		s.mu.Lock()
		if err := s.save(); err != nil {
			s.logf("gcpfake: %v", err)
		}
		s.mu.Unlock()
	}
}

func (s *Server) serveObjectLocked(w http.ResponseWriter, r *http.Request, mutating bool) {
	if mutating {
		s.gcsMu.Lock()
		defer s.gcsMu.Unlock()
	}
	if r.Method == http.MethodDelete && !s.deletePreconditionHolds(w, r) {
		return
	}
	s.gcs.HTTPHandler().ServeHTTP(w, xmlHostRewrite(r))
}

// xmlHostRewrite makes XML-API paths (/{bucket}/{object}) reach
// fake-gcs-server's path-style routes: it matches them only when the host
// is its public host, and would otherwise take the host for a bucket name.
func xmlHostRewrite(r *http.Request) *http.Request {
	p := r.URL.Path
	for _, api := range []string{"/storage/v1/", "/upload/", "/download/", "/batch/", "/_internal/"} {
		if strings.HasPrefix(p, api) {
			return r
		}
	}
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		host, port = r.Host, ""
	}
	if host == gcsPublicHost {
		return r
	}
	r2 := r.Clone(r.Context())
	r2.Host = gcsPublicHost
	if port != "" {
		r2.Host = net.JoinHostPort(gcsPublicHost, port)
	}
	return r2
}

// deletePreconditionHolds answers 412 for an object DELETE whose
// ifGenerationMatch / ifGenerationNotMatch does not hold, as GCS does; it
// returns false when it has answered. A missing object is left to
// fake-gcs-server's 404.
func (s *Server) deletePreconditionHolds(w http.ResponseWriter, r *http.Request) bool {
	q := r.URL.Query()
	match, notMatch := q.Get("ifGenerationMatch"), q.Get("ifGenerationNotMatch")
	if match == "" && notMatch == "" {
		return true
	}
	bucket, name, ok := objectPath(r.URL.EscapedPath())
	if !ok {
		return true
	}
	var obj fakestorage.Object
	var err error
	if g := q.Get("generation"); g != "" {
		gen, perr := strconv.ParseInt(g, 10, 64)
		if perr != nil {
			return true
		}
		obj, err = s.gcs.GetObjectWithGeneration(bucket, name, gen)
	} else {
		obj, err = s.gcs.GetObject(bucket, name)
	}
	if err != nil {
		return true
	}
	gen := strconv.FormatInt(obj.Generation, 10)
	if (match != "" && match != gen) || (notMatch != "" && notMatch == gen) {
		writeError(w, errConditionNotMet("At least one of the pre-conditions you specified did not hold."))
		return false
	}
	return true
}

// objectPath parses /storage/v1/b/{bucket}/o/{object} (object escaped).
func objectPath(escaped string) (bucket, object string, ok bool) {
	rest, found := strings.CutPrefix(escaped, "/storage/v1/b/")
	if !found {
		return "", "", false
	}
	bucket, rest, found = strings.Cut(rest, "/")
	if !found {
		return "", "", false
	}
	rest, found = strings.CutPrefix(rest, "o/")
	if !found || rest == "" {
		return "", "", false
	}
	obj, err := url.PathUnescape(rest)
	if err != nil {
		return "", "", false
	}
	b, err := url.PathUnescape(bucket)
	if err != nil {
		return "", "", false
	}
	return b, obj, true
}
