package ocicheck

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

var allPlatforms = []string{"linux/amd64", "linux/arm64", "linux/arm/v7"}

// ociLayout writes idx as an OCI layout directory in one of the two shapes
// exporters produce.
func ociLayout(t *testing.T, idx v1.ImageIndex, nested bool) string {
	t.Helper()
	dir := t.TempDir()
	if !nested {
		// index.json lists the platform manifests directly.
		if _, err := layout.Write(dir, idx); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	// index.json has one entry, itself the multi-platform index
	// (BuildKit's and Dagger's usual shape).
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLoadIndexFromOCITarBothShapes(t *testing.T) {
	want := index(t, allPlatforms...)
	wantDigest := digestOf(t, want)
	for _, tc := range []struct {
		name   string
		nested bool
		prefix string
	}{
		{"flat index.json", false, ""},
		{"nested index (BuildKit/Dagger)", true, ""},
		{"nested, ./-prefixed tar names", true, "./"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idx, err := LoadIndexFromOCITar(tarDir(t, ociLayout(t, want, tc.nested), tc.prefix))
			if err != nil {
				t.Fatal(err)
			}
			im, err := idx.IndexManifest()
			if err != nil {
				t.Fatal(err)
			}
			if len(im.Manifests) != 3 {
				t.Fatalf("loaded index lists %d manifests, want the 3 platform images", len(im.Manifests))
			}
			if got := digestOf(t, idx); got != wantDigest {
				t.Fatalf("unwrapped index digest %s, want the pushed index %s", got, wantDigest)
			}
			imgs, err := Images(idx)
			if err != nil {
				t.Fatal(err)
			}
			checkPlatforms(t, imgs)
			// The images must be fully readable from the archive.
			for _, pi := range imgs {
				r, err := Inspect(pi.Image)
				if err != nil {
					t.Fatalf("%s: %v", pi.Platform, err)
				}
				if got := r.LayersContaining("usr/local/bin/tailscale.combined"); !slices.Equal(got, []int{0}) {
					t.Fatalf("%s: binary in layers %v", pi.Platform, got)
				}
			}
		})
	}
}

func TestLoadIndexFromOCITarRejects(t *testing.T) {
	layoutDir := ociLayout(t, index(t, "linux/amd64"), false)
	corrupt := t.TempDir()
	if err := os.CopyFS(corrupt, os.DirFS(layoutDir)); err != nil {
		t.Fatal(err)
	}
	blobs, err := filepath.Glob(filepath.Join(corrupt, "blobs", "sha256", "*"))
	if err != nil || len(blobs) == 0 {
		t.Fatal("no blobs written", err)
	}
	if err := os.WriteFile(blobs[0], []byte("tampered"), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, path, errHas string
	}{
		{"corrupt blob", tarDir(t, corrupt, ""), "is corrupt"},
		{"docker-archive", dockerArchive(t, binaryImage(t, "linux/amd64")), "use LoadDockerTarball"},
		{"no oci-layout", writeTar(t, file("index.json", "{}")), "no oci-layout"},
		{"no index.json", writeTar(t, file("oci-layout", `{"imageLayoutVersion":"1.0.0"}`)), "no index.json"},
		{"not a tar", notATar(t), "reading tar"},
		{"missing file", filepath.Join(t.TempDir(), "missing.tar"), "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadIndexFromOCITar(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Fatalf("error %v, want one containing %q", err, tc.errHas)
			}
		})
	}
}

func TestImagesTakesPlatformFromConfigAndSkipsAttestations(t *testing.T) {
	attestation := image(t, "unknown/unknown", gzLayer(t, file("intoto.json", "{}")))
	idx := mutate.AppendManifests(empty.Index,
		// No platform on the descriptor: it must come from the config.
		mutate.IndexAddendum{Add: binaryImage(t, "linux/arm/v7")},
		mutate.IndexAddendum{Add: attestation, Descriptor: v1.Descriptor{
			Platform:    &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest"},
		}},
	)
	imgs, err := Images(idx)
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 1 || imgs[0].Platform != "linux/arm/v7" {
		t.Fatalf("Images = %+v, want only linux/arm/v7", imgs)
	}
}

// arm64's default variant v8 is the same target as plain arm64; Images
// names both linux/arm64 (exporters differ in whether they write it).
func TestImagesNameArm64WithoutV8(t *testing.T) {
	imgs, err := Images(index(t, "linux/amd64", "linux/arm64/v8", "linux/arm/v7"))
	if err != nil {
		t.Fatal(err)
	}
	checkPlatforms(t, imgs)
}

// checkPlatforms fails unless imgs are allPlatforms, in order.
func checkPlatforms(t *testing.T, imgs []PlatformImage) {
	t.Helper()
	var got []string
	for _, pi := range imgs {
		got = append(got, pi.Platform)
	}
	if !slices.Equal(got, allPlatforms) {
		t.Fatalf("platforms %v, want %v", got, allPlatforms)
	}
}

func TestLoadDockerTarball(t *testing.T) {
	img := image(t, "linux/arm/v7", rawLayer(t, file("a", "b")))
	got, err := LoadDockerTarball(dockerArchive(t, img))
	if err != nil {
		t.Fatal(err)
	}
	cf, err := got.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if p := platformKey(*cf.Platform()); p != "linux/arm/v7" {
		t.Fatalf("platform %s", p)
	}
	if _, err := LoadDockerTarball(tarDir(t, ociLayout(t, index(t, "linux/amd64"), false), "")); err == nil {
		t.Fatal("an OCI archive loaded as a docker-archive")
	}
}

func notATar(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "text.tar")
	if err := os.WriteFile(p, []byte(strings.Repeat("not a tar archive\n", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
