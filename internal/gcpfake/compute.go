package gcpfake

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// computeBase prefixes compute selfLinks, as real GCP writes them whatever
// endpoint the request came through.
const computeBase = "https://www.googleapis.com/compute/v1/"

func selfLink(key string) string { return computeBase + key }

// kind describes one compute collection; the generic handlers below do the
// CRUD, fingerprints, operations and reference checks, and the kind's hooks
// add what is specific to it.
type kind struct {
	collection string // path segment: "instances", "addresses", "forwardingRules"
	resource   string // discovery resource: "instances", "globalAddresses"
	scope      string // "zones", "regions" or "global"
	kindName   string // "compute#instance"
	singular   string // name in resourceInUse messages: "health_check"
	newMsg     func() proto.Message
	readOnly   bool // no insert (disks come with instances)

	// prepare validates m and fills defaults and derived fields; old is the
	// current resource on patch/update, nil on insert. It may queue side
	// effects with c.onCommit.
	prepare func(c *call, key string, m, old proto.Message) error
	// refs returns the keys of the resources m uses: deleting any of them
	// fails with resourceInUseByAnotherResource while m exists.
	refs func(st *state, key string, m proto.Message) []string
	// decorate fills output fields derived from other resources (users,
	// usedBy, size) on a copy being returned.
	decorate func(s *Server, key string, m proto.Message)
	// beforeDelete may refuse a delete; deleted cleans up after one.
	beforeDelete func(c *call, key string, m proto.Message) error
	deleted      func(c *call, key string, m proto.Message)
	// verbs are the custom POST methods that start an operation: they
	// mutate next (a copy of the current resource).
	verbs map[string]verbFunc
	// reads are custom methods that answer directly (listInstances).
	reads map[string]func(s *Server, c *call, key string, m proto.Message) (any, error)
}

type verbFunc func(c *call, key string, next proto.Message) error

var (
	kindsOnce         sync.Once
	kindsByCollection map[string]*kind
)

func computeKinds() []*kind {
	return []*kind{
		instanceKind(), diskKind(), networkKind(), subnetworkKind(), firewallKind(), addressKind(),
		healthCheckKind(), instanceGroupKind(), backendServiceKind(), urlMapKind(),
		targetHTTPProxyKind(), targetHTTPSProxyKind(), sslCertificateKind(), forwardingRuleKind(),
	}
}

func kindByCollection(c string) *kind {
	kindsOnce.Do(func() {
		kindsByCollection = map[string]*kind{}
		for _, k := range computeKinds() {
			kindsByCollection[k.collection] = k
		}
	})
	return kindsByCollection[c]
}

func kindForKey(key string) *kind { return kindByCollection(keyCollection(key)) }

// buildHandlers maps every served discovery method id to its handler.
func (s *Server) buildHandlers() map[string]handlerFunc {
	h := map[string]handlerFunc{}
	doc := apiDocs()["compute"]
	for _, k := range computeKinds() {
		for id := range doc.Methods {
			verb, ok := strings.CutPrefix(id, "compute."+k.resource+".")
			if !ok {
				continue
			}
			if f := s.computeHandler(k, verb); f != nil {
				h[id] = f
			}
		}
	}
	for _, scope := range []string{"global", "zone", "region"} {
		h["compute."+scope+"Operations.get"] = s.getComputeOperation
		h["compute."+scope+"Operations.delete"] = s.deleteComputeOperation
		h["compute."+scope+"Operations.list"] = s.listComputeOperations
		h["compute."+scope+"Operations.wait"] = s.getComputeOperation // served by waitComputeOperation
	}
	h["compute.images.get"] = s.getImage
	h["compute.images.getFromFamily"] = s.getImageFromFamily
	h["compute.images.list"] = s.listImages
	s.addSQLHandlers(h)
	s.addBucketHandlers(h)
	return h
}

func (s *Server) computeHandler(k *kind, verb string) handlerFunc {
	switch verb {
	case "insert":
		if k.readOnly {
			return nil
		}
		return s.computeInsert(k)
	case "get":
		return s.computeGet(k)
	case "list":
		return s.computeList(k)
	case "delete":
		return s.computeDelete(k)
	case "patch":
		return s.computeModify(k, "patch")
	case "update":
		return s.computeModify(k, "update")
	}
	if f := k.verbs[verb]; f != nil {
		return s.computeVerb(k, verb, f)
	}
	if f := k.reads[verb]; f != nil {
		return func(c *call) (any, error) {
			key, cur, err := s.lookup(c, k)
			if err != nil {
				return nil, err
			}
			return f(s, c, key, cur)
		}
	}
	return nil
}

// scopePrefix is "projects/p/zones/z/", "projects/p/regions/r/" or
// "projects/p/global/" for the request's path parameters.
func (c *call) scopePrefix() string {
	p := "projects/" + c.project() + "/"
	if z := c.params["zone"]; z != "" {
		return p + "zones/" + z + "/"
	}
	if r := c.params["region"]; r != "" {
		return p + "regions/" + r + "/"
	}
	return p + "global/"
}

// resourceName is the path parameter naming the resource ("instance",
// "backendService", "resource" for setLabels…): the one that is not a scope.
func (c *call) resourceName() string {
	for k, v := range c.params {
		switch k {
		case "project", "zone", "region", "operation":
		default:
			return v
		}
	}
	return ""
}

func (c *call) key(k *kind) string { return c.scopePrefix() + k.collection + "/" + c.resourceName() }

func (s *Server) lookup(c *call, k *kind) (string, proto.Message, error) {
	key := c.key(k)
	m, ok := s.st.compute[key]
	if !ok {
		return key, nil, errResourceNotFound(key)
	}
	return key, m, nil
}

// nameRE is the RFC 1035 label every compute resource name must match.
var nameRE = regexp.MustCompile(`^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$`)

func checkName(name string) error {
	if name == "" {
		return errRequired("resource.name")
	}
	if !nameRE.MatchString(name) {
		return errInvalidField("resource.name", name, "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'")
	}
	return nil
}

func (s *Server) computeInsert(k *kind) handlerFunc {
	return func(c *call) (any, error) {
		m := k.newMsg()
		if err := c.decodeProto(m); err != nil {
			return nil, err
		}
		name := getStr(m, "name")
		if err := checkName(name); err != nil {
			return nil, err
		}
		key := c.scopePrefix() + k.collection + "/" + name
		if _, exists := s.st.compute[key]; exists {
			return nil, errAlreadyExists(key)
		}
		id := s.st.nextID()
		c.setCommon(k, key, m, id, computeTime(c.now))
		if err := k.prepare(c, key, m, nil); err != nil {
			return nil, err
		}
		return c.computeOp("insert", key, id, func() { s.st.compute[key] = m }), nil
	}
}

func (s *Server) computeGet(k *kind) handlerFunc {
	return func(c *call) (any, error) {
		key, m, err := s.lookup(c, k)
		if err != nil {
			return nil, err
		}
		return s.output(k, key, m), nil
	}
}

// output is the resource as returned: a copy with derived fields filled.
func (s *Server) output(k *kind, key string, m proto.Message) proto.Message {
	out := proto.Clone(m)
	if k.decorate != nil {
		k.decorate(s, key, out)
	}
	return out
}

func (s *Server) computeList(k *kind) handlerFunc {
	return func(c *call) (any, error) {
		prefix := c.scopePrefix() + k.collection + "/"
		var keys []string
		for key := range s.st.compute {
			if strings.HasPrefix(key, prefix) && !strings.Contains(key[len(prefix):], "/") {
				keys = append(keys, key)
			}
		}
		sort.Strings(keys)
		items := make([]proto.Message, 0, len(keys))
		for _, key := range keys {
			m := s.output(k, key, s.st.compute[key])
			if matchesFilter(c.query("filter"), m) {
				items = append(items, m)
			}
		}
		return listResponse(k.kindName+"List", selfLink(strings.TrimSuffix(prefix, "/")), items)
	}
}

// filterRE covers the filters the provider and gcloud use on lists:
// `name = "x"`, `name eq x`, `name != x`.
var filterRE = regexp.MustCompile(`^\s*\(?\s*(\w+)\s*(=|!=|eq|ne)\s*"?([^")]*)"?\s*\)?\s*$`)

func matchesFilter(filter string, m proto.Message) bool {
	if filter == "" {
		return true
	}
	sub := filterRE.FindStringSubmatch(filter)
	if sub == nil {
		return true // unsupported filters list everything; callers filter again
	}
	f := m.ProtoReflect().Descriptor().Fields().ByJSONName(sub[1])
	if f == nil {
		return false
	}
	got := fmt.Sprint(m.ProtoReflect().Get(f).Interface())
	if sub[2] == "eq" || sub[2] == "ne" {
		re, err := regexp.Compile("^(?:" + sub[3] + ")$")
		if err != nil {
			return true
		}
		return re.MatchString(got) == (sub[2] == "eq")
	}
	return (got == sub[3]) == (sub[2] == "=")
}

func listResponse(kindName, link string, items []proto.Message) (any, error) {
	raw := make([]json.RawMessage, 0, len(items))
	for _, m := range items {
		b, err := protojson.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("encoding list item: %w", err)
		}
		raw = append(raw, b)
	}
	return map[string]any{"kind": kindName, "id": link, "items": raw, "selfLink": link}, nil
}

func (s *Server) computeDelete(k *kind) handlerFunc {
	return func(c *call) (any, error) {
		key, cur, err := s.lookup(c, k)
		if err != nil {
			return nil, err
		}
		if k.beforeDelete != nil {
			if err := k.beforeDelete(c, key, cur); err != nil {
				return nil, err
			}
		}
		if users := s.referrers(key); len(users) > 0 {
			return nil, errInUse(k.singular, key, users[0])
		}
		return c.computeOp("delete", key, getU64(cur, "id"), func() {
			delete(s.st.compute, key)
			if k.deleted != nil {
				k.deleted(c, key, cur)
			}
		}), nil
	}
}

// computeModify serves patch (JSON merge patch onto the current resource)
// and update (replace), with the fingerprint check GCP applies to
// resources that carry one.
func (s *Server) computeModify(k *kind, verb string) handlerFunc {
	return func(c *call) (any, error) {
		key, cur, err := s.lookup(c, k)
		if err != nil {
			return nil, err
		}
		if err := c.decodeProto(k.newMsg()); err != nil {
			return nil, err
		}
		body, err := c.strippedBody()
		if err != nil {
			return nil, err
		}
		if hasField(cur, "fingerprint") {
			if err := checkFingerprint(getStr(cur, "fingerprint"), body["fingerprint"]); err != nil {
				return nil, err
			}
		}
		name := getStr(cur, "name")
		if n, ok := body["name"].(string); ok && n != name {
			return nil, errInvalidField("resource.name", n, "The name of a resource cannot be changed.")
		}
		merged := body
		if verb == "patch" {
			merged = mergePatch(protoToMap(cur), body)
		}
		merged["name"] = name
		next := k.newMsg()
		if err := mapToProto(merged, next); err != nil {
			return nil, errInvalid("Invalid JSON payload received. %v", err)
		}
		id := getU64(cur, "id")
		c.setCommon(k, key, next, id, getStr(cur, "creation_timestamp"))
		if err := k.prepare(c, key, next, cur); err != nil {
			return nil, err
		}
		return c.computeOp(verb, key, id, func() { s.st.compute[key] = next }), nil
	}
}

func (s *Server) computeVerb(k *kind, verb string, f verbFunc) handlerFunc {
	return func(c *call) (any, error) {
		key, cur, err := s.lookup(c, k)
		if err != nil {
			return nil, err
		}
		next := proto.Clone(cur)
		if err := f(c, key, next); err != nil {
			return nil, err
		}
		if hasField(next, "fingerprint") {
			setStr(next, "fingerprint", c.fingerprint())
		}
		return c.computeOp(verb, key, getU64(cur, "id"), func() { s.st.compute[key] = next }), nil
	}
}

func checkFingerprint(current string, got any) error {
	g, _ := got.(string)
	if g == "" {
		return errConditionNotMet("Required field 'fingerprint' not specified: an up-to-date fingerprint must be provided to modify this resource.")
	}
	if g != current {
		return errConditionNotMet("Supplied fingerprint does not match current fingerprint.")
	}
	return nil
}

// setCommon fills the output-only fields every compute resource has.
func (c *call) setCommon(k *kind, key string, m proto.Message, id uint64, created string) {
	setStr(m, "kind", k.kindName)
	setU64(m, "id", id)
	setStr(m, "self_link", selfLink(key))
	setStr(m, "creation_timestamp", created)
	parts := strings.Split(key, "/")
	switch k.scope {
	case "zones":
		setStr(m, "zone", selfLink(strings.Join(parts[:4], "/")))
	case "regions":
		setStr(m, "region", selfLink(strings.Join(parts[:4], "/")))
	}
	if hasField(m, "fingerprint") {
		setStr(m, "fingerprint", c.fingerprint())
	}
	if hasField(m, "label_fingerprint") {
		setStr(m, "label_fingerprint", c.fingerprint())
	}
}

// fingerprint returns a fresh opaque fingerprint (8 bytes, base64, as GCP's).
func (c *call) fingerprint() string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], c.s.st.nextID())
	sum := sha256.Sum256(b[:])
	return base64.StdEncoding.EncodeToString(sum[:8])
}

// decodeProto decodes the body strictly into m (unknown fields and wrong
// types are 400s, as GCP answers), checks it against the discovery schema,
// and leaves m holding the body without output-only fields.
func (c *call) decodeProto(m proto.Message) error {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return errRequired("resource")
	}
	if err := protojson.Unmarshal(c.body, m); err != nil {
		return c.bodyError(err)
	}
	if err := c.validate(); err != nil {
		return err
	}
	body, err := c.strippedBody()
	if err != nil {
		return err
	}
	proto.Reset(m)
	return mapToProto(body, m)
}

// referrers returns the keys of the resources using key, sorted.
func (s *Server) referrers(key string) []string {
	var out []string
	for k, m := range s.st.compute {
		kd := kindForKey(k)
		if kd == nil || kd.refs == nil {
			continue
		}
		for _, r := range kd.refs(s.st, k, m) {
			if r == key {
				out = append(out, k)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// ref canonicalises a reference — a full URL (any host), "projects/…", or a
// partial "global/…", "zones/…", "regions/…" — to the key of a resource in
// one of the collections. GCP rejects bare names in URL fields.
func (c *call) ref(field, value string, collections ...string) (string, error) {
	v := value
	if i := strings.Index(v, "/compute/v1/"); i >= 0 {
		v = v[i+len("/compute/v1/"):]
	}
	switch {
	case strings.HasPrefix(v, "projects/"):
	case strings.HasPrefix(v, "global/"), strings.HasPrefix(v, "zones/"), strings.HasPrefix(v, "regions/"):
		v = "projects/" + c.project() + "/" + v
	default:
		return "", errInvalidField(field, value, "The URL is malformed.")
	}
	parts := strings.Split(v, "/")
	ok := (len(parts) == 5 && parts[2] == "global") ||
		(len(parts) == 6 && (parts[2] == "zones" || parts[2] == "regions"))
	if !ok || parts[len(parts)-1] == "" {
		return "", errInvalidField(field, value, "The URL is malformed.")
	}
	for _, col := range collections {
		if parts[len(parts)-2] == col {
			return v, nil
		}
	}
	return "", errInvalidField(field, value, fmt.Sprintf("The URL must refer to one of: %s.", strings.Join(collections, ", ")))
}

// refExisting resolves a reference and requires the resource to exist.
// The "default" network exists implicitly, as in every new GCP project.
func (c *call) refExisting(field, value string, collections ...string) (string, error) {
	key, err := c.ref(field, value, collections...)
	if err != nil {
		return "", err
	}
	if _, ok := c.s.st.compute[key]; ok {
		return key, nil
	}
	if isDefaultNetwork(key) {
		return key, nil
	}
	return "", errResourceNotFound(key)
}

func isDefaultNetwork(key string) bool {
	return keyCollection(key) == "networks" && strings.HasSuffix(key, "/global/networks/default")
}

// keyOf turns a stored (canonical) reference back into its key.
func keyOf(link string) string {
	if i := strings.Index(link, "/compute/v1/"); i >= 0 {
		return link[i+len("/compute/v1/"):]
	}
	return link
}

// Proto reflection helpers: every compute resource has the same common
// fields (name, id, self_link, …), so the generic handlers reach them by
// field name instead of per-type code.

func fieldOf(m proto.Message, name string) protoreflect.FieldDescriptor {
	return m.ProtoReflect().Descriptor().Fields().ByName(protoreflect.Name(name))
}

func hasField(m proto.Message, name string) bool { return fieldOf(m, name) != nil }

func getStr(m proto.Message, name string) string {
	f := fieldOf(m, name)
	if f == nil || !m.ProtoReflect().Has(f) {
		return ""
	}
	return m.ProtoReflect().Get(f).String()
}

func setStr(m proto.Message, name, v string) {
	if f := fieldOf(m, name); f != nil {
		m.ProtoReflect().Set(f, protoreflect.ValueOfString(v))
	}
}

func getU64(m proto.Message, name string) uint64 {
	f := fieldOf(m, name)
	if f == nil || !m.ProtoReflect().Has(f) {
		return 0
	}
	return m.ProtoReflect().Get(f).Uint()
}

func setU64(m proto.Message, name string, v uint64) {
	if f := fieldOf(m, name); f != nil {
		m.ProtoReflect().Set(f, protoreflect.ValueOfUint64(v))
	}
}
