package publish

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

var platforms = []v1.Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "arm64"},
	{OS: "linux", Architecture: "arm", Variant: "v7"},
}

// testIndex is a small three-platform index with random content, so two
// calls give two different digests.
func testIndex(t *testing.T) v1.ImageIndex {
	t.Helper()
	var adds []mutate.IndexAddendum
	for _, p := range platforms {
		img, err := random.Image(512, 1)
		if err != nil {
			t.Fatal(err)
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	return mutate.AppendManifests(empty.Index, adds...)
}

// server is an in-process registry on loopback. Every request is recorded;
// intercept, if set, may answer a request itself (return true) instead of
// the registry.
type server struct {
	t         *testing.T
	srv       *httptest.Server
	mu        sync.Mutex
	requests  []string
	intercept func(w http.ResponseWriter, r *http.Request) bool
}

func newServer(t *testing.T) *server {
	s := &server{t: t}
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.Method+" "+r.URL.Path)
		intercept := s.intercept
		s.mu.Unlock()
		if intercept != nil && intercept(w, r) {
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *server) setIntercept(f func(w http.ResponseWriter, r *http.Request) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.intercept = f
}

func (s *server) allRequests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

func (s *server) repo() string {
	return strings.TrimPrefix(s.srv.URL, "http://") + "/example/mikrotik-tailscale"
}

// writes returns the recorded requests that change the registry.
func (s *server) writes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.requests {
		if !strings.HasPrefix(r, "GET ") && !strings.HasPrefix(r, "HEAD ") {
			out = append(out, r)
		}
	}
	return out
}

func (s *server) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// digestAt returns what ref points to in the registry ("" if absent).
func (s *server) digestAt(tag string, opts ...remote.Option) string {
	s.t.Helper()
	d, exists, err := Digest(context.Background(), s.repo()+":"+tag, opts...)
	if err != nil {
		s.t.Fatal(err)
	}
	if !exists {
		return ""
	}
	return d
}

func digest(t *testing.T, idx v1.ImageIndex) string {
	t.Helper()
	h, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

func TestPublishThenRerun(t *testing.T) {
	s := newServer(t)
	idx := testIndex(t)
	want := digest(t, idx)
	ctx := context.Background()

	res, err := Publish(ctx, idx, s.repo(), "v1.104.5-mt.1")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Pushed || !res.StableMoved || res.StableHeldBy != "" {
		t.Fatalf("first publish %+v: want pushed and stable moved", res)
	}
	if res.Digest != want || res.StableDigest != want {
		t.Fatalf("result digests %s / %s, want %s", res.Digest, res.StableDigest, want)
	}
	if res.Ref != s.repo()+":v1.104.5-mt.1" || res.StableRef != s.repo()+":stable" {
		t.Fatalf("refs %s, %s", res.Ref, res.StableRef)
	}
	if got := s.digestAt("v1.104.5-mt.1"); got != want {
		t.Fatalf("registry tag digest %s, want %s", got, want)
	}
	if got := s.digestAt("stable"); got != want {
		t.Fatalf("registry stable digest %s, want %s", got, want)
	}
	im, _ := idx.IndexManifest()
	if len(res.Platforms) != 3 {
		t.Fatalf("platforms %+v", res.Platforms)
	}
	for i, p := range res.Platforms {
		if p.Platform != platforms[i].String() || p.Digest != im.Manifests[i].Digest.String() {
			t.Errorf("platform %d = %+v, want %s %s", i, p, platforms[i], im.Manifests[i].Digest)
		}
		// Each platform manifest is pullable by digest.
		if _, exists, err := Digest(ctx, s.repo()+"@"+p.Digest); err != nil || !exists {
			t.Errorf("platform manifest %s not in the registry: %v", p.Digest, err)
		}
	}

	// A re-run with the same content writes nothing.
	s.reset()
	res, err = Publish(ctx, idx, s.repo(), "v1.104.5-mt.1")
	if err != nil {
		t.Fatal(err)
	}
	if res.Pushed || res.StableMoved || res.Digest != want || res.StableDigest != want {
		t.Fatalf("re-run %+v: want a no-op", res)
	}
	if w := s.writes(); len(w) != 0 {
		t.Fatalf("re-run wrote to the registry: %v", w)
	}
}

func TestPublishRefusesDifferentContentForAnExistingTag(t *testing.T) {
	s := newServer(t)
	first, second := testIndex(t), testIndex(t)
	ctx := context.Background()
	if _, err := Publish(ctx, first, s.repo(), "v1.104.5-mt.1"); err != nil {
		t.Fatal(err)
	}
	s.reset()
	_, err := Publish(ctx, second, s.repo(), "v1.104.5-mt.1")
	if err == nil {
		t.Fatal("different content was published under an existing tag")
	}
	for _, want := range []string{digest(t, first), digest(t, second), "immutable"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if w := s.writes(); len(w) != 0 {
		t.Fatalf("refused publish wrote to the registry: %v", w)
	}
	if got := s.digestAt("v1.104.5-mt.1"); got != digest(t, first) {
		t.Fatalf("tag now %s, want the original %s", got, digest(t, first))
	}
	if got := s.digestAt("stable"); got != digest(t, first) {
		t.Fatalf("stable now %s, want the original %s", got, digest(t, first))
	}
}

func TestFailedPushLeavesStableUntouched(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	old := testIndex(t)
	if _, err := Publish(ctx, old, s.repo(), "v1.104.5-mt.1"); err != nil {
		t.Fatal(err)
	}
	s.reset()
	s.setIntercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/manifests/v1.104.5-mt.2") {
			w.WriteHeader(http.StatusForbidden)
			return true
		}
		return false
	})
	_, err := Publish(ctx, testIndex(t), s.repo(), "v1.104.5-mt.2")
	if err == nil || !strings.Contains(err.Error(), "pushing") || !strings.Contains(err.Error(), "not moved") {
		t.Fatalf("error %v, want a push failure saying stable did not move", err)
	}
	s.setIntercept(nil)
	if got := s.digestAt("stable"); got != digest(t, old) {
		t.Fatalf("stable moved to %s after a failed push, want %s", got, digest(t, old))
	}
	if got := s.digestAt("v1.104.5-mt.2"); got != "" {
		t.Fatalf("failed tag exists with %s", got)
	}
	for _, w := range s.writes() {
		if strings.HasSuffix(w, "/manifests/stable") {
			t.Fatalf("stable was written: %s", w)
		}
	}
}

func TestReadBackMismatchLeavesStableUntouched(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	// The registry accepts the push but then serves another digest for the
	// tag (an eventually-consistent mirror, a racing writer).
	s.setIntercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodHead && strings.HasSuffix(r.URL.Path, "/manifests/v1.104.5-mt.1") {
			if s.hasWritten("/manifests/v1.104.5-mt.1") {
				w.Header().Set("Docker-Content-Digest", "sha256:"+strings.Repeat("0", 64))
				w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
				w.Header().Set("Content-Length", "100")
				w.WriteHeader(http.StatusOK)
				return true
			}
		}
		return false
	})
	_, err := Publish(ctx, testIndex(t), s.repo(), "v1.104.5-mt.1")
	if err == nil || !strings.Contains(err.Error(), "reads back as sha256:000") {
		t.Fatalf("error %v, want a read-back mismatch", err)
	}
	s.setIntercept(nil)
	if got := s.digestAt("stable"); got != "" {
		t.Fatalf("stable was created (%s) although the read-back failed", got)
	}
}

func (s *server) hasWritten(suffix string) bool {
	for _, w := range s.writes() {
		if strings.HasSuffix(w, suffix) {
			return true
		}
	}
	return false
}

func TestStableNeverMovesBackwards(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	newest := testIndex(t)
	if _, err := Publish(ctx, newest, s.repo(), "v1.104.5-mt.10"); err != nil {
		t.Fatal(err)
	}
	for _, older := range []string{"v1.104.5-mt.9", "v1.98.3-mt.5"} {
		idx := testIndex(t)
		res, err := Publish(ctx, idx, s.repo(), older)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Pushed || res.StableMoved || res.StableHeldBy != "v1.104.5-mt.10" {
			t.Fatalf("%s: %+v, want pushed, stable held by v1.104.5-mt.10", older, res)
		}
		if res.StableDigest != digest(t, newest) || s.digestAt("stable") != digest(t, newest) {
			t.Fatalf("%s: stable moved away from the newest release", older)
		}
		if got := s.digestAt(older); got != digest(t, idx) {
			t.Fatalf("%s not published: %s", older, got)
		}
	}
	// A newer release moves it on.
	next := testIndex(t)
	res, err := Publish(ctx, next, s.repo(), "v1.106.0-mt.1")
	if err != nil {
		t.Fatal(err)
	}
	if !res.StableMoved || s.digestAt("stable") != digest(t, next) {
		t.Fatalf("newer release did not move stable: %+v", res)
	}
}

func TestRerunRepairsAStableThatNeverMoved(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	idx := testIndex(t)
	// A previous run pushed the tag and died before moving stable.
	ref, err := name.NewTag(s.repo() + ":v1.104.5-mt.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	res, err := Publish(ctx, idx, s.repo(), "v1.104.5-mt.1")
	if err != nil {
		t.Fatal(err)
	}
	if res.Pushed || !res.StableMoved || s.digestAt("stable") != digest(t, idx) {
		t.Fatalf("re-run %+v: want no push and stable moved", res)
	}
}

func TestPublishRejectsBadInput(t *testing.T) {
	s := newServer(t)
	for _, tc := range []struct{ repo, tag, errHas string }{
		{s.repo(), "stable", "invalid release tag"},
		{s.repo(), "latest", "invalid release tag"},
		{s.repo(), "v1.104.5", "invalid release tag"},
		{s.repo(), "v1.104.5-mt.0", "revisions start at 1"},
		{"Not A Repo", "v1.104.5-mt.1", "invalid repository"},
	} {
		_, err := Publish(context.Background(), testIndex(t), tc.repo, tc.tag)
		if err == nil || !strings.Contains(err.Error(), tc.errHas) {
			t.Errorf("Publish(%q, %q) error %v, want one containing %q", tc.repo, tc.tag, err, tc.errHas)
		}
	}
	if _, err := Publish(context.Background(), empty.Index, s.repo(), "v1.104.5-mt.1"); err == nil || !strings.Contains(err.Error(), "lists no images") {
		t.Errorf("empty index: error %v", err)
	}
	if r := s.allRequests(); len(r) != 0 {
		t.Fatalf("bad input reached the registry: %v", r)
	}
}

func TestDigest(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	idx := testIndex(t)
	if _, err := Publish(ctx, idx, s.repo(), "v1.104.5-mt.1"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ref    string
		want   string
		exists bool
	}{
		{s.repo() + ":v1.104.5-mt.1", digest(t, idx), true},
		{s.repo() + "@" + digest(t, idx), digest(t, idx), true},
		{s.repo() + ":v9.9.9-mt.1", "", false},
		{strings.TrimPrefix(s.srv.URL, "http://") + "/no/such-repo:stable", "", false},
	} {
		got, exists, err := Digest(ctx, tc.ref)
		if err != nil || got != tc.want || exists != tc.exists {
			t.Errorf("Digest(%s) = %q, %v, %v; want %q, %v, nil", tc.ref, got, exists, err, tc.want, tc.exists)
		}
	}
	if _, _, err := Digest(ctx, "Not A Ref"); err == nil {
		t.Error("Digest accepted an invalid reference")
	}
	s.setIntercept(func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusForbidden)
		return true
	})
	if _, exists, err := Digest(ctx, s.repo()+":v1.104.5-mt.1"); err == nil || exists {
		t.Errorf("a 403 was reported as exists=%v, err=%v; it must be an error", exists, err)
	}
}

func TestCancelledContext(t *testing.T) {
	s := newServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Publish(ctx, testIndex(t), s.repo(), "v1.104.5-mt.1"); err == nil {
		t.Fatal("published with a cancelled context")
	}
	if got := s.digestAt("stable"); got != "" {
		t.Fatalf("stable exists: %s", got)
	}
}

func TestBasicAuth(t *testing.T) {
	s := newServer(t)
	s.setIntercept(func(w http.ResponseWriter, r *http.Request) bool {
		if u, p, ok := r.BasicAuth(); ok && u == "ci" && p == "s3cret" {
			return false
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
		w.WriteHeader(http.StatusUnauthorized)
		return true
	})
	ctx := context.Background()
	idx := testIndex(t)

	if _, err := Publish(ctx, idx, s.repo(), "v1.104.5-mt.1", BasicAuth("ci", "wrong")); err == nil {
		t.Fatal("published with a wrong password")
	}
	if _, exists, err := Digest(ctx, s.repo()+":v1.104.5-mt.1"); err == nil || exists {
		t.Fatalf("anonymous Digest against an auth-only registry: exists=%v err=%v; want an error, not 'missing'", exists, err)
	}
	res, err := Publish(ctx, idx, s.repo(), "v1.104.5-mt.1", BasicAuth("ci", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	if !res.StableMoved || s.digestAt("stable", BasicAuth("ci", "s3cret")) != digest(t, idx) {
		t.Fatalf("authenticated publish %+v", res)
	}
}

func TestCheckRepository(t *testing.T) {
	for _, ok := range []string{"gitea.example.com/owner/mikrotik-tailscale", "10.87.0.1:5000/test/mt", "localhost:5000/a"} {
		if err := CheckRepository(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Gitea.example.com/Owner/X", "host/with space", "repo:tag", "owner/mikrotik-tailscale", "mikrotik-tailscale"} {
		if err := CheckRepository(bad); err == nil || !strings.Contains(err.Error(), "invalid repository") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// Published tells a release what is left to do before any check runs:
// nothing published yet, this very index already there, or a refusal.
func TestPublishedBeforeAndAfterAPush(t *testing.T) {
	s := newServer(t)
	idx, other := testIndex(t), testIndex(t)
	ctx := context.Background()
	if got, err := Published(ctx, idx, s.repo(), "v1.104.5-mt.1"); err != nil || got {
		t.Fatalf("before any push: published %v, %v", got, err)
	}
	if _, err := Publish(ctx, idx, s.repo(), "v1.104.5-mt.1"); err != nil {
		t.Fatal(err)
	}
	s.reset()
	if got, err := Published(ctx, idx, s.repo(), "v1.104.5-mt.1"); err != nil || !got {
		t.Fatalf("the same index after the push: published %v, %v", got, err)
	}
	_, err := Published(ctx, other, s.repo(), "v1.104.5-mt.1")
	if err == nil || !strings.Contains(err.Error(), "immutable") || !strings.Contains(err.Error(), digest(t, other)) {
		t.Fatalf("other content under the tag: %v", err)
	}
	if w := s.writes(); len(w) != 0 {
		t.Fatalf("Published wrote to the registry: %v", w)
	}
}

// After a rollback from mt.2 to mt.1, mt.2's release running again (a
// restarted pipeline) leaves :stable at mt.1; mt.3 moves it.
func TestRollbackSticksUntilANewerRelease(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	one, two, three := testIndex(t), testIndex(t), testIndex(t)
	for tag, idx := range map[string]v1.ImageIndex{"v1.104.5-mt.1": one, "v1.104.5-mt.2": two} {
		if _, err := Publish(ctx, idx, s.repo(), tag); err != nil {
			t.Fatal(err)
		}
	}
	rb, err := Rollback(ctx, s.repo(), "v1.104.5-mt.1")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rb.Withdrawn, []string{"withdrawn-v1.104.5-mt.2"}) || s.digestAt("stable") != digest(t, one) {
		t.Fatalf("rollback: %+v, stable %s", rb, s.digestAt("stable"))
	}
	if s.digestAt("withdrawn-v1.104.5-mt.2") != digest(t, two) {
		t.Errorf("the marker does not point at mt.2's index")
	}
	res, err := Publish(ctx, two, s.repo(), "v1.104.5-mt.2")
	if err != nil {
		t.Fatal(err)
	}
	if res.StableMoved || res.StableHeldBy != "withdrawn-v1.104.5-mt.2" || s.digestAt("stable") != digest(t, one) {
		t.Fatalf("re-run of the withdrawn release: %+v, stable %s, want mt.1's %s", res, s.digestAt("stable"), digest(t, one))
	}
	res, err = Publish(ctx, three, s.repo(), "v1.104.5-mt.3")
	if err != nil {
		t.Fatal(err)
	}
	if !res.StableMoved || s.digestAt("stable") != digest(t, three) {
		t.Fatalf("mt.3 after the rollback: %+v", res)
	}
	// Rolling back to the newest release withdraws nothing.
	if rb, err := Rollback(ctx, s.repo(), "v1.104.5-mt.3"); err != nil || len(rb.Withdrawn) != 0 {
		t.Fatalf("rollback to the newest: %+v, %v", rb, err)
	}
}

// CheckPush passes where the credentials may push, writes no tag, and
// fails, naming the user and the repository, where the registry refuses
// them.
func TestCheckPush(t *testing.T) {
	s := newServer(t)
	if err := CheckPush(s.repo(), "ci", "right", http.DefaultTransport); err != nil {
		t.Fatalf("an open registry refused the push check: %v", err)
	}
	for _, w := range s.writes() {
		if strings.Contains(w, "/manifests/") {
			t.Errorf("the push check wrote %s", w)
		}
	}
	s.setIntercept(func(w http.ResponseWriter, r *http.Request) bool {
		if u, p, ok := r.BasicAuth(); ok && u == "ci" && p == "right" {
			return false
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		w.WriteHeader(http.StatusUnauthorized)
		return true
	})
	if err := CheckPush(s.repo(), "ci", "right", http.DefaultTransport); err != nil {
		t.Fatalf("the right password was refused: %v", err)
	}
	err := CheckPush(s.repo(), "ci", "wrong", http.DefaultTransport)
	if err == nil || !strings.Contains(err.Error(), `the registry does not let "ci" push to `+s.repo()) {
		t.Fatalf("a wrong password: %v", err)
	}
	// Not a credentials problem: no hint about the password.
	s.setIntercept(func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusBadGateway)
		return true
	})
	err = CheckPush(s.repo(), "ci", "right", http.DefaultTransport)
	if err == nil || !strings.Contains(err.Error(), "could not check push access to "+s.repo()) || strings.Contains(err.Error(), "--password") {
		t.Fatalf("a broken registry: %v", err)
	}
}
