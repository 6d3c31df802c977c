//go:build engine

package engine

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "code.gitea.io/sdk/gitea"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"dagger/mikrotik-tailscale/internal/forgelab"
	"dagger/mikrotik-tailscale/internal/ocicheck"
	"dagger/mikrotik-tailscale/internal/pins"
	"dagger/mikrotik-tailscale/internal/platform"
	"dagger/mikrotik-tailscale/internal/publish"
)

// releaseTag is the n-th release of the pinned Tailscale.
func releaseTag(n int) string { return fmt.Sprintf("%s-mt.%d", pins.TailscaleVersion, n) }

// registryHost is this machine's address as the engine's containers see
// it: ENGINE_REGISTRY_HOST, else the engine bridge's address (dagger0,
// the local engine's), else the first private IPv4 address. The forge
// listens there.
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

// releaseCall runs release the way .woodpecker/release.yaml does, to the
// forge (withForgeSecrets first), trusting its CA.
func releaseCall(t *testing.T, f *forge, name, tag, sha, created string, extra ...string) call {
	t.Helper()
	return daggerCall(t, name, stageTimeout, append([]string{"release",
		"--tag", tag,
		"--repository", f.repository(),
		"--username", forgelab.Admin,
		"--password", "env:REGISTRY_PASSWORD",
		"--revision", sha,
		"--created", created,
		"--source-url", sourceURL,
		"--extra-ca", f.caFile}, extra...)...)
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

// release pushes a four-platform index as :tag to the forge and moves
// :stable to it; routers (the updater's own requests, anonymous) read
// :stable's digest, and get none once the package is private; the same
// release again is a no-op; the same tag with other content is refused
// and leaves the registry as it was.
func testRelease(t *testing.T) {
	f := startForge(t)
	withForgeSecrets(t, f)
	sha, created := commit(t)

	// Credentials that cannot push, and a forge whose CA is not trusted,
	// fail before anything is built.
	t.Setenv("WRONG_PASSWORD", "not-the-token")
	wrong := daggerCall(t, "release-wrong-password", stageTimeout, "release",
		"--tag", releaseTag(1), "--repository", f.repository(), "--username", forgelab.Admin,
		"--password", "env:WRONG_PASSWORD", "--revision", sha, "--created", created, "--source-url", sourceURL,
		"--extra-ca", f.caFile)
	if wrong.Err == nil || !strings.Contains(wrong.Stderr, `the registry does not let "`+forgelab.Admin+`" push to `+f.repository()) ||
		strings.Contains(wrong.Stderr, "tailnet-lab") || strings.Contains(wrong.Stderr, "refusing to publish") {
		t.Errorf("a wrong password was not refused before the builds and checks:\n%s", wrong)
	}
	untrusted := daggerCall(t, "release-untrusted-ca", stageTimeout, "release",
		"--tag", releaseTag(1), "--repository", f.repository(), "--username", forgelab.Admin,
		"--password", "env:REGISTRY_PASSWORD", "--revision", sha, "--created", created, "--source-url", sourceURL)
	if untrusted.Err == nil || !strings.Contains(untrusted.Stderr, "certificate signed by unknown authority") ||
		strings.Contains(untrusted.Stderr, "tailnet-lab") {
		t.Errorf("a forge of an untrusted CA was not refused before the builds:\n%s", untrusted)
	}

	for n := 1; n <= 2; n++ {
		tag := releaseTag(n)
		res := releaseResult(t, releaseCall(t, f, "release-"+tag, tag, sha, created))
		if !res.Pushed || !res.StableMoved || res.StableDigest != res.Digest {
			t.Errorf("%s: pushed %v, stable moved %v (stable %s, index %s)", tag, res.Pushed, res.StableMoved, res.StableDigest, res.Digest)
		}
		if got := f.digestOf(t, tag); got != res.Digest {
			t.Errorf("%s: the registry holds %s, release reported %s", tag, got, res.Digest)
		}
		if got := f.digestOf(t, publish.StableTag); got != res.Digest {
			t.Errorf("after %s, :stable is %s, want %s", tag, got, res.Digest)
		}
		releaseMu.Lock()
		releaseDigests[tag] = res.Digest
		releaseMu.Unlock()
		checkReleasedIndex(t, f, tag, sha, created)
	}
	if releaseDigests[releaseTag(1)] == releaseDigests[releaseTag(2)] {
		t.Errorf("mt.1 and mt.2 have the same digest although their version labels differ")
	}

	// What a router reads: the updater's requests, anonymous.
	got, answers := f.routerQuery(t, publish.StableTag)
	if got != releaseDigests[releaseTag(2)] {
		t.Errorf("the updater's requests read :stable as %q (%v), want %s", got, answers, releaseDigests[releaseTag(2)])
	}
	// A private package: the updater gets no digest, so it changes nothing.
	f.setVisibility(t, sdk.VisibleTypePrivate)
	private, privateAnswers := f.routerQuery(t, publish.StableTag)
	f.setVisibility(t, sdk.VisibleTypePublic)
	if private != "" {
		t.Errorf("the updater read %q from a private package (%v)", private, privateAnswers)
	}
	mergeReport(t, map[string]any{"router_query": map[string]any{"public": answers, "private": privateAnswers}})

	// The same commit again: nothing pushed, nothing moved.
	tag := releaseTag(2)
	res := releaseResult(t, releaseCall(t, f, "release-rerun", tag, sha, created))
	if res.Pushed || res.StableMoved || res.Digest != releaseDigests[tag] {
		t.Errorf("re-run of %s: pushed %v, stable moved %v, digest %s (published %s)", tag, res.Pushed, res.StableMoved, res.Digest, releaseDigests[tag])
	}

	// Other content under a published tag is refused.
	other := releaseCall(t, f, "release-other-content", releaseTag(1), sha, "2001-02-03T04:05:06Z")
	if other.Err == nil || !strings.Contains(other.Stderr, "release tags are immutable") {
		t.Errorf("a different build under %s was not refused as immutable:\n%s", releaseTag(1), other)
	}
	if got := f.digestOf(t, releaseTag(1)); got != releaseDigests[releaseTag(1)] {
		t.Errorf("the refused release changed %s to %s", releaseTag(1), got)
	}
	if got := f.digestOf(t, publish.StableTag); got != releaseDigests[releaseTag(2)] {
		t.Errorf("the refused release moved :stable to %s", got)
	}

	// A failing tailnet check publishes nothing: here under a policy
	// Headscale refuses, so no lab comes up (the quick way to fail it;
	// tailnet-fails shows a lab failing on its own checks).
	policy := filepath.Join(t.TempDir(), "refused.hujson")
	if err := os.WriteFile(policy, []byte(`{"acls": "not a list"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	failing := releaseCall(t, f, "release-tailnet-fails", releaseTag(3), sha, created, "--tailnet-policy", policy)
	if failing.Err == nil || !strings.Contains(failing.Stderr, "refusing to publish") ||
		!strings.Contains(failing.Stderr, "| tailnet: lab set up | amd64 | ❌ |") ||
		!strings.Contains(failing.Stderr, "control server did not start") {
		t.Errorf("release with a failing tailnet check was not refused, or not for that:\n%s", failing)
	}
	if f.digestOf(t, releaseTag(3)) != "" {
		t.Errorf("the refused release pushed %s", releaseTag(3))
	}
	if got := f.digestOf(t, publish.StableTag); got != releaseDigests[releaseTag(2)] {
		t.Errorf("the refused release moved :stable to %s", got)
	}
}

// checkReleasedIndex reads a release back from the registry: one image
// per platform, the release labels, and each platform's root filesystem
// equal to the host suite's, stamped with the commit time.
func checkReleasedIndex(t *testing.T, f *forge, tag, sha, created string) {
	t.Helper()
	ref, err := name.NewTag(f.repository() + ":" + tag)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Index(ref, remote.WithTransport(f.client.Transport))
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
// into each history entry of an image's config. Unless internal/imagestamp
// writes the recipe's descriptions instead, the tarball differs in that
// field alone, and a release re-run is refused as other content under a
// published tag. A fresh machine never restarts its engine before the
// wipe, so the wiped-engine step alone cannot catch it.
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
	f := startForge(t)
	withForgeSecrets(t, f)

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
		res := releaseResult(t, releaseCall(t, f, "release-after-restart", tag, sha, created))
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
// all four would take a large share of CI's time budget
// (docs/DEVELOPMENT.md), and the other three platforms' files are held
// to the host suite's bytes already.
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
// else; routers then read the older digest, and a re-run of the
// withdrawn release leaves it there.
func testRollback(t *testing.T) {
	f := startForge(t)
	older, newer := releaseTag(1), releaseTag(2)
	if releaseDigests[older] == "" {
		t.Fatal("the release step did not publish; rollback has nothing to go back to")
	}
	withForgeSecrets(t, f)
	c := mustCall(t, "rollback", stageTimeout, "rollback", "--tag", older, "--repository", f.repository(),
		"--username", forgelab.Admin, "--password", "env:REGISTRY_PASSWORD", "--extra-ca", f.caFile)
	var res publish.Result
	readJSON(t, c.Stdout, &res)
	if got := f.digestOf(t, publish.StableTag); got != releaseDigests[older] || res.StableDigest != got {
		t.Errorf(":stable is %s (rollback reported %s), want %s's %s", got, res.StableDigest, older, releaseDigests[older])
	}
	if got, answers := f.routerQuery(t, publish.StableTag); got != releaseDigests[older] {
		t.Errorf("after the rollback the updater's requests read :stable as %q (%v), want %s", got, answers, releaseDigests[older])
	}
	for _, tag := range []string{older, newer} {
		if got := f.digestOf(t, tag); got != releaseDigests[tag] {
			t.Errorf("rollback changed %s to %s", tag, got)
		}
	}
	if got := f.digestOf(t, publish.WithdrawnPrefix+newer); got != releaseDigests[newer] {
		t.Errorf("rollback did not mark %s withdrawn (marker %q)", newer, got)
	}
	// The rollback sticks: mt.2's pipeline running again (a restart)
	// leaves :stable at mt.1.
	sha, created := commit(t)
	rerun := releaseResult(t, releaseCall(t, f, "release-rerun-after-rollback", newer, sha, created))
	if rerun.Pushed || rerun.StableMoved || rerun.StableHeldBy != publish.WithdrawnPrefix+newer {
		t.Errorf("re-run of the withdrawn %s: pushed %v, stable moved %v, held by %q", newer, rerun.Pushed, rerun.StableMoved, rerun.StableHeldBy)
	}
	if got := f.digestOf(t, publish.StableTag); got != releaseDigests[older] {
		t.Errorf("after the re-run of the withdrawn %s, :stable is %s, want %s's %s", newer, got, older, releaseDigests[older])
	}
}
