package tests

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"dagger/mikrotik-tailscale/internal/budget"
	"dagger/mikrotik-tailscale/internal/busybox"
	"dagger/mikrotik-tailscale/internal/layout"
	"dagger/mikrotik-tailscale/internal/ocicheck"
	"dagger/mikrotik-tailscale/internal/pins"
	"dagger/mikrotik-tailscale/internal/platform"
	"dagger/mikrotik-tailscale/internal/smoke"
)

// imageEpoch is the fixed timestamp of every layer entry.
var imageEpoch = time.Unix(0, 0)

// imageLayers is the layout recipe with this repository's applet list.
func imageLayers(t *testing.T) []layout.Layer {
	t.Helper()
	text, err := os.ReadFile(filepath.Join("..", busybox.ListFile))
	if err != nil {
		t.Fatal(err)
	}
	layers, err := layout.ImageLayers(string(text))
	if err != nil {
		t.Fatal(err)
	}
	return layers
}

// imageSources are the two stages' host artifacts for one arch.
func imageSources(t *testing.T, a platform.Arch) layout.Sources {
	t.Helper()
	ts := tailscaleBuild(t)
	bb := busyboxBuild(t, a, busybox.Chosen)
	return layout.Sources{
		layout.FromTailscale: ts.UPX[a.Name],
		layout.FromBusyBox:   bb.UPX,
		layout.FromCACerts:   hostCABundle(t),
	}
}

// The image assembled from the recipe, as layer tars, passes the same
// inspection the PR check runs on the engine's export: the binary sits in
// one layer, no path is in two, and the sizes fit the default budgets.
func TestImageLayers(t *testing.T) {
	layers := imageLayers(t)
	for _, a := range platform.All() {
		t.Run(a.Dir, func(t *testing.T) {
			src := imageSources(t, a)
			img := empty.Image
			var gz, tarBytes int64
			for _, l := range layers {
				var buf bytes.Buffer
				if err := layout.WriteTar(&buf, l, src, imageEpoch); err != nil {
					t.Fatal(err)
				}
				tarBytes += int64(buf.Len())
				gz += gzipSize(t, buf.Bytes())
				b := buf.Bytes()
				layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
					return io.NopCloser(bytes.NewReader(b)), nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if img, err = mutate.AppendLayers(img, layer); err != nil {
					t.Fatal(err)
				}
			}
			r, err := ocicheck.Inspect(img)
			if err != nil {
				t.Fatal(err)
			}
			if err := ocicheck.CheckLayerRules(r, layout.Binary); err != nil {
				t.Error(err)
			}
			if err := ocicheck.CheckBudgets(r, budget.Defaults[a.Name]); err != nil {
				t.Errorf("default budget: %v", err)
			}
			t.Logf("%s: %d layers, tar %d B, gzip %d B (ggcr: compressed %d B, uncompressed %d B)",
				a.Dir, len(layers), tarBytes, gz, r.Compressed, r.Uncompressed)
			mergeReport(t, map[string]any{"arches": map[string]any{a.Dir: map[string]any{
				"image_gzip_bytes": gz,
				"image_tar_bytes":  tarBytes,
			}}})
		})
	}
}

func gzipSize(t *testing.T, b []byte) int64 {
	t.Helper()
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.DefaultCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return int64(out.Len())
}

// The flattened rootfs holds exactly the recipe's paths, and the image's
// own smoke script passes in it: daemon up in a private network
// namespace, forwarding enabled by the start script, logged out, routes
// and exit node set, version right, shell pipeline works; arm through
// qemu-user-static.
func TestImageRootfsSmoke(t *testing.T) {
	layers := imageLayers(t)
	for _, a := range platform.All() {
		t.Run(a.Dir, func(t *testing.T) {
			root := filepath.Join(archDir(t, a), "rootfs")
			os.RemoveAll(root)
			if err := layout.WriteRootfs(root, layers, imageSources(t, a)); err != nil {
				t.Fatal(err)
			}
			var got []string
			var size int64
			err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err != nil || p == root {
					return err
				}
				rel, _ := filepath.Rel(root, p)
				got = append(got, filepath.ToSlash(rel))
				if d.Type().IsRegular() {
					info, err := d.Info()
					if err != nil {
						return err
					}
					size += info.Size()
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if want := len(layout.Paths(layers)); len(got) != want {
				t.Errorf("rootfs has %d paths, recipe %d", len(got), want)
			}
			mergeReport(t, map[string]any{"arches": map[string]any{a.Dir: map[string]any{"rootfs_bytes": size}}})

			// Run in a copy: the chroot needs /proc, /dev/net/tun and a
			// tmpfs that the shipped rootfs must not contain.
			run := filepath.Join(scratchDir(t, "image-smoke"), a.Dir)
			os.RemoveAll(run)
			mustRun(t, "", nil, time.Minute, "cp", "-a", root, run)
			r := imageChroot(t, a, run, smoke.Script(strings.TrimPrefix(pins.TailscaleVersion, "v")))
			// The same report the PR check gives: exit code, both streams,
			// and the daemon log read from the rootfs, not through the
			// image's tools.
			sr := smoke.Run{ExitCode: exitCode(r.Err), Stdout: r.Stdout, Stderr: r.Stderr}
			if b, err := os.ReadFile(filepath.Join(run, smoke.LogFile)); err == nil {
				sr.Log = string(b)
			}
			if err := sr.Err(); err != nil {
				t.Fatalf("%s: %v", a.Dir, err)
			}
			t.Logf("%s", r.Stdout)
		})
	}
}

// imageChroot runs script in a chroot of root (see chrootRun) with
// loopback up and what a container runtime provides (/proc, /dev/null, the
// TUN device), plus a tmpfs on the socket directory, as on the router.
func imageChroot(t *testing.T, a platform.Arch, root, script string) result {
	t.Helper()
	return chrootRun(t, a, root, []string{
		"ip link set lo up",
		`mkdir -p "$1/proc" "$1/dev/net"`, `mount -t proc proc "$1/proc"`,
		`touch "$1/dev/null" "$1/dev/net/tun"`,
		`mount --bind /dev/null "$1/dev/null"`, `mount --bind /dev/net/tun "$1/dev/net/tun"`,
		`mount -t tmpfs -o size=1m tmpfs "$1/` + layout.SocketDir + `"`,
	}, script)
}

// exitCode is a finished command's exit code: 0, its status, or -1 when
// it did not run to an exit (timeout, signal, not started).
func exitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		return ee.ExitCode()
	default:
		return -1
	}
}
