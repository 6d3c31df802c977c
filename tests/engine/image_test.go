//go:build engine

package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"dagger/mikrotik-tailscale/internal/ocicheck"
	"dagger/mikrotik-tailscale/internal/pins"
	"dagger/mikrotik-tailscale/internal/platform"
)

// devLabels are the labels of a build without release metadata.
func devLabels() map[string]string {
	return map[string]string{
		"org.opencontainers.image.version": pins.TailscaleVersion + "-dev",
		"org.opencontainers.image.created": "1970-01-01T00:00:00Z",
	}
}

// build --arch X export: the container as an OCI archive holds one image
// of that platform that passes the PR check's layer rules, starts the
// entrypoint with tailscaled's flags, carries the labels, and whose root
// filesystem is the host suite's, file for file and byte for byte, every
// entry owned by root. Times are not checked here: a container exported
// straight from the engine keeps each symlink's creation time and the
// build time in its config (the engine follows symlinks when it sets
// timestamps); tarball, tarballs and release rewrite them
// (internal/imagestamp), and the steps below check that.
func testBuild(t *testing.T) {
	forEachArch(t, func(t *testing.T, a platform.Arch) {
		out := exportPath(t, filepath.Join(a.Dir, "build.oci.tar"))
		mustCall(t, "build-"+a.Dir, stageTimeout, "build", "--arch", a.Name, "export", "--path", out)
		idx, err := ocicheck.LoadIndexFromOCITar(out)
		if err != nil {
			t.Fatal(err)
		}
		imgs, err := ocicheck.Images(idx)
		if err != nil {
			t.Fatal(err)
		}
		if len(imgs) != 1 || imgs[0].Platform != a.Platform {
			t.Fatalf("export holds %d images (%v), want one %s", len(imgs), imgs, a.Platform)
		}
		checkLayers(t, imgs[0].Image)
		checkImageConfig(t, imgs[0].Image, a, devLabels())
		sameRootfs(t, "build/"+a.Dir, a, imgs[0].Image, nil)
	})
}

var (
	tarballMu     sync.Mutex
	tarballSHA256 = map[string]string{} // file name → sha256, before the wipe
)

func fileSHA256(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// tarballName is the file tarballs writes for a platform.
func tarballName(a platform.Arch) string { return "mikrotik-tailscale-" + a.Dir + ".tar" }

// checkRouterOSTarball: importable by RouterOS, one image of the
// platform, the host suite's root filesystem.
func checkRouterOSTarball(t *testing.T, what string, a platform.Arch, file string) {
	t.Helper()
	if err := ocicheck.CheckRouterOSTarball(file); err != nil {
		t.Fatal(err)
	}
	img, err := ocicheck.LoadDockerTarball(file)
	if err != nil {
		t.Fatal(err)
	}
	checkImageConfig(t, img, a, devLabels())
	epoch := time.Unix(0, 0)
	checkStamp(t, img, epoch)
	sameRootfs(t, what, a, img, &epoch)
}

// tarball --arch arm/v7 export, exactly as the README shows it: a
// docker-archive RouterOS imports (one platform, uncompressed layers,
// diff IDs that match).
func testTarball(t *testing.T) {
	a, err := platform.Parse("arm/v7")
	if err != nil {
		t.Fatal(err)
	}
	out := exportPath(t, "mikrotik-tailscale-armv7.tar")
	mustCall(t, "tarball-armv7", stageTimeout, "tarball", "--arch", "arm/v7", "export", "--path", out)
	checkRouterOSTarball(t, "tarball/"+a.Dir, a, out)
	tarballMu.Lock()
	tarballSHA256["tarball:"+tarballName(a)] = fileSHA256(t, out)
	tarballMu.Unlock()
}

// tarballs export --path ./dist, as the README shows it: one importable
// tarball per platform, and the arm/v7 one is the very file tarball
// --arch arm/v7 gave.
func testTarballs(t *testing.T) {
	dist := exportPath(t, "dist")
	mustCall(t, "tarballs", stageTimeout, "tarballs", "export", "--path", dist)
	entries, err := os.ReadDir(dist)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(platform.All()) {
		t.Errorf("dist holds %d files, want %d", len(entries), len(platform.All()))
	}
	sums := map[string]any{}
	for _, a := range platform.All() {
		f := filepath.Join(dist, tarballName(a))
		checkRouterOSTarball(t, "tarballs/"+a.Dir, a, f)
		sum := fileSHA256(t, f)
		sums[a.Dir] = sum
		tarballMu.Lock()
		tarballSHA256[tarballName(a)] = sum
		if single, ok := tarballSHA256["tarball:"+tarballName(a)]; ok && single != sum {
			t.Errorf("%s: tarballs gave sha256 %s, tarball --arch %s gave %s", a.Dir, sum, a.Name, single)
		}
		tarballMu.Unlock()
	}
	mergeReport(t, map[string]any{"tarball_sha256": sums})
}

// features: the review as markdown, for the pinned Tailscale, with the
// opt-ins and where their prices are.
func testFeatures(t *testing.T) {
	c := mustCall(t, "features", stageTimeout, "features")
	for _, want := range []string{pins.TailscaleVersion, "ts_omit_", "## Opt-ins (4)", "relayserver (budget allowance", "docs/FEATURES.md"} {
		if !strings.Contains(c.Stdout, want) {
			t.Errorf("features output lacks %q:\n%s", want, c.Stdout)
		}
	}
}
