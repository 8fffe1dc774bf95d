package gcs

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"cloud.google.com/go/storage"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"google.golang.org/api/option"
)

const testBucket = "airctl-state"

// fakeGCS is fake-gcs-server in-process behind a real listener on
// 127.0.0.1, reached by the real storage client, plus two test-only
// additions in front of it:
//
//   - Delete preconditions. fake-gcs-server v1.56.1 ignores ifGenerationMatch
//     on object DELETE (fakestorage/object.go deleteObject reads only
//     `generation`); it honours DoesNotExist and GenerationMatch on uploads.
//     Unlock and force-unlock rely on the delete precondition, so
//     enforceDeletePrecondition adds it here. TestFakeHonoursPreconditions
//     records which ones the fake honours by itself.
//   - Fault injection (fail the next matching request, before or after the
//     fake has handled it) to exercise the storage client's retries.
type fakeGCS struct {
	srv *fakestorage.Server
	url string
	// mu serialises mutating requests so that the delete precondition check
	// and the delete are atomic with respect to uploads.
	mu sync.Mutex

	faultMu sync.Mutex
	faults  []fault
}

type fault struct {
	method, pathPart string
	status           int
	afterServe       bool // the request takes effect, only its response is lost
	sticky           bool // an outage: never used up
}

func newFakeGCS(t *testing.T, rawFake bool) *fakeGCS {
	t.Helper()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		NoListener: true,
		// XML-API reads (the storage client's default for downloads) are
		// routed by host; the fake must recognise ours as its public host.
		PublicHost: "127.0.0.1",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: testBucket})
	f := &fakeGCS{srv: srv}
	var h http.Handler = http.HandlerFunc(f.serve)
	if rawFake {
		h = srv.HTTPHandler()
	}
	ts := httptest.NewServer(h) // 127.0.0.1 on a free port
	t.Cleanup(ts.Close)
	f.url = ts.URL
	return f
}

func (f *fakeGCS) client(t *testing.T) *storage.Client {
	t.Helper()
	c, err := storage.NewClient(t.Context(), option.WithEndpoint(f.url+"/storage/v1/"), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (f *fakeGCS) inject(ft fault) {
	f.faultMu.Lock()
	defer f.faultMu.Unlock()
	f.faults = append(f.faults, ft)
}

// assertFaultsUsed checks the injected faults were hit, so a test cannot
// pass by never reaching the path it means to exercise.
func (f *fakeGCS) assertFaultsUsed(t *testing.T) {
	t.Helper()
	f.faultMu.Lock()
	defer f.faultMu.Unlock()
	if len(f.faults) != 0 {
		t.Fatalf("injected faults never hit: %+v", f.faults)
	}
}

func (f *fakeGCS) takeFault(r *http.Request) (fault, bool) {
	f.faultMu.Lock()
	defer f.faultMu.Unlock()
	for i, ft := range f.faults {
		if ft.method == r.Method && strings.Contains(r.URL.Path, ft.pathPart) {
			if !ft.sticky {
				f.faults = append(f.faults[:i], f.faults[i+1:]...)
			}
			return ft, true
		}
	}
	return fault{}, false
}

func (f *fakeGCS) serve(w http.ResponseWriter, r *http.Request) {
	ft, faulty := f.takeFault(r)
	if faulty && !ft.afterServe {
		http.Error(w, `{"error":{"code":`+strconv.Itoa(ft.status)+`,"message":"injected"}}`, ft.status)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		f.mu.Lock()
		defer f.mu.Unlock()
	}
	if !f.enforceDeletePrecondition(w, r) {
		return
	}
	if faulty {
		f.srv.HTTPHandler().ServeHTTP(httptest.NewRecorder(), r) // effect happens, response lost
		http.Error(w, `{"error":{"code":`+strconv.Itoa(ft.status)+`,"message":"injected after serving"}}`, ft.status)
		return
	}
	f.srv.HTTPHandler().ServeHTTP(w, r)
}

// enforceDeletePrecondition answers 412 for DELETE .../b/B/o/O?ifGenerationMatch=G
// when O's live generation is not G, as real GCS does. It returns false when
// it has answered.
func (f *fakeGCS) enforceDeletePrecondition(w http.ResponseWriter, r *http.Request) bool {
	want := r.URL.Query().Get("ifGenerationMatch")
	const marker = "/b/" + testBucket + "/o/"
	i := strings.Index(r.URL.EscapedPath(), marker)
	if r.Method != http.MethodDelete || want == "" || i < 0 {
		return true
	}
	name, err := url.PathUnescape(r.URL.EscapedPath()[i+len(marker):])
	if err != nil {
		return true
	}
	obj, err := f.srv.GetObject(testBucket, name)
	if err != nil {
		return true // let the fake answer 404
	}
	if strconv.FormatInt(obj.Generation, 10) != want {
		http.Error(w, `{"error":{"code":412,"message":"conditionNotMet","errors":[{"reason":"conditionNotMet"}]}}`, http.StatusPreconditionFailed)
		return false
	}
	return true
}
