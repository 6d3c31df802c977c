// Package imagestamp takes the build machine's clock and the engine's
// cache state out of an exported image. The Dagger engine (v0.21) stamps
// an image config's "created" and every history entry with the time it
// built the layers, keeps each symlink's creation time
// (Directory.withTimestamps follows symlinks), and offers no
// SOURCE_DATE_EPOCH: the same commit would then give a new digest on
// every engine with a cold cache, and a re-run of a release would be
// refused as different content. It also writes each history entry's
// created_by from the description of the layer's cache record, and that
// changes with the cache: "Directory.withDirectory" when the layer was
// just built, "rehydrated persisted snapshot" when it came from an
// engine that restarted since (with the times fixed, the one field in
// which a tarball from such an engine differs from a fresh build;
// docs/DEVELOPMENT.md).
// RewriteArchive sets those times to the commit time and created_by to
// the recipe's description of each layer in an exported OCI layout or
// docker archive, every layer entry's time included (what withTimestamps
// means to do), and fixes every digest that depends on them.
package imagestamp

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"
)

// Media types of the documents that reference other blobs.
var (
	indexTypes    = []string{"application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"}
	manifestTypes = []string{"application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"}
)

const blobDir = "blobs/sha256/"

// Layer media types, uncompressed and gzip'd.
var (
	tarLayerTypes  = []string{"application/vnd.docker.image.rootfs.diff.tar", "application/vnd.oci.image.layer.v1.tar"}
	gzipLayerTypes = []string{"application/vnd.docker.image.rootfs.diff.tar.gzip", "application/vnd.oci.image.layer.v1.tar+gzip"}
)

// entry is one file of the archive, kept in order.
type entry struct {
	hdr  *tar.Header
	body []byte
}

type archive struct {
	entries     []*entry
	byName      map[string]*entry
	created     string // as configs write it
	createdTime time.Time
	history     []string
}

// Stamp is what an exported image should say about how it was made.
type Stamp struct {
	// Created is the commit time: the config's created, every history
	// entry's and every layer entry's time.
	Created time.Time
	// History is the created_by of each layer's history entry, in layer
	// order (layout.History); a config with another number of layers is
	// an error. Empty leaves created_by as the engine wrote it.
	History []string
}

// RewriteArchive copies the tar archive in to out with every image
// config's created time, history times and history created_by set from
// s, and the manifests, indexes, index.json and (docker archives)
// manifest.json that reference a changed config updated to its new
// digest. Everything else is copied byte for byte; entries are written in
// name order.
func RewriteArchive(in io.Reader, out io.Writer, s Stamp) error {
	created := s.Created.UTC().Truncate(time.Second)
	a := &archive{byName: map[string]*entry{}, created: created.Format(time.RFC3339), createdTime: created, history: s.History}
	tr := tar.NewReader(in)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("imagestamp: reading the archive: %w", err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			return fmt.Errorf("imagestamp: reading %s: %w", h.Name, err)
		}
		e := &entry{hdr: h, body: body}
		a.entries = append(a.entries, e)
		a.byName[path.Clean(h.Name)] = e
	}
	idx := a.byName["index.json"]
	if idx == nil {
		return errors.New("imagestamp: the archive has no index.json (not an OCI layout)")
	}
	renamed := map[string]string{} // old blob digest → new
	newIdx, changed, err := a.rewriteIndex(idx.body, renamed)
	if err != nil {
		return fmt.Errorf("imagestamp: index.json: %w", err)
	}
	if changed {
		idx.body = newIdx
	}
	if m := a.byName["manifest.json"]; m != nil && len(renamed) > 0 {
		text := string(m.body)
		for old, nu := range renamed {
			text = strings.ReplaceAll(text, blobDir+old, blobDir+nu)
		}
		m.body = []byte(text)
	}
	// Entries in name order, as the engine writes them: the engine sorts
	// blobs by their original digests, which differ between builds even
	// when the rewritten ones do not.
	sort.SliceStable(a.entries, func(i, j int) bool { return a.entries[i].hdr.Name < a.entries[j].hdr.Name })
	tw := tar.NewWriter(out)
	for _, e := range a.entries {
		e.hdr.Size = int64(len(e.body))
		if err := tw.WriteHeader(e.hdr); err != nil {
			return err
		}
		if _, err := tw.Write(e.body); err != nil {
			return err
		}
	}
	return tw.Close()
}

// rewriteIndex rewrites the descriptors of an index document, returning
// the new document and whether anything changed.
func (a *archive) rewriteIndex(doc []byte, renamed map[string]string) ([]byte, bool, error) {
	var idx map[string]any
	if err := unmarshal(doc, &idx); err != nil {
		return nil, false, err
	}
	list, _ := idx["manifests"].([]any)
	changed := false
	for _, d := range list {
		desc, ok := d.(map[string]any)
		if !ok {
			return nil, false, errors.New("a manifest descriptor is not an object")
		}
		c, err := a.rewriteDescriptor(desc, renamed)
		if err != nil {
			return nil, false, err
		}
		changed = changed || c
	}
	if !changed {
		return doc, false, nil
	}
	out, err := json.Marshal(idx)
	return out, true, err
}

// rewriteDescriptor follows one descriptor of an index to its blob,
// rewrites it if it (or what it references) holds build times, and
// updates the descriptor's digest and size.
func (a *archive) rewriteDescriptor(desc map[string]any, renamed map[string]string) (bool, error) {
	mt, _ := desc["mediaType"].(string)
	dig, _ := desc["digest"].(string)
	if a.follow(desc, dig, renamed) {
		return true, nil
	}
	e, old, err := a.blob(dig)
	if err != nil {
		return false, err
	}
	var body []byte
	var changed bool
	switch {
	case contains(indexTypes, mt):
		body, changed, err = a.rewriteIndex(e.body, renamed)
	case contains(manifestTypes, mt):
		body, changed, err = a.rewriteManifest(e.body, renamed)
	default:
		return false, nil // attestations and the like: left as they are
	}
	if err != nil || !changed {
		return false, err
	}
	nu := a.replaceBlob(e, old, body, renamed)
	desc["digest"], desc["size"] = "sha256:"+nu, len(body)
	return true, nil
}

// rewriteManifest rewrites a manifest's config and the config descriptor.
func (a *archive) rewriteManifest(doc []byte, renamed map[string]string) ([]byte, bool, error) {
	var m map[string]any
	if err := unmarshal(doc, &m); err != nil {
		return nil, false, err
	}
	cd, ok := m["config"].(map[string]any)
	if !ok {
		return nil, false, errors.New("a manifest without a config")
	}
	dig, _ := cd["digest"].(string)
	if a.follow(cd, dig, renamed) {
		out, err := json.Marshal(m)
		return out, true, err
	}
	// Layers first: their new diff IDs go into the config.
	layers, _ := m["layers"].([]any)
	diffIDs := map[int]string{}
	layersChanged := false
	for i, l := range layers {
		ld, ok := l.(map[string]any)
		if !ok {
			return nil, false, errors.New("a layer descriptor is not an object")
		}
		diffID, changed, err := a.rewriteLayer(ld, renamed)
		if err != nil {
			return nil, false, fmt.Errorf("layer %d: %w", i, err)
		}
		if changed {
			diffIDs[i] = diffID
			layersChanged = true
		}
	}
	e, old, err := a.blob(dig)
	if err != nil {
		return nil, false, err
	}
	cfg, changed, err := a.rewriteConfig(e.body, diffIDs)
	if err != nil {
		return nil, false, err
	}
	if changed {
		nu := a.replaceBlob(e, old, cfg, renamed)
		cd["digest"], cd["size"] = "sha256:"+nu, len(cfg)
	}
	if !changed && !layersChanged {
		return doc, false, nil
	}
	out, err := json.Marshal(m)
	return out, true, err
}

// rewriteLayer sets a layer's entry times to the commit time and
// updates its descriptor; it returns the layer's new diff ID when it
// changed.
func (a *archive) rewriteLayer(desc map[string]any, renamed map[string]string) (string, bool, error) {
	mt, _ := desc["mediaType"].(string)
	dig, _ := desc["digest"].(string)
	gz := contains(gzipLayerTypes, mt)
	if !gz && !contains(tarLayerTypes, mt) {
		return "", false, fmt.Errorf("media type %q is not a tar or tar+gzip layer", mt)
	}
	if nu, ok := renamed[strings.TrimPrefix(dig, "sha256:")]; ok {
		// Already rewritten for another manifest: only its diff ID is needed.
		body := a.byName[blobDir+nu].body
		tarBytes, err := uncompressed(body, gz)
		if err != nil {
			return "", false, err
		}
		desc["digest"], desc["size"] = "sha256:"+nu, len(body)
		return "sha256:" + digest(tarBytes), true, nil
	}
	e, old, err := a.blob(dig)
	if err != nil {
		return "", false, err
	}
	tarBytes, err := uncompressed(e.body, gz)
	if err != nil {
		return "", false, err
	}
	fixed, changed, err := stampTar(tarBytes, a.createdTime)
	if err != nil || !changed {
		return "", false, err
	}
	body := fixed
	if gz {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b) // no name, no time: the same input, the same bytes
		if _, err := zw.Write(fixed); err != nil {
			return "", false, err
		}
		if err := zw.Close(); err != nil {
			return "", false, err
		}
		body = b.Bytes()
	}
	nu := a.replaceBlob(e, old, body, renamed)
	desc["digest"], desc["size"] = "sha256:"+nu, len(body)
	return "sha256:" + digest(fixed), true, nil
}

// uncompressed is a layer blob as a tar.
func uncompressed(body []byte, gz bool) ([]byte, error) {
	if !gz {
		return body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// stampTar sets every entry's time to created and drops access and change
// times; it reports whether anything changed. Not a clamp (BuildKit's
// rewrite-timestamp keeps older times): an entry older than the commit
// would keep the time a warm cache happened to build it.
func stampTar(in []byte, created time.Time) ([]byte, bool, error) {
	tr := tar.NewReader(bytes.NewReader(in))
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	changed := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, false, err
		}
		if !h.ModTime.Equal(created) {
			h.ModTime = created
			changed = true
		}
		if !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
			h.AccessTime, h.ChangeTime = time.Time{}, time.Time{}
			changed = true
		}
		for _, k := range []string{"mtime", "atime", "ctime"} {
			if _, ok := h.PAXRecords[k]; ok {
				delete(h.PAXRecords, k)
				changed = true
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, false, err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return nil, false, err
		}
	}
	if !changed {
		return in, false, nil
	}
	if err := tw.Close(); err != nil {
		return nil, false, err
	}
	return out.Bytes(), true, nil
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// rewriteConfig sets created, every history entry's created and each
// layer's created_by, and the diff IDs of rewritten layers (by layer
// index).
func (a *archive) rewriteConfig(doc []byte, diffIDs map[int]string) ([]byte, bool, error) {
	var c map[string]any
	if err := unmarshal(doc, &c); err != nil {
		return nil, false, err
	}
	changed := false
	if len(diffIDs) > 0 {
		rootfs, _ := c["rootfs"].(map[string]any)
		ids, _ := rootfs["diff_ids"].([]any)
		for i, id := range diffIDs {
			if i >= len(ids) {
				return nil, false, fmt.Errorf("config lists %d diff IDs, the manifest more layers", len(ids))
			}
			ids[i] = id
		}
		changed = true
	}
	set := func(obj map[string]any) {
		if v, ok := obj["created"]; ok && v != a.created {
			obj["created"] = a.created
			changed = true
		}
	}
	set(c)
	hist, _ := c["history"].([]any)
	var layerHist []map[string]any // history entries that made a layer
	for _, h := range hist {
		obj, ok := h.(map[string]any)
		if !ok {
			return nil, false, errors.New("a history entry is not an object")
		}
		set(obj)
		if empty, _ := obj["empty_layer"].(bool); !empty {
			layerHist = append(layerHist, obj)
		}
	}
	if len(a.history) > 0 {
		if len(layerHist) != len(a.history) {
			return nil, false, fmt.Errorf("config has %d layer history entries, the recipe %d layers", len(layerHist), len(a.history))
		}
		for i, obj := range layerHist {
			if obj["created_by"] != a.history[i] {
				obj["created_by"] = a.history[i]
				changed = true
			}
		}
	}
	if !changed {
		return doc, false, nil
	}
	out, err := json.Marshal(c)
	return out, true, err
}

// follow points desc at the new blob when the blob it names was already
// rewritten (a blob referenced twice).
func (a *archive) follow(desc map[string]any, digest string, renamed map[string]string) bool {
	nu, ok := renamed[strings.TrimPrefix(digest, "sha256:")]
	if !ok {
		return false
	}
	desc["digest"], desc["size"] = "sha256:"+nu, len(a.byName[blobDir+nu].body)
	return true
}

// unmarshal decodes JSON keeping numbers as written.
func unmarshal(doc []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	return d.Decode(v)
}

// blob finds the archive entry of a sha256 digest.
func (a *archive) blob(digest string) (*entry, string, error) {
	hexd, ok := strings.CutPrefix(digest, "sha256:")
	if !ok {
		return nil, "", fmt.Errorf("digest %q is not sha256", digest)
	}
	e := a.byName[blobDir+hexd]
	if e == nil {
		return nil, "", fmt.Errorf("blob %s is not in the archive", digest)
	}
	return e, hexd, nil
}

// replaceBlob gives an entry new content under its new digest's name.
func (a *archive) replaceBlob(e *entry, old string, body []byte, renamed map[string]string) string {
	nu := digest(body)
	delete(a.byName, blobDir+old)
	e.body = body
	e.hdr.Name = strings.TrimSuffix(e.hdr.Name, old) + nu
	a.byName[blobDir+nu] = e
	renamed[old] = nu
	return nu
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// RewriteBytes is RewriteArchive on an archive in memory.
func RewriteBytes(in []byte, s Stamp) ([]byte, error) {
	var out bytes.Buffer
	if err := RewriteArchive(bytes.NewReader(in), &out, s); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
