package ocicheck

import (
	"encoding/json"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// memIndex is an OCI layout held in memory: ggcr's layout package only
// reads directories, and unpacking an archive to a temporary directory
// would leave the caller a directory to remove. It mirrors layout's index.
type memIndex struct {
	mediaType types.MediaType
	raw       []byte
	blobs     map[v1.Hash][]byte
}

var _ v1.ImageIndex = (*memIndex)(nil)

func newMemIndex(raw []byte, blobs map[v1.Hash][]byte) *memIndex {
	return &memIndex{mediaType: types.OCIImageIndex, raw: raw, blobs: blobs}
}

func (i *memIndex) MediaType() (types.MediaType, error) { return i.mediaType, nil }
func (i *memIndex) Digest() (v1.Hash, error)            { return partial.Digest(i) }
func (i *memIndex) Size() (int64, error)                { return partial.Size(i) }
func (i *memIndex) RawManifest() ([]byte, error)        { return i.raw, nil }

func (i *memIndex) IndexManifest() (*v1.IndexManifest, error) {
	var im v1.IndexManifest
	if err := json.Unmarshal(i.raw, &im); err != nil {
		return nil, fmt.Errorf("parsing index: %w", err)
	}
	return &im, nil
}

func (i *memIndex) blob(h v1.Hash) ([]byte, error) {
	b, ok := i.blobs[h]
	if !ok {
		return nil, fmt.Errorf("blob %s is missing from the archive", h)
	}
	return b, nil
}

func (i *memIndex) descriptor(h v1.Hash) (v1.Descriptor, error) {
	im, err := i.IndexManifest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	for _, d := range im.Manifests {
		if d.Digest == h {
			return d, nil
		}
	}
	return v1.Descriptor{}, fmt.Errorf("%s is not in the index", h)
}

func (i *memIndex) Image(h v1.Hash) (v1.Image, error) {
	d, err := i.descriptor(h)
	if err != nil {
		return nil, err
	}
	if !d.MediaType.IsImage() {
		return nil, fmt.Errorf("%s is a %s, not an image manifest", h, d.MediaType)
	}
	raw, err := i.blob(h)
	if err != nil {
		return nil, err
	}
	return partial.CompressedToImage(&memImage{desc: d, raw: raw, blobs: i.blobs})
}

func (i *memIndex) ImageIndex(h v1.Hash) (v1.ImageIndex, error) {
	d, err := i.descriptor(h)
	if err != nil {
		return nil, err
	}
	if !d.MediaType.IsIndex() {
		return nil, fmt.Errorf("%s is a %s, not an index", h, d.MediaType)
	}
	raw, err := i.blob(h)
	if err != nil {
		return nil, err
	}
	return &memIndex{mediaType: d.MediaType, raw: raw, blobs: i.blobs}, nil
}

// memImage is one image manifest of a memIndex.
type memImage struct {
	desc  v1.Descriptor
	raw   []byte
	blobs map[v1.Hash][]byte
}

var _ partial.CompressedImageCore = (*memImage)(nil)

func (m *memImage) MediaType() (types.MediaType, error) { return m.desc.MediaType, nil }
func (m *memImage) RawManifest() ([]byte, error)        { return m.raw, nil }

func (m *memImage) RawConfigFile() ([]byte, error) {
	mf, err := partial.Manifest(m)
	if err != nil {
		return nil, err
	}
	b, ok := m.blobs[mf.Config.Digest]
	if !ok {
		return nil, fmt.Errorf("config blob %s is missing from the archive", mf.Config.Digest)
	}
	return b, nil
}

func (m *memImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	mf, err := partial.Manifest(m)
	if err != nil {
		return nil, err
	}
	for _, d := range append([]v1.Descriptor{mf.Config}, mf.Layers...) {
		if d.Digest != h {
			continue
		}
		b, ok := m.blobs[h]
		if !ok {
			return nil, fmt.Errorf("layer blob %s is missing from the archive", h)
		}
		return &memBlob{desc: d, b: b}, nil
	}
	return nil, fmt.Errorf("%s is not a layer of this image", h)
}

// memBlob is a layer or config blob of a memImage.
type memBlob struct {
	desc v1.Descriptor
	b    []byte
}

func (b *memBlob) Digest() (v1.Hash, error)            { return b.desc.Digest, nil }
func (b *memBlob) Size() (int64, error)                { return int64(len(b.b)), nil }
func (b *memBlob) MediaType() (types.MediaType, error) { return b.desc.MediaType, nil }
func (b *memBlob) Compressed() (io.ReadCloser, error)  { return blobReader(b.b), nil }
func (b *memBlob) Descriptor() (*v1.Descriptor, error) { return &b.desc, nil }
