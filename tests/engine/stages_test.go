//go:build engine

package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"dagger/mikrotik-tailscale/internal/platform"
	"dagger/mikrotik-tailscale/internal/tsbuild"
)

// stageTimeout bounds one stage call; a cold engine builds the Go
// toolchain's caches and every cross toolchain first.
const stageTimeout = 45 * time.Minute

// sameFile compares an engine export with the host suite's file and
// records both digests.
func sameFile(t *testing.T, what, engine, host string) {
	t.Helper()
	e, err := os.ReadFile(engine)
	if err != nil {
		t.Fatal(err)
	}
	h, err := os.ReadFile(host)
	if err != nil {
		t.Fatal(err)
	}
	es, hs := sha256.Sum256(e), sha256.Sum256(h)
	mergeReport(t, map[string]any{"bytes": map[string]any{what: map[string]any{
		"engine_sha256": hex.EncodeToString(es[:]), "host_sha256": hex.EncodeToString(hs[:]),
		"engine_bytes": len(e), "host_bytes": len(h), "identical": bytes.Equal(e, h),
	}}})
	if !bytes.Equal(e, h) {
		t.Errorf("%s: the engine's %d bytes (sha256 %x) differ from the host suite's %d bytes (sha256 %x)", what, len(e), es, len(h), hs)
	}
}

// forEachArch runs fn for every platform, in parallel (the engine
// schedules the builds; the calls mostly wait).
func forEachArch(t *testing.T, fn func(t *testing.T, a platform.Arch)) {
	t.Helper()
	for _, a := range platform.All() {
		t.Run(a.Dir, func(t *testing.T) {
			t.Parallel()
			fn(t, a)
		})
	}
}

// tailscale --arch X, packed and raw, is byte for byte the host suite's
// build of the same pins.
func testTailscaleBytes(t *testing.T) {
	forEachArch(t, func(t *testing.T, a platform.Arch) {
		for _, v := range []struct{ kind, compress, host string }{
			{"upx", "true", filepath.Join(a.Dir, tsbuild.Output)},
			{"raw", "false", filepath.Join(a.Dir, tsbuild.Output+".raw")},
		} {
			out := exportPath(t, filepath.Join(a.Dir, "tailscale."+v.kind))
			mustCall(t, "tailscale-"+a.Dir+"-"+v.kind, stageTimeout,
				"tailscale", "--arch", a.Name, "--compress="+v.compress, "export", "--path", out)
			what := "tailscale/" + a.Dir + "/" + v.kind
			afterHost(what, func(t *testing.T) { sameFile(t, what, out, hostArtifact(t, v.host)) })
		}
	})
}

// busybox --arch X is the host suite's BusyBox byte for byte (packed and
// stripped), with one link per applet of the host build's list.
func testBusyboxBytes(t *testing.T) {
	forEachArch(t, func(t *testing.T, a platform.Arch) {
		for _, v := range []struct{ kind, compress, host string }{
			{"upx", "true", filepath.Join(a.Dir, "busybox")},
			{"raw", "false", filepath.Join(a.Dir, "busybox.raw")},
		} {
			out := exportPath(t, filepath.Join(a.Dir, "busybox-"+v.kind))
			mustCall(t, "busybox-"+a.Dir+"-"+v.kind, stageTimeout,
				"busybox", "--arch", a.Name, "--compress="+v.compress, "export", "--path", out)
			links, err := filepath.Glob(filepath.Join(out, "bin", "*"))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range links {
				name := filepath.Base(l)
				if name == "busybox" {
					continue
				}
				target, err := os.Readlink(l)
				if err != nil || target != "busybox" {
					t.Errorf("bin/%s is not a link to busybox (%q, %v)", name, target, err)
				}
				got = append(got, name)
			}
			sort.Strings(got)
			what := "busybox/" + a.Dir + "/" + v.kind
			afterHost(what, func(t *testing.T) {
				sameFile(t, what, filepath.Join(out, "bin", "busybox"), hostArtifact(t, v.host))
				if applets := hostApplets(t, a); strings.Join(got, " ") != strings.Join(applets, " ") {
					t.Errorf("links %v, the host build's applets %v", got, applets)
				}
			})
		}
	})
}

// hostApplets is the applet list the host build of arch reported.
func hostApplets(t *testing.T, a platform.Arch) []string {
	t.Helper()
	b, err := os.ReadFile(hostArtifact(t, filepath.Join(a.Dir, "applets.txt")))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Fields(string(b)) {
		if l != "busybox" {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}
