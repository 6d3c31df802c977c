package ocicheck

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// maxMetadata is the largest archive entry kept in memory in the first
// pass: manifests, configs and index.json are a few KB, layers are never
// read whole.
const maxMetadata = 1 << 20

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// CheckRouterOSTarball verifies the file a user uploads to RouterOS:
// RouterOS imports a docker-archive (manifest.json) holding one image for
// one platform, with uncompressed layers. It rejects OCI archives,
// multi-platform archives and gzip-compressed layers, so each of those is
// an error here that names the problem. Every layer must be a complete
// plain tar whose sha256 is the diff ID its config records.
func CheckRouterOSTarball(file string) error {
	if err := checkRouterOSTarball(file); err != nil {
		return fmt.Errorf("%s is not a tarball RouterOS can import: %w", file, err)
	}
	return nil
}

func checkRouterOSTarball(file string) error {
	if err := checkNotCompressed(file); err != nil {
		return err
	}
	// Pass 1: metadata. manifest.json may come after the layers, so the
	// layers are checked in a second pass once we know which entries they are.
	meta := map[string][]byte{}
	links := map[string]string{}
	regular := map[string]bool{}
	err := walkTar(file, func(h *tar.Header, r io.Reader) error {
		name := cleanPath(h.Name)
		switch h.Typeflag {
		case tar.TypeSymlink:
			links[name] = cleanPath(path.Join(path.Dir(name), h.Linkname))
		case tar.TypeLink:
			links[name] = cleanPath(h.Linkname)
		case tar.TypeReg:
			regular[name] = true
			if h.Size <= maxMetadata {
				b, err := io.ReadAll(r)
				if err != nil {
					return err
				}
				meta[name] = b
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	rawManifest, ok := meta["manifest.json"]
	if !ok {
		if _, oci := meta["index.json"]; oci {
			return errors.New("it is an OCI archive (index.json, no manifest.json); export it as a docker-archive")
		}
		return errors.New("no manifest.json: not a docker-archive")
	}
	var m tarball.Manifest
	if err := json.Unmarshal(rawManifest, &m); err != nil {
		return fmt.Errorf("manifest.json: %w", err)
	}
	if len(m) != 1 {
		return fmt.Errorf("manifest.json lists %d images; RouterOS imports exactly one", len(m))
	}
	if raw, ok := meta["index.json"]; ok {
		if n, err := countImages(raw, meta, 0); err != nil {
			return fmt.Errorf("index.json: %w", err)
		} else if n > 1 {
			return fmt.Errorf("index.json lists %d images: a multi-platform archive; RouterOS needs one platform", n)
		}
	}
	resolve := func(name string) (string, bool) {
		name = cleanPath(name)
		for range 16 {
			if regular[name] {
				return name, true
			}
			target, ok := links[name]
			if !ok {
				return "", false
			}
			name = target
		}
		return "", false
	}

	entry := m[0]
	cfgName, ok := resolve(entry.Config)
	if !ok {
		return fmt.Errorf("config %s named by manifest.json is not in the archive", entry.Config)
	}
	rawCfg, ok := meta[cfgName]
	if !ok {
		return fmt.Errorf("config %s is larger than %s: not an image config", entry.Config, Bytes(maxMetadata))
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(rawCfg))
	if err != nil {
		return fmt.Errorf("config %s: %w", entry.Config, err)
	}
	if cfg.OS == "" || cfg.Architecture == "" {
		return fmt.Errorf("config %s declares no platform (os %q, architecture %q)", entry.Config, cfg.OS, cfg.Architecture)
	}
	if len(entry.Layers) != len(cfg.RootFS.DiffIDs) {
		return fmt.Errorf("manifest.json lists %d layers but the config records %d diff IDs", len(entry.Layers), len(cfg.RootFS.DiffIDs))
	}

	// Pass 2: each layer must be an uncompressed tar matching its diff ID.
	want := map[string][]int{} // archive entry → layer indexes using it
	for i, l := range entry.Layers {
		name, ok := resolve(l)
		if !ok {
			return fmt.Errorf("layer %d (%s) named by manifest.json is not in the archive", i, l)
		}
		want[name] = append(want[name], i)
	}
	checked := map[string]bool{}
	err = walkTar(file, func(h *tar.Header, r io.Reader) error {
		name := cleanPath(h.Name)
		idxs, ok := want[name]
		if !ok || h.Typeflag != tar.TypeReg || checked[name] {
			return nil
		}
		checked[name] = true
		sum, err := checkPlainTar(r)
		if err != nil {
			return fmt.Errorf("layer %d (%s): %w", idxs[0], name, err)
		}
		for _, i := range idxs {
			if d := cfg.RootFS.DiffIDs[i]; d.String() != sum {
				return fmt.Errorf("layer %d (%s) hashes to %s but the config records diff ID %s", i, name, sum, d)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return nil
}

// checkPlainTar reads a whole layer, requiring an uncompressed tar, and
// returns its sha256.
func checkPlainTar(r io.Reader) (string, error) {
	h := sha256.New()
	br := bufio.NewReader(io.TeeReader(r, h))
	head, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		return "", errors.New("gzip-compressed (magic 1f 8b); RouterOS needs uncompressed layers")
	case bytes.HasPrefix(head, zstdMagic):
		return "", errors.New("zstd-compressed (magic 28 b5 2f fd); RouterOS needs uncompressed layers")
	}
	tr := tar.NewReader(br)
	for {
		_, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("not a plain tar: %w", err)
		}
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// countImages counts the image entries of an OCI index, descending into
// nested indexes whose blobs are in the archive. Attestation manifests do
// not count.
func countImages(raw []byte, blobs map[string][]byte, depth int) (int, error) {
	if depth > maxNesting {
		return 0, fmt.Errorf("index nests more than %d levels deep", maxNesting)
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range im.Manifests {
		switch {
		case d.Annotations["vnd.docker.reference.type"] == "attestation-manifest":
		case d.MediaType.IsIndex():
			child, ok := blobs["blobs/"+d.Digest.Algorithm+"/"+d.Digest.Hex]
			if !ok {
				return 0, fmt.Errorf("nested index %s is not in the archive", d.Digest)
			}
			c, err := countImages(child, blobs, depth+1)
			if err != nil {
				return 0, err
			}
			n += c
		default:
			n++
		}
	}
	return n, nil
}

// checkNotCompressed rejects an archive that is itself compressed
// (a .tar.gz): RouterOS wants the plain tar.
func checkNotCompressed(file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		return errors.New("the archive itself is gzip-compressed; RouterOS needs the plain .tar")
	case bytes.HasPrefix(head, zstdMagic):
		return errors.New("the archive itself is zstd-compressed; RouterOS needs the plain .tar")
	}
	return nil
}

// walkTar calls fn for every entry of the tar at file.
func walkTar(file string, fn func(*tar.Header, io.Reader) error) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(bufio.NewReader(f))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading archive: %w", err)
		}
		if err := fn(h, tr); err != nil {
			return err
		}
	}
}
