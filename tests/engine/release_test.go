//go:build engine

package engine

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"dagger/mikrotik-tailscale/internal/ocicheck"
	"dagger/mikrotik-tailscale/internal/pins"
	"dagger/mikrotik-tailscale/internal/platform"
	"dagger/mikrotik-tailscale/internal/publish"
)

// releaseTag is the n-th release of the pinned Tailscale.
func releaseTag(n int) string { return fmt.Sprintf("%s-mt.%d", pins.TailscaleVersion, n) }

// testRegistry is an OCI registry (go-containerregistry's, in memory) in
// this process: the module's release code pushes to it from inside the
// engine, the test reads it back on loopback.
type testRegistry struct {
	local  string // host:port on loopback, for this process
	remote string // host:port as the engine's containers reach it
}

var (
	regOnce sync.Once
	reg     *testRegistry
	regErr  error
)

func startRegistry(t *testing.T) *testRegistry {
	t.Helper()
	regOnce.Do(func() {
		host, err := registryHost()
		if err != nil {
			regErr = err
			return
		}
		ln, err := net.Listen("tcp", ":0")
		if err != nil {
			regErr = err
			return
		}
		port := ln.Addr().(*net.TCPAddr).Port
		srv := &http.Server{Handler: writesNeedPassword(registry.New(registry.Logger(log.New(io.Discard, "", 0))))}
		go srv.Serve(ln)
		reg = &testRegistry{local: fmt.Sprintf("127.0.0.1:%d", port), remote: fmt.Sprintf("%s:%d", host, port)}
	})
	if regErr != nil {
		t.Fatal(regErr)
	}
	return reg
}

// registryPassword is what the test registry takes for writes
// (withRegistryPassword puts it where the calls read it).
const registryPassword = "test-registry-token"

// writesNeedPassword makes the registry what a public Gitea package is:
// anyone reads (routers pull anonymously, the test reads back), only the
// password writes.
func writesNeedPassword(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if _, p, ok := r.BasicAuth(); !ok || p != registryPassword {
				w.Header().Set("WWW-Authenticate", `Basic realm="test registry"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// registryHost is this machine's address as the engine's containers see
// it: ENGINE_REGISTRY_HOST, else the engine bridge's address (dagger0,
// the local engine's), else the first private IPv4 address. A private
// address also makes go-containerregistry talk plain HTTP to it.
func registryHost() (string, error) {
	if h := os.Getenv("ENGINE_REGISTRY_HOST"); h != "" {
		return h, nil
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		return "", err
	}
	var private []string
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.To4() == nil || !ipn.IP.IsPrivate() {
				continue
			}
			if ifc.Name == "dagger0" {
				return ipn.IP.String(), nil
			}
			private = append(private, ipn.IP.String())
		}
	}
	if len(private) == 0 {
		return "", fmt.Errorf("no private IPv4 address on this machine for the engine to reach the test registry: set ENGINE_REGISTRY_HOST")
	}
	return private[0], nil
}

func (r *testRegistry) repository(remote bool) string {
	host := r.local
	if remote {
		host = r.remote
	}
	return host + "/test/mikrotik-tailscale"
}

// digestOf is what a tag of the test repository points to ("" if absent).
func (r *testRegistry) digestOf(t *testing.T, tag string) string {
	t.Helper()
	ref, err := name.NewTag(r.repository(false) + ":" + tag)
	if err != nil {
		t.Fatal(err)
	}
	d, err := remote.Head(ref)
	if err != nil {
		if strings.Contains(err.Error(), "404") || strings.Contains(err.Error(), "MANIFEST_UNKNOWN") {
			return ""
		}
		t.Fatal(err)
	}
	return d.Digest.String()
}

// commit is the revision and commit time the release pipeline passes
// (.woodpecker/release.yaml: CI_COMMIT_SHA, git log -1 --format=%cI).
func commit(t *testing.T) (sha, created string) {
	t.Helper()
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = repoRoot
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	return git("rev-parse", "HEAD"), git("log", "-1", "--format=%cI", "HEAD")
}

const sourceURL = "https://gitea.example.com/owner/mikrotik-tailscale"

// withRegistryPassword puts the test registry's password where the calls
// read it (--password env:REGISTRY_PASSWORD), for t and its subtests.
// Not from a parallel test: t.Setenv refuses.
func withRegistryPassword(t *testing.T) {
	t.Setenv("REGISTRY_PASSWORD", registryPassword)
}

// releaseCall runs release the way .woodpecker/release.yaml does
// (withRegistryPassword first).
func releaseCall(t *testing.T, name, tag, sha, created string) call {
	t.Helper()
	r := startRegistry(t)
	return daggerCall(t, name, stageTimeout, "release",
		"--tag", tag,
		"--repository", r.repository(true),
		"--username", "ci",
		"--password", "env:REGISTRY_PASSWORD",
		"--revision", sha,
		"--created", created,
		"--source-url", sourceURL)
}

func releaseResult(t *testing.T, c call) publish.Result {
	t.Helper()
	if c.Err != nil {
		t.Fatalf("%s", c)
	}
	var res publish.Result
	readJSON(t, c.Stdout, &res)
	return res
}

var (
	releaseMu      sync.Mutex
	releaseDigests = map[string]string{} // tag → index digest
)

// release pushes a four-platform index as :tag and moves :stable to it;
// the same release again is a no-op; the same tag with other content is
// refused and leaves the registry as it was.
func testRelease(t *testing.T) {
	r := startRegistry(t)
	withRegistryPassword(t)
	sha, created := commit(t)

	// A password that cannot push fails before anything is built.
	t.Setenv("WRONG_PASSWORD", "not-the-token")
	wrong := daggerCall(t, "release-wrong-password", stageTimeout, "release",
		"--tag", releaseTag(1), "--repository", r.repository(true), "--username", "ci",
		"--password", "env:WRONG_PASSWORD", "--revision", sha, "--created", created, "--source-url", sourceURL)
	if wrong.Err == nil || !strings.Contains(wrong.Stderr, `the registry does not let "ci" push to `+r.repository(true)) ||
		strings.Contains(wrong.Stderr, "tailnet-lab") || strings.Contains(wrong.Stderr, "refusing to publish") {
		t.Errorf("a wrong password was not refused before the builds and checks:\n%s", wrong)
	}

	for n := 1; n <= 2; n++ {
		tag := releaseTag(n)
		res := releaseResult(t, releaseCall(t, "release-"+tag, tag, sha, created))
		if !res.Pushed || !res.StableMoved || res.StableDigest != res.Digest {
			t.Errorf("%s: pushed %v, stable moved %v (stable %s, index %s)", tag, res.Pushed, res.StableMoved, res.StableDigest, res.Digest)
		}
		if got := r.digestOf(t, tag); got != res.Digest {
			t.Errorf("%s: the registry holds %s, release reported %s", tag, got, res.Digest)
		}
		if got := r.digestOf(t, publish.StableTag); got != res.Digest {
			t.Errorf("after %s, :stable is %s, want %s", tag, got, res.Digest)
		}
		releaseMu.Lock()
		releaseDigests[tag] = res.Digest
		releaseMu.Unlock()
		checkReleasedIndex(t, r, tag, sha, created)
	}
	if releaseDigests[releaseTag(1)] == releaseDigests[releaseTag(2)] {
		t.Errorf("mt.1 and mt.2 have the same digest although their version labels differ")
	}

	// The same commit again: nothing pushed, nothing moved.
	tag := releaseTag(2)
	res := releaseResult(t, releaseCall(t, "release-rerun", tag, sha, created))
	if res.Pushed || res.StableMoved || res.Digest != releaseDigests[tag] {
		t.Errorf("re-run of %s: pushed %v, stable moved %v, digest %s (published %s)", tag, res.Pushed, res.StableMoved, res.Digest, releaseDigests[tag])
	}

	// Other content under a published tag is refused.
	other := releaseCall(t, "release-other-content", releaseTag(1), sha, "2001-02-03T04:05:06Z")
	if other.Err == nil || !strings.Contains(other.Stderr, "release tags are immutable") {
		t.Errorf("a different build under %s was not refused as immutable:\n%s", releaseTag(1), other)
	}
	if got := r.digestOf(t, releaseTag(1)); got != releaseDigests[releaseTag(1)] {
		t.Errorf("the refused release changed %s to %s", releaseTag(1), got)
	}
	if got := r.digestOf(t, publish.StableTag); got != releaseDigests[releaseTag(2)] {
		t.Errorf("the refused release moved :stable to %s", got)
	}

	// A failing tailnet check publishes nothing: here under a policy
	// Headscale refuses, so no lab comes up (the quick way to fail it;
	// tailnet-fails shows a lab failing on its own checks).
	policy := filepath.Join(t.TempDir(), "refused.hujson")
	if err := os.WriteFile(policy, []byte(`{"acls": "not a list"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	failing := daggerCall(t, "release-tailnet-fails", stageTimeout, "release",
		"--tag", releaseTag(3), "--repository", r.repository(true), "--username", "ci",
		"--password", "env:REGISTRY_PASSWORD", "--revision", sha, "--created", created,
		"--source-url", sourceURL, "--tailnet-policy", policy)
	if failing.Err == nil || !strings.Contains(failing.Stderr, "refusing to publish") ||
		!strings.Contains(failing.Stderr, "| tailnet: lab set up | amd64 | ❌ |") ||
		!strings.Contains(failing.Stderr, "control server did not start") {
		t.Errorf("release with a failing tailnet check was not refused, or not for that:\n%s", failing)
	}
	if r.digestOf(t, releaseTag(3)) != "" {
		t.Errorf("the refused release pushed %s", releaseTag(3))
	}
	if got := r.digestOf(t, publish.StableTag); got != releaseDigests[releaseTag(2)] {
		t.Errorf("the refused release moved :stable to %s", got)
	}
}

// checkReleasedIndex reads a release back from the registry: one image
// per platform, the release labels, and each platform's root filesystem
// equal to the host suite's, stamped with the commit time.
func checkReleasedIndex(t *testing.T, r *testRegistry, tag, sha, created string) {
	t.Helper()
	ref, err := name.NewTag(r.repository(false) + ":" + tag)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Index(ref)
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := ocicheck.Images(idx)
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, pi := range imgs {
		got = append(got, pi.Platform)
	}
	for _, a := range platform.All() {
		want = append(want, a.Platform)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("%s holds %v, want %v", tag, got, want)
	}
	mtime, err := time.Parse(time.RFC3339, created)
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{
		"org.opencontainers.image.version":  tag,
		"org.opencontainers.image.revision": sha,
		"org.opencontainers.image.created":  mtime.UTC().Format(time.RFC3339),
		"org.opencontainers.image.source":   sourceURL,
	}
	for _, pi := range imgs {
		a, err := platform.Parse(pi.Platform)
		if err != nil {
			t.Fatal(err)
		}
		checkLayers(t, pi.Image)
		checkImageConfig(t, pi.Image, a, labels)
		checkStamp(t, pi.Image, mtime)
		sameRootfs(t, "release "+tag+"/"+a.Dir, a, pi.Image, &mtime)
	}
}

// engineCommand is the shell command in the environment variable env
// (ENGINE_RESTART, ENGINE_RESET), which the step named step needs: a CI
// run without it fails, any other run skips the step. Calling the
// result runs the command, bounded by timeout, and records its seconds
// in the report under key.
func engineCommand(t *testing.T, env, step, what string) func(timeout time.Duration, key string) {
	t.Helper()
	command := os.Getenv(env)
	if command == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: CI must prove the %s checks (see tests/engine/run.sh)", env, step)
		}
		t.Skipf("%s is not set: no command to %s", env, what)
	}
	return func(timeout time.Duration, key string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		start := time.Now()
		if out, err := exec.CommandContext(ctx, "sh", "-c", command).CombinedOutput(); err != nil {
			t.Fatalf("%s %q: %v\n%s", env, command, err, out)
		}
		mergeReport(t, map[string]any{key: time.Since(start).Round(time.Second).Seconds()})
	}
}

// After an engine restart that keeps its state, the same commit still
// gives the same bytes: the tarball step's arm/v7 file again, and a
// re-run of the last release is a no-op, not a refusal. The layers now
// come from the cache the engine loaded back from disk, and the engine
// (v0.21.8) describes such a layer as "rehydrated persisted snapshot"
// instead of the operation that built it; it writes that description
// into each history entry of an image's config. Found in CI when the
// engine's state outlived a restart: the tarball differed in that field
// alone, and a release re-run would have been refused as other content
// under a published tag (internal/imagetime now writes the recipe's
// descriptions).
func testRestartedEngine(t *testing.T) {
	restart := engineCommand(t, "ENGINE_RESTART", "restarted-engine", "restart this engine")
	a, err := platform.Parse("arm/v7")
	if err != nil {
		t.Fatal(err)
	}
	tarballMu.Lock()
	before := tarballSHA256["tarball:"+tarballName(a)]
	tarballMu.Unlock()
	tag := releaseTag(2)
	releaseMu.Lock()
	published := releaseDigests[tag]
	releaseMu.Unlock()
	if before == "" || published == "" {
		t.Fatal("the tarball and release steps must pass first")
	}
	restart(5*time.Minute, "engine_restart_seconds")
	withRegistryPassword(t)

	t.Run("tarball", func(t *testing.T) {
		t.Parallel()
		out := exportPath(t, "after-restart/"+tarballName(a))
		// The version spelled out is the default's: the same image, but
		// not the engine's cached result of the earlier call, so the
		// module exports it again from the reloaded layers.
		mustCall(t, "tarball-armv7-after-restart", stageTimeout, "tarball", "--arch", a.Name,
			"--version", devLabels()["org.opencontainers.image.version"], "export", "--path", out)
		if got := fileSHA256(t, out); got != before {
			t.Errorf("%s: sha256 %s after the restart, %s before", tarballName(a), got, before)
		}
	})
	t.Run("release", func(t *testing.T) {
		t.Parallel()
		sha, created := commit(t)
		res := releaseResult(t, releaseCall(t, "release-after-restart", tag, sha, created))
		if res.Pushed || res.StableMoved || res.Digest != published {
			t.Errorf("re-run of %s after the restart: pushed %v, stable moved %v, digest %s (published %s)", tag, res.Pushed, res.StableMoved, res.Digest, published)
		}
	})
}

// On a freshly wiped engine (no build cache, no cache volumes) the same
// commit builds the same image: tarball --arch arm/v7, rebuilt from
// nothing, is the very file the tarball step exported before the wipe
// (same sha256), so no time or cache state of the engine reaches an
// image's bytes. One platform, RouterOS's most common: a cold rebuild of
// all four (a release after the wipe, proven a no-op in earlier runs)
// costs about 25 minutes of the 60 CI has on 2 cores, and the other
// three platforms' files are held to the host suite's bytes already.
// The release's own no-op rule (same digest under the same tag: nothing
// pushed) is the release step's re-run.
func testWipedEngine(t *testing.T) {
	reset := engineCommand(t, "ENGINE_RESET", "wiped-engine", "wipe this engine's state")
	a, err := platform.Parse("arm/v7")
	if err != nil {
		t.Fatal(err)
	}
	tarballMu.Lock()
	before := tarballSHA256["tarball:"+tarballName(a)]
	tarballMu.Unlock()
	if before == "" {
		t.Fatal("the tarball step did not record its sha256; it must pass first")
	}
	reset(15*time.Minute, "engine_reset_seconds")

	out := exportPath(t, "after-wipe/"+tarballName(a))
	mustCall(t, "tarball-armv7-after-wipe", stageTimeout, "tarball", "--arch", a.Name, "export", "--path", out)
	if got := fileSHA256(t, out); got != before {
		t.Errorf("%s: sha256 %s after the wipe, %s before", tarballName(a), got, before)
	}
	mergeReport(t, map[string]any{"tarball_sha256_after_wipe": map[string]any{a.Dir: fileSHA256(t, out), "identical": fileSHA256(t, out) == before}})
}

// rollback moves :stable back to an older release and changes nothing
// else.
func testRollback(t *testing.T) {
	r := startRegistry(t)
	older, newer := releaseTag(1), releaseTag(2)
	if releaseDigests[older] == "" {
		t.Fatal("the release step did not publish; rollback has nothing to go back to")
	}
	withRegistryPassword(t)
	c := mustCall(t, "rollback", stageTimeout, "rollback",
		"--tag", older, "--repository", r.repository(true), "--username", "ci", "--password", "env:REGISTRY_PASSWORD")
	var res publish.Result
	readJSON(t, c.Stdout, &res)
	if got := r.digestOf(t, publish.StableTag); got != releaseDigests[older] || res.StableDigest != got {
		t.Errorf(":stable is %s (rollback reported %s), want %s's %s", got, res.StableDigest, older, releaseDigests[older])
	}
	for _, tag := range []string{older, newer} {
		if got := r.digestOf(t, tag); got != releaseDigests[tag] {
			t.Errorf("rollback changed %s to %s", tag, got)
		}
	}
	if got := r.digestOf(t, publish.WithdrawnPrefix+newer); got != releaseDigests[newer] {
		t.Errorf("rollback did not mark %s withdrawn (marker %q)", newer, got)
	}
	// The rollback sticks: mt.2's pipeline running again (a restart)
	// leaves :stable at mt.1.
	sha, created := commit(t)
	rerun := releaseResult(t, releaseCall(t, "release-rerun-after-rollback", newer, sha, created))
	if rerun.Pushed || rerun.StableMoved || rerun.StableHeldBy != publish.WithdrawnPrefix+newer {
		t.Errorf("re-run of the withdrawn %s: pushed %v, stable moved %v, held by %q", newer, rerun.Pushed, rerun.StableMoved, rerun.StableHeldBy)
	}
	if got := r.digestOf(t, publish.StableTag); got != releaseDigests[older] {
		t.Errorf("after the re-run of the withdrawn %s, :stable is %s, want %s's %s", newer, got, older, releaseDigests[older])
	}
}
