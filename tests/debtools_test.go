package tests

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"dagger/mikrotik-tailscale/internal/cacerts"
	"dagger/mikrotik-tailscale/internal/debtools"
)

// The UPX that packs everything here is the pinned Debian build, the one
// the pipeline's Debian container installs: same version, same bytes.
func TestUPXIsThePinnedBuild(t *testing.T) {
	requireRoot(t)
	out := mustRun(t, "", nil, time.Minute, debtools.UPXVersionArgs()...)
	if err := debtools.CheckUPXVersion(out); err != nil {
		t.Fatal(err)
	}
}

var (
	caOnce   sync.Once
	caBundle string
)

// hostCABundle builds the image's CA bundle with the pipeline's recipe:
// apt downloads the pinned ca-certificates package (verified against the
// archive's signed index), BundleArgs concatenates its Mozilla set. It is
// an artifact (ca-certificates.crt) the engine suite compares with the
// bundle the pipeline builds.
func hostCABundle(t *testing.T) string {
	t.Helper()
	requireRoot(t)
	caOnce.Do(func() {
		dir := scratchDir(t, "ca-certificates")
		mustRun(t, dir, os.Environ(), 5*time.Minute, "apt-get", "download", "-qq", debtools.CACertificatesPackage())
		out := filepath.Join(artifactsDir, "ca-certificates.crt")
		mustRun(t, dir, nil, time.Minute, cacerts.BundleArgs(filepath.Join(dir, "ca-certificates_*.deb"), out, cacerts.Roots)...)
		caBundle = out
	})
	if caBundle == "" {
		t.Fatal("the CA bundle failed to build; see the first failing test")
	}
	return caBundle
}

// The bundle holds exactly the reviewed roots (subject and fingerprint,
// from the pinned package) and nothing this machine trusts locally (its
// /usr/local/share CAs).
func TestCABundle(t *testing.T) {
	path := hostCABundle(t)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := cacerts.Check(b, cacerts.Roots)
	if err != nil {
		t.Fatal(err)
	}
	local, _ := filepath.Glob("/usr/local/share/ca-certificates/*.crt")
	for _, f := range local {
		c, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if c = bytes.TrimSpace(c); len(c) > 0 && bytes.Contains(b, c) {
			t.Errorf("the bundle contains this machine's local CA %s", f)
		}
	}
	t.Logf("CA bundle: %d certificates, %d bytes", n, len(b))
	mergeReport(t, map[string]any{"ca_bundle": map[string]any{"certificates": n, "bytes": len(b)}})
}
