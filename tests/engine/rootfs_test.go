//go:build engine

package engine

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"dagger/mikrotik-tailscale/internal/busybox"
	"dagger/mikrotik-tailscale/internal/layout"
	"dagger/mikrotik-tailscale/internal/ocicheck"
	"dagger/mikrotik-tailscale/internal/pins"
	"dagger/mikrotik-tailscale/internal/platform"
)

// entry is one path of a root filesystem, as far as the image defines it.
type entry struct {
	Kind   string // dir, file, symlink
	Mode   fs.FileMode
	Target string // symlink
	SHA256 string // file
}

func (e entry) String() string {
	return fmt.Sprintf("%s %o %s%s", e.Kind, e.Mode, e.Target, e.SHA256)
}

// imageRootfs flattens img and returns its entries, failing on any entry
// whose owner is not root or, unless mtime is nil, whose time is not
// *mtime (the same commit must give the same image).
func imageRootfs(t *testing.T, img v1.Image, mtime *time.Time) map[string]entry {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	out := map[string]entry{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		if name == "" {
			continue
		}
		if h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s is owned by %d:%d, not root", name, h.Uid, h.Gid)
		}
		if mtime != nil && !h.ModTime.Equal(*mtime) {
			t.Errorf("%s has mtime %s, want %s", name, h.ModTime.UTC(), mtime.UTC())
		}
		e := entry{Mode: fs.FileMode(h.Mode).Perm()}
		switch h.Typeflag {
		case tar.TypeDir:
			e.Kind = "dir"
		case tar.TypeSymlink:
			e.Kind, e.Target, e.Mode = "symlink", h.Linkname, 0
		case tar.TypeReg:
			e.Kind = "file"
			sum := sha256.New()
			if _, err := io.Copy(sum, tr); err != nil {
				t.Fatal(err)
			}
			e.SHA256 = hex.EncodeToString(sum.Sum(nil))
		default:
			t.Errorf("%s: unexpected tar entry type %q", name, h.Typeflag)
			continue
		}
		out[name] = e
	}
	return out
}

// hostRootfs reads the root filesystem the host suite assembled for a
// platform from the same recipe (ARTIFACTS_DIR/<arch>/rootfs).
func hostRootfs(t *testing.T, a platform.Arch) map[string]entry {
	t.Helper()
	root := hostArtifact(t, filepath.Join(a.Dir, "rootfs"))
	out := map[string]entry{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		e := entry{Mode: info.Mode().Perm()}
		switch {
		case d.IsDir():
			e.Kind = "dir"
		case d.Type()&fs.ModeSymlink != 0:
			e.Kind, e.Mode = "symlink", 0
			if e.Target, err = os.Readlink(p); err != nil {
				return err
			}
		case d.Type().IsRegular():
			e.Kind = "file"
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			e.SHA256 = hex.EncodeToString(sum[:])
		default:
			return fmt.Errorf("%s: unexpected file type %s", p, d.Type())
		}
		out[filepath.ToSlash(rel)] = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameRootfs reads img's root filesystem now (owners and, unless mtime
// is nil, times checked as for imageRootfs) and queues its comparison
// with the host suite's, named what: every path where they differ fails,
// so the host suite proves exactly what the pipeline ships.
func sameRootfs(t *testing.T, what string, a platform.Arch, img v1.Image, mtime *time.Time) {
	t.Helper()
	got := imageRootfs(t, img, mtime)
	afterHost("rootfs/"+what, func(t *testing.T) { compareRootfs(t, a, got) })
}

// compareRootfs compares an image's entries with the host suite's root
// filesystem of the same platform.
func compareRootfs(t *testing.T, a platform.Arch, got map[string]entry) {
	t.Helper()
	want := hostRootfs(t, a)
	var paths []string
	for p := range got {
		paths = append(paths, p)
	}
	for p := range want {
		if _, ok := got[p]; !ok {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	diffs := 0
	for _, p := range paths {
		g, inImage := got[p]
		w, inHost := want[p]
		switch {
		case !inHost:
			t.Errorf("%s: %s is in the image, not in the host suite's rootfs", a.Dir, p)
		case !inImage:
			t.Errorf("%s: %s is in the host suite's rootfs, not in the image", a.Dir, p)
		case g != w:
			t.Errorf("%s: %s differs: image %s, host %s", a.Dir, p, g, w)
		default:
			continue
		}
		if diffs++; diffs > 20 {
			t.Fatalf("%s: more than 20 differences", a.Dir)
		}
	}
	mergeReport(t, map[string]any{"rootfs": map[string]any{a.Dir: map[string]any{"paths": len(got), "identical_to_host": diffs == 0}}})
}

// checkImageConfig checks what RouterOS starts and what the labels say.
func checkImageConfig(t *testing.T, img v1.Image, a platform.Arch, labels map[string]string) {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := cf.OS + "/" + cf.Architecture + variantSuffix(cf.Variant); got != a.Platform {
		t.Errorf("config platform %s, want %s", got, a.Platform)
	}
	if !slices.Equal(cf.Config.Entrypoint, layout.Entrypoint()) || len(cf.Config.Cmd) != 0 {
		t.Errorf("entrypoint %q cmd %q, want %q and no cmd", cf.Config.Entrypoint, cf.Config.Cmd, layout.Entrypoint())
	}
	for _, kv := range layout.Env() {
		if !slices.Contains(cf.Config.Env, kv) {
			t.Errorf("env %q lacks %s", cf.Config.Env, kv)
		}
	}
	want := map[string]string{"com.tailscale.version": strings.TrimPrefix(pins.TailscaleVersion, "v")}
	for k, v := range labels {
		want[k] = v
	}
	for k, v := range want {
		if got := cf.Config.Labels[k]; got != v {
			t.Errorf("label %s = %q, want %q", k, got, v)
		}
	}
	if cf.Config.Labels["mikrotik-tailscale.features"] == "" {
		t.Error("no mikrotik-tailscale.features label")
	}
	for k, v := range cf.Config.Labels {
		if v == "" {
			t.Errorf("label %s is empty (unknown provenance is left out)", k)
		}
	}
}

// checkStamp: the config and its history carry the commit time and the
// recipe's description of each layer, not the time the engine built the
// image or the state of its cache (internal/imagestamp).
func checkStamp(t *testing.T, img v1.Image, created time.Time) {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !cf.Created.Time.Equal(created) {
		t.Errorf("config created %s, want %s", cf.Created.Time, created)
	}
	want := recipeHistory(t)
	if len(cf.History) != len(want) {
		t.Fatalf("%d history entries, want one per layer of the recipe (%d)", len(cf.History), len(want))
	}
	for i, h := range cf.History {
		if !h.Created.Time.Equal(created) {
			t.Errorf("history %d created %s, want %s", i, h.Created.Time, created)
		}
		if h.CreatedBy != want[i] {
			t.Errorf("history %d created_by %q, want %q", i, h.CreatedBy, want[i])
		}
	}
}

// recipeHistory is layout.History of the image the module builds from
// this repository's applet list.
func recipeHistory(t *testing.T) []string {
	t.Helper()
	text, err := os.ReadFile(filepath.Join("..", "..", busybox.ListFile))
	if err != nil {
		t.Fatal(err)
	}
	layers, err := layout.ImageLayers(string(text))
	if err != nil {
		t.Fatal(err)
	}
	return layout.History(layers)
}

func variantSuffix(v string) string {
	if v == "" {
		return ""
	}
	return "/" + v
}

// checkLayers runs the PR check's layer rules on img.
func checkLayers(t *testing.T, img v1.Image) ocicheck.Inspection {
	t.Helper()
	r, err := ocicheck.Inspect(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := ocicheck.CheckLayerRules(r, layout.Binary); err != nil {
		t.Error(err)
	}
	return r
}
