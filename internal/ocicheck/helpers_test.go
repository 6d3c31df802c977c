package ocicheck

import (
	"archive/tar"
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// entry is one tar entry of a synthetic layer.
type entry struct {
	name string
	typ  byte
	body string
	link string
}

func dir(n string) entry              { return entry{name: n, typ: tar.TypeDir} }
func file(n, body string) entry       { return entry{name: n, typ: tar.TypeReg, body: body} }
func symlink(n, target string) entry  { return entry{name: n, typ: tar.TypeSymlink, link: target} }
func hardlink(n, target string) entry { return entry{name: n, typ: tar.TypeLink, link: target} }

func tarOf(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: 0o755, Size: int64(len(e.body))}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			if _, err := io.WriteString(tw, e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gzLayer is a gzip-compressed layer, as registries and OCI exports carry.
func gzLayer(t *testing.T, entries ...entry) v1.Layer {
	t.Helper()
	b := tarOf(t, entries...)
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// rawLayer is an uncompressed layer, as RouterOS imports.
func rawLayer(t *testing.T, entries ...entry) v1.Layer {
	t.Helper()
	return static.NewLayer(tarOf(t, entries...), types.DockerUncompressedLayer)
}

// image builds an image for platform ("linux/arm/v7") from layers.
func image(t *testing.T, platform string, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v1.ParsePlatform(platform); err != nil {
		t.Fatal(err)
	}
	return withPlatform(t, img, platform)
}

// binaryImage is an image whose only layer holds a distinct binary.
func binaryImage(t *testing.T, platform string) v1.Image {
	return image(t, platform, gzLayer(t,
		dir("usr/"), dir("usr/local/"), dir("usr/local/bin/"),
		file("usr/local/bin/tailscale.combined", "ELF for "+platform)))
}

// index puts images in an OCI index with their platforms on the
// descriptors, as a multi-platform export does.
func index(t *testing.T, platforms ...string) v1.ImageIndex {
	t.Helper()
	var adds []mutate.IndexAddendum
	for _, p := range platforms {
		pl, err := v1.ParsePlatform(p)
		if err != nil {
			t.Fatal(err)
		}
		adds = append(adds, mutate.IndexAddendum{Add: binaryImage(t, p), Descriptor: v1.Descriptor{Platform: pl}})
	}
	return mutate.AppendManifests(empty.Index, adds...)
}

// tarDir writes dir as a tar file, entry names prefixed with prefix ("" or
// "./"), the way `tar -C dir -cf out .` would.
func tarDir(t *testing.T, root, prefix string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "archive.tar")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		h, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		h.Name = prefix + filepath.ToSlash(rel)
		if d.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// writeTar writes a tar of the given files (name → content).
func writeTar(t *testing.T, files ...entry) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "archive.tar")
	if err := os.WriteFile(out, tarOf(t, files...), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// dockerArchive writes img as a docker-archive (what `docker save` writes).
func dockerArchive(t *testing.T, img v1.Image) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "image.tar")
	if err := tarball.WriteToFile(out, name.MustParseReference("ghcr.io/example/mikrotik-tailscale:test"), img); err != nil {
		t.Fatal(err)
	}
	return out
}

func digestOf(t *testing.T, d interface{ Digest() (v1.Hash, error) }) v1.Hash {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h
}
