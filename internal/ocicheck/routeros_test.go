package ocicheck

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// routerOSImage is what the pipeline should hand RouterOS: one platform,
// uncompressed layers.
func routerOSImage(t *testing.T) v1.Image {
	return image(t, "linux/arm/v7",
		rawLayer(t, dir("usr/"), dir("usr/local/"), dir("usr/local/bin/"), file(binary, binaryBody)),
		rawLayer(t, dir("bin/"), file("bin/busybox", "bb")))
}

func TestCheckRouterOSTarballAcceptsDockerArchive(t *testing.T) {
	if err := CheckRouterOSTarball(dockerArchive(t, routerOSImage(t))); err != nil {
		t.Fatal(err)
	}
}

// TestCheckRouterOSTarballAcceptsBuildKitShape covers BuildKit's docker
// exporter: manifest.json next to an OCI layout, config and layers named
// blobs/sha256/<hex> (no .json suffix), index.json with one image.
func TestCheckRouterOSTarballAcceptsBuildKitShape(t *testing.T) {
	img := routerOSImage(t)
	dir := t.TempDir()
	if _, err := layout.Write(dir, mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img})); err != nil {
		t.Fatal(err)
	}
	cfg, _ := img.ConfigName()
	mf, _ := img.Manifest()
	entry := tarball.Descriptor{Config: "blobs/sha256/" + cfg.Hex, RepoTags: []string{"mikrotik-tailscale:test"}}
	for _, l := range mf.Layers {
		entry.Layers = append(entry.Layers, "blobs/sha256/"+l.Digest.Hex)
	}
	writeJSON(t, filepath.Join(dir, "manifest.json"), tarball.Manifest{entry})
	if err := CheckRouterOSTarball(tarDir(t, dir, "")); err != nil {
		t.Fatal(err)
	}
}

func TestCheckRouterOSTarballRejects(t *testing.T) {
	good := dockerArchive(t, routerOSImage(t))

	gzipped := dockerArchive(t, image(t, "linux/arm/v7", gzLayer(t, file(binary, binaryBody))))

	zstdLayer := static.NewLayer(append([]byte{0x28, 0xb5, 0x2f, 0xfd}, make([]byte, 100)...), types.DockerUncompressedLayer)
	zstd := dockerArchive(t, image(t, "linux/arm/v7", zstdLayer))

	garbage := dockerArchive(t, image(t, "linux/arm/v7",
		static.NewLayer(bytes.Repeat([]byte("not a tar "), 100), types.DockerUncompressedLayer)))

	truncated := tarOf(t, file(binary, binaryBody))
	truncatedLayer := static.NewLayer(truncated[:len(truncated)/2], types.DockerUncompressedLayer)
	cut := dockerArchive(t, image(t, "linux/arm/v7", truncatedLayer))

	l := rawLayer(t, file("a", "b"))
	otherDiffID, _ := rawLayer(t, file("a", "c")).DiffID()
	lying, err := mutate.AppendLayers(empty.Image, lyingLayer{l, otherDiffID})
	if err != nil {
		t.Fatal(err)
	}
	lying = withPlatform(t, lying, "linux/arm/v7")

	noPlatform, err := mutate.AppendLayers(empty.Image, rawLayer(t, file("a", "b")))
	if err != nil {
		t.Fatal(err)
	}

	twoImages := filepath.Join(t.TempDir(), "two.tar")
	if err := tarball.MultiWriteToFile(twoImages, map[name.Tag]v1.Image{
		name.MustParseReference("example.com/mt:amd64").(name.Tag): image(t, "linux/amd64", rawLayer(t, file("a", "amd64"))),
		name.MustParseReference("example.com/mt:arm64").(name.Tag): image(t, "linux/arm64", rawLayer(t, file("a", "arm64"))),
	}); err != nil {
		t.Fatal(err)
	}

	// A docker-archive whose index.json (as newer exporters add) lists
	// several platforms.
	multiIndex, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{
		{MediaType: types.OCIManifestSchema1, Digest: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("a", 64)}, Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}},
		{MediaType: types.OCIManifestSchema1, Digest: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("b", 64)}, Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}},
	}})
	multiPlatform := rewriteTar(t, good, nil, file("index.json", string(multiIndex)))

	manifest := readManifest(t, good)
	missingLayer := rewriteTar(t, good, func(n string) bool { return n == manifest[0].Layers[1] })
	missingManifest := rewriteTar(t, good, func(n string) bool { return n == "manifest.json" })

	wholeGzip := filepath.Join(t.TempDir(), "image.tar.gz")
	raw, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wholeGzip, gzipOf(t, raw), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, path, errHas string
	}{
		{"gzip layers", gzipped, "gzip-compressed (magic 1f 8b); RouterOS needs uncompressed layers"},
		{"zstd layers", zstd, "zstd-compressed"},
		{"layer is not a tar", garbage, "not a plain tar"},
		{"layer is a truncated tar", cut, "not a plain tar"},
		{"layer does not match its diff ID", dockerArchive(t, lying), "the config records diff ID " + otherDiffID.String()},
		{"config without a platform", dockerArchive(t, noPlatform), "declares no platform"},
		{"two images", twoImages, "manifest.json lists 2 images; RouterOS imports exactly one"},
		{"multi-platform index.json", multiPlatform, "index.json lists 2 images"},
		{"multi-platform OCI archive", tarDir(t, ociLayout(t, index(t, allPlatforms...), true), ""), "it is an OCI archive"},
		{"layer missing", missingLayer, "layer 1 (" + manifest[0].Layers[1] + ") named by manifest.json is not in the archive"},
		{"no manifest.json, no index.json", missingManifest, "no manifest.json"},
		{"archive is gzip-compressed", wholeGzip, "the archive itself is gzip-compressed"},
		{"not a tar", notATar(t), "reading archive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckRouterOSTarball(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Fatalf("error\n got %v\nwant one containing %q", err, tc.errHas)
			}
			if !strings.Contains(err.Error(), "is not a tarball RouterOS can import") {
				t.Fatalf("error %q does not say what failed", err)
			}
		})
	}
}

func withPlatform(t *testing.T, img v1.Image, platform string) v1.Image {
	t.Helper()
	p, _ := v1.ParsePlatform(platform)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func readManifest(t *testing.T, archive string) tarball.Manifest {
	t.Helper()
	m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(archive) })
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// rewriteTar copies the archive at src, leaving out entries for which drop
// returns true and appending add.
func rewriteTar(t *testing.T, src string, drop func(string) bool, add ...entry) string {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out := filepath.Join(t.TempDir(), "rewritten.tar")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, tw := tar.NewReader(in), tar.NewWriter(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if drop != nil && drop(h.Name) {
			continue
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range add {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(e.body))}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// gzipOf compresses b.
func gzipOf(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
