package ocicheck

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// EntryType is what a layer's tar entry does to the filesystem.
type EntryType string

// Entry types. Whiteouts are the OCI/AUFS markers a layer uses to delete
// something from the layers below it.
const (
	Dir            EntryType = "dir"
	Regular        EntryType = "file"
	Symlink        EntryType = "symlink"
	Hardlink       EntryType = "hardlink"
	Whiteout       EntryType = "whiteout"        // .wh.<name>: deletes <name>
	OpaqueWhiteout EntryType = "opaque-whiteout" // .wh..wh..opq: empties its directory
	Other          EntryType = "other"           // devices, fifos
)

const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
)

// File is one entry of a layer.
type File struct {
	// Path is relative to the image root, without a leading "./" or "/"
	// or a trailing slash. For a whiteout it is the path being deleted;
	// for an opaque whiteout, the directory being emptied.
	Path string    `json:"path"`
	Type EntryType `json:"type"`
	// Size is the content size of a regular file, else 0.
	Size int64 `json:"size,omitempty"`
	// Link is the target of a symlink or hardlink.
	Link string `json:"link,omitempty"`
}

// Layer is what one layer ships.
type Layer struct {
	Index     int    `json:"index"`
	Digest    string `json:"digest"`
	DiffID    string `json:"diffID"`
	MediaType string `json:"mediaType"`
	// Compressed is the blob size as stored and pulled.
	Compressed int64 `json:"compressed"`
	// Uncompressed is the size of the layer's tar stream.
	Uncompressed int64  `json:"uncompressed"`
	Files        []File `json:"files"`
}

// Inspection is what Inspect read from one image: every layer with its
// files and sizes, and the size totals.
type Inspection struct {
	Layers []Layer `json:"layers"`
	// Compressed and Uncompressed are the layer totals (the config and
	// manifest, a few hundred bytes, are not counted).
	Compressed   int64 `json:"compressed"`
	Uncompressed int64 `json:"uncompressed"`
}

// Inspect reads every layer of img. It also checks each layer's content
// against the diff ID the image config records, so a corrupt export is an
// error rather than a report about the wrong bytes.
func Inspect(img v1.Image) (Inspection, error) {
	layers, err := img.Layers()
	if err != nil {
		return Inspection{}, fmt.Errorf("listing layers: %w", err)
	}
	var r Inspection
	for i, l := range layers {
		li, err := inspectLayer(i, l)
		if err != nil {
			return Inspection{}, fmt.Errorf("layer %d: %w", i, err)
		}
		r.Layers = append(r.Layers, li)
		r.Compressed += li.Compressed
		r.Uncompressed += li.Uncompressed
	}
	return r, nil
}

func inspectLayer(i int, l v1.Layer) (Layer, error) {
	out := Layer{Index: i}
	d, err := l.Digest()
	if err != nil {
		return out, err
	}
	diffID, err := l.DiffID()
	if err != nil {
		return out, err
	}
	mt, err := l.MediaType()
	if err != nil {
		return out, err
	}
	size, err := l.Size()
	if err != nil {
		return out, err
	}
	out.Digest, out.DiffID, out.MediaType, out.Compressed = d.String(), diffID.String(), string(mt), size

	rc, err := l.Uncompressed()
	if err != nil {
		return out, err
	}
	defer rc.Close()
	cr := &countingReader{r: rc, h: sha256.New()}
	tr := tar.NewReader(cr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return out, fmt.Errorf("reading tar: %w", err)
		}
		if f, ok := fileOf(h); ok {
			out.Files = append(out.Files, f)
		}
	}
	// The tar reader stops at the end-of-archive marker; the rest (padding)
	// is still part of the layer's size and diff ID.
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return out, fmt.Errorf("reading tar: %w", err)
	}
	out.Uncompressed = cr.n
	if got := "sha256:" + hex.EncodeToString(cr.h.Sum(nil)); diffID.Algorithm == "sha256" && got != diffID.String() {
		return out, fmt.Errorf("content hashes to %s but the image records diff ID %s", got, diffID)
	}
	return out, nil
}

// fileOf describes a tar header; the root directory itself is skipped.
func fileOf(h *tar.Header) (File, bool) {
	p := cleanPath(h.Name)
	if p == "" {
		return File{}, false
	}
	dir, base := "", p
	if j := strings.LastIndexByte(p, '/'); j >= 0 {
		dir, base = p[:j], p[j+1:]
	}
	switch {
	case base == opaqueMarker:
		return File{Path: dir, Type: OpaqueWhiteout}, true
	case strings.HasPrefix(base, whiteoutPrefix):
		return File{Path: joinPath(dir, strings.TrimPrefix(base, whiteoutPrefix)), Type: Whiteout}, true
	}
	f := File{Path: p}
	switch h.Typeflag {
	case tar.TypeDir:
		f.Type = Dir
	case tar.TypeReg:
		f.Type, f.Size = Regular, h.Size
	case tar.TypeSymlink:
		f.Type, f.Link = Symlink, h.Linkname
	case tar.TypeLink:
		f.Type, f.Link = Hardlink, cleanPath(h.Linkname)
	default:
		f.Type = Other
	}
	return f, true
}

func joinPath(dir, base string) string {
	if dir == "" {
		return base
	}
	return dir + "/" + base
}

// countingReader counts and hashes what passes through it.
type countingReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.h.Write(p[:n])
	return n, err
}

// Duplicate is a non-directory path shipped by more than one layer.
type Duplicate struct {
	Path   string `json:"path"`
	Layers []int  `json:"layers"`
}

// DuplicatePaths returns every path that is a regular file, symlink,
// hardlink or special file in more than one layer, sorted by path. Such a
// path is stored once per layer and only the last copy is visible: the
// classic cause is a later step touching a file (chmod, chown, COPY over
// it), which makes overlayfs copy it up whole into the new layer.
// Directories may appear in many layers (each layer must carry the parents
// of what it adds) and whiteouts are deletions, so neither counts.
func (r Inspection) DuplicatePaths() []Duplicate {
	byPath := map[string][]int{}
	for _, l := range r.Layers {
		for _, f := range l.Files {
			if f.Type == Dir || f.Type == Whiteout || f.Type == OpaqueWhiteout {
				continue
			}
			if ls := byPath[f.Path]; len(ls) == 0 || ls[len(ls)-1] != l.Index {
				byPath[f.Path] = append(ls, l.Index)
			}
		}
	}
	var out []Duplicate
	for p, ls := range byPath {
		if len(ls) > 1 {
			out = append(out, Duplicate{Path: p, Layers: ls})
		}
	}
	slices.SortFunc(out, func(a, b Duplicate) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// LayersContaining returns the indexes of the layers that have an entry
// (of any kind but a whiteout) at path. path is normalised like the
// inspection's paths, so "/usr/local/bin/x" and "./usr/local/bin/x" work too.
func (r Inspection) LayersContaining(path string) []int {
	p := cleanPath(path)
	var out []int
	for _, l := range r.Layers {
		if slices.ContainsFunc(l.Files, func(f File) bool {
			return f.Path == p && f.Type != Whiteout && f.Type != OpaqueWhiteout
		}) {
			out = append(out, l.Index)
		}
	}
	return out
}

// file returns the entry for path in layer i.
func (r Inspection) file(i int, path string) (File, bool) {
	for _, f := range r.Layers[i].Files {
		if f.Path == path && f.Type != Whiteout && f.Type != OpaqueWhiteout {
			return f, true
		}
	}
	return File{}, false
}
