// Package ocicheck inspects the images the pipeline exports, for the PR
// check: which files each layer carries, how big the image is, whether the
// Tailscale binary was stored twice by an overlayfs copy-up, and whether the
// tarball handed to RouterOS is in the one shape RouterOS imports.
//
// Everything here is plain go-containerregistry over files Dagger exported
// (OCI archives and docker-archive tarballs); no engine or daemon is
// involved.
package ocicheck

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// maxNesting bounds how many single-entry indexes LoadIndexFromOCITar
// unwraps. Real exports nest once; the bound only stops a malicious
// archive.
const maxNesting = 8

// LoadIndexFromOCITar reads an OCI archive (a tar holding oci-layout,
// index.json and blobs/) and returns the index of platform images.
//
// BuildKit and Dagger often write an index.json whose single entry is
// itself the multi-platform index; that wrapper is unwrapped, so the result
// lists the platform manifests either way. The archive is read into memory
// (our images are a few MB) and every sha256 blob is checked against its
// name, so the caller has nothing to clean up and a corrupt export fails
// here rather than as a confusing size or file-list difference later.
func LoadIndexFromOCITar(path string) (v1.ImageIndex, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	files, err := readTar(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	idx, err := indexFromFiles(files)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return idx, nil
}

// LoadDockerTarball reads a single-image docker-archive (the manifest.json
// format of `docker save`, which RouterOS imports). An archive with more
// than one image is an error: nothing here should pick one silently.
func LoadDockerTarball(path string) (v1.Image, error) {
	img, err := tarball.ImageFromPath(path, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: not a single-image docker-archive: %w", path, err)
	}
	return img, nil
}

// readTar returns every regular file of an archive by cleaned name.
func readTar(r io.Reader) (map[string][]byte, error) {
	files := map[string][]byte{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading tar: %w", err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", h.Name, err)
		}
		files[cleanPath(h.Name)] = b
	}
	return files, nil
}

// indexFromFiles turns the files of an OCI archive into an unwrapped index.
func indexFromFiles(files map[string][]byte) (v1.ImageIndex, error) {
	var ol struct {
		Version string `json:"imageLayoutVersion"`
	}
	raw, ok := files["oci-layout"]
	if !ok {
		if _, docker := files["manifest.json"]; docker {
			return nil, errors.New("not an OCI archive: it has manifest.json but no oci-layout (a docker-archive; use LoadDockerTarball)")
		}
		return nil, errors.New("not an OCI archive: no oci-layout file")
	}
	if err := json.Unmarshal(raw, &ol); err != nil || ol.Version == "" {
		return nil, fmt.Errorf("oci-layout is not valid JSON with an imageLayoutVersion: %q", raw)
	}
	rawIndex, ok := files["index.json"]
	if !ok {
		return nil, errors.New("not an OCI archive: no index.json")
	}
	blobs := map[v1.Hash][]byte{}
	for name, b := range files {
		rest, ok := strings.CutPrefix(name, "blobs/")
		if !ok {
			continue
		}
		alg, hexPart, ok := strings.Cut(rest, "/")
		if !ok {
			continue
		}
		h := v1.Hash{Algorithm: alg, Hex: hexPart}
		if alg == "sha256" {
			sum := sha256.Sum256(b)
			if got := hex.EncodeToString(sum[:]); got != hexPart {
				return nil, fmt.Errorf("blob %s is corrupt: its content hashes to sha256:%s", h, got)
			}
		}
		blobs[h] = b
	}
	return unwrap(newMemIndex(rawIndex, blobs))
}

// unwrap descends through indexes whose only entry is another index.
func unwrap(idx v1.ImageIndex) (v1.ImageIndex, error) {
	for range maxNesting {
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, fmt.Errorf("reading index: %w", err)
		}
		if len(im.Manifests) != 1 || !im.Manifests[0].MediaType.IsIndex() {
			return idx, nil
		}
		idx, err = idx.ImageIndex(im.Manifests[0].Digest)
		if err != nil {
			return nil, fmt.Errorf("reading nested index %s: %w", im.Manifests[0].Digest, err)
		}
	}
	return nil, fmt.Errorf("index nests more than %d levels deep", maxNesting)
}

// PlatformImage is one runnable image of an index.
type PlatformImage struct {
	// Platform is os/arch[/variant], e.g. "linux/arm/v7".
	Platform string
	// Digest is the image manifest's digest.
	Digest v1.Hash
	Image  v1.Image
}

// Images lists the platform images of an index, descending into nested
// indexes. Attestation manifests (BuildKit's unknown/unknown entries) are
// skipped. A descriptor without a platform gets it from the image config,
// as a single-platform export often has none.
func Images(idx v1.ImageIndex) ([]PlatformImage, error) {
	var out []PlatformImage
	if err := collect(idx, &out, 0); err != nil {
		return nil, err
	}
	return out, nil
}

func collect(idx v1.ImageIndex, out *[]PlatformImage, depth int) error {
	if depth > maxNesting {
		return fmt.Errorf("index nests more than %d levels deep", maxNesting)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return fmt.Errorf("reading index: %w", err)
	}
	for _, d := range im.Manifests {
		switch {
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return fmt.Errorf("reading nested index %s: %w", d.Digest, err)
			}
			if err := collect(child, out, depth+1); err != nil {
				return err
			}
		case d.MediaType.IsImage():
			if d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
				continue
			}
			img, err := idx.Image(d.Digest)
			if err != nil {
				return fmt.Errorf("reading image %s: %w", d.Digest, err)
			}
			p := d.Platform
			if p == nil {
				cf, err := img.ConfigFile()
				if err != nil {
					return fmt.Errorf("reading config of image %s: %w", d.Digest, err)
				}
				p = cf.Platform()
			}
			if p == nil || p.OS == "unknown" || p.OS == "" {
				continue
			}
			*out = append(*out, PlatformImage{Platform: platformKey(*p), Digest: d.Digest, Image: img})
		}
	}
	return nil
}

// platformKey writes a platform as os/arch[/variant]. arm64's default
// variant v8 is dropped: "linux/arm64" and "linux/arm64/v8" are the same
// target, and exporters differ in whether they write it.
func platformKey(p v1.Platform) string {
	variant := p.Variant
	if p.Architecture == "arm64" && variant == "v8" {
		variant = ""
	}
	key := p.OS + "/" + p.Architecture
	if variant != "" {
		key += "/" + variant
	}
	return key
}

// cleanPath normalises a path inside a tar: no leading "./" or "/", no
// trailing slash, "" for the root.
func cleanPath(p string) string {
	p = path.Clean("/" + p)
	return strings.TrimPrefix(p, "/")
}

// blobReader serves an in-memory blob.
func blobReader(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }
