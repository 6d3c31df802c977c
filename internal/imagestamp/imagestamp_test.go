package imagestamp

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"dagger/mikrotik-tailscale/internal/ocicheck"
)

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// layerTar is a layer with one file stamped with the epoch (as
// withTimestamps leaves files) and a symlink stamped with the build time
// (as it leaves symlinks).
func layerTar(t *testing.T, name, body string, built time.Time) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	io.WriteString(tw, body)
	if err := tw.WriteHeader(&tar.Header{Name: name + "-link", Typeflag: tar.TypeSymlink, Linkname: path.Base(name), Mode: 0o777,
		ModTime: built, Format: tar.FormatPAX}); err != nil {
		t.Fatal(err)
	}
	tw.Close()
	return b.Bytes()
}

func gzipped(t *testing.T, b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// dockerArchive builds what the engine's AsTarball with Docker media types
// writes for one platform: an OCI layout whose index points at a docker
// v2 manifest, plus manifest.json, with the build times and the cache
// record's description (history created_by) given.
func dockerArchive(t *testing.T, built time.Time, arch string, gz bool, createdBy string) []byte {
	t.Helper()
	tars := [][]byte{layerTar(t, "etc/a", "a", built), layerTar(t, "bin/b", "b-"+arch, built)}
	var diffIDs, history []any
	var layerDescs []any
	var layers [][]byte
	for _, l := range tars {
		diffIDs = append(diffIDs, "sha256:"+digestOf(l))
		history = append(history, map[string]any{"created": built.Format(time.RFC3339Nano), "created_by": createdBy})
		mt := "application/vnd.docker.image.rootfs.diff.tar"
		if gz {
			l, mt = gzipped(t, l), mt+".gzip"
		}
		layers = append(layers, l)
		layerDescs = append(layerDescs, map[string]any{"mediaType": mt, "digest": "sha256:" + digestOf(l), "size": len(l)})
	}
	cfg, _ := json.Marshal(map[string]any{
		"architecture": arch, "os": "linux", "created": built.Format(time.RFC3339Nano), "history": history,
		"config": map[string]any{"Labels": map[string]string{"org.opencontainers.image.created": "1970-01-01T00:00:00Z"}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	man, _ := json.MarshalIndent(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
		"config": map[string]any{"mediaType": "application/vnd.docker.container.image.v1+json", "digest": "sha256:" + digestOf(cfg), "size": len(cfg)},
		"layers": layerDescs,
	}, "", "  ")
	idx, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
		"manifests": []any{map[string]any{"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "digest": "sha256:" + digestOf(man), "size": len(man)}}})
	var layerPaths []string
	for _, l := range layers {
		layerPaths = append(layerPaths, blobDir+digestOf(l))
	}
	mj, _ := json.Marshal([]any{map[string]any{"Config": blobDir + digestOf(cfg), "RepoTags": nil, "Layers": layerPaths}})

	// Entries in name order, as the engine writes them: blob positions
	// follow the (build-dependent) original digests.
	files := map[string][]byte{blobDir + digestOf(cfg): cfg, blobDir + digestOf(man): man,
		"index.json": idx, "manifest.json": mj, "oci-layout": []byte(`{"imageLayoutVersion":"1.0.0"}`)}
	for _, l := range layers {
		files[blobDir+digestOf(l)] = l
	}
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, name := range names {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o444, Size: int64(len(files[name])), ModTime: time.Unix(0, 0)}); err != nil {
			t.Fatal(err)
		}
		tw.Write(files[name])
	}
	tw.Close()
	return b.Bytes()
}

func writeTemp(t *testing.T, b []byte) string {
	p := filepath.Join(t.TempDir(), "image.tar")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var commit = time.Date(2026, 6, 2, 13, 54, 52, 0, time.UTC)

// stamp is what the module writes: the commit time and the recipe's
// description of each of the fixture's two layers.
var stamp = Stamp{Created: commit, History: []string{"recipe: etc", "recipe: bin"}}

// What the engine (v0.21.8) writes as created_by: a layer it just built,
// and the same layer from its cache after a restart.
const (
	builtNow   = "Directory.withDirectory"
	rehydrated = "rehydrated persisted snapshot"
)

// Two builds at different times, one fresh and one from a restarted
// engine's cache, become the same bytes, which still form an importable
// RouterOS archive whose config carries the commit time and the recipe's
// history and whose layers are untouched.
func TestRewriteDockerArchive(t *testing.T) {
	a := dockerArchive(t, time.Date(2026, 12, 1, 21, 51, 20, 330209510, time.UTC), "arm", false, builtNow)
	b := dockerArchive(t, time.Date(2026, 12, 2, 8, 0, 0, 1, time.UTC), "arm", false, rehydrated)
	if bytes.Equal(a, b) {
		t.Fatal("fixture: builds at different times are already identical")
	}
	ra, err := RewriteBytes(a, stamp)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := RewriteBytes(b, stamp)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ra, rb) {
		t.Fatal("rewritten archives of the same content differ")
	}
	again, err := RewriteBytes(ra, stamp)
	if err != nil || !bytes.Equal(again, ra) {
		t.Fatalf("rewriting twice changed the archive (%v)", err)
	}
	file := writeTemp(t, ra)
	if err := ocicheck.CheckRouterOSTarball(file); err != nil {
		t.Fatal(err)
	}
	img, err := ocicheck.LoadDockerTarball(file)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !cf.Created.Time.Equal(commit) {
		t.Errorf("created %s, want %s", cf.Created.Time, commit)
	}
	for i, h := range cf.History {
		if !h.Created.Time.Equal(commit) || h.CreatedBy != stamp.History[i] {
			t.Errorf("history %d: %+v", i, h)
		}
	}
	if cf.Config.Labels["org.opencontainers.image.created"] != "1970-01-01T00:00:00Z" {
		t.Errorf("labels changed: %v", cf.Config.Labels)
	}
	checkLayerTimes(t, img)
}

// checkLayerTimes: every entry carries the commit time (the file the
// fixture stamped with the epoch and the symlink stamped with the build
// time alike), and the layers' diff IDs are what the config says.
func checkLayerTimes(t *testing.T, img interface {
	Layers() ([]v1.Layer, error)
}) {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.New()
		tr := tar.NewReader(io.TeeReader(rc, sum))
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if !h.ModTime.Equal(commit) {
				t.Errorf("layer %d: %s has mtime %s, want the commit time", i, h.Name, h.ModTime)
			}
		}
		io.Copy(sum, rc)
		rc.Close()
		want, err := l.DiffID()
		if err != nil {
			t.Fatal(err)
		}
		if got := "sha256:" + hex.EncodeToString(sum.Sum(nil)); got != want.String() {
			t.Errorf("layer %d: content %s, config's diff ID %s", i, got, want)
		}
	}
}

// A multi-platform OCI layout (what a release exports): every platform's
// config is rewritten, and the index still loads with every platform.
func TestRewriteMultiPlatformIndex(t *testing.T) {
	// Nest two single-platform archives' manifests under one index.
	var blobs = map[string][]byte{}
	var descs []any
	for _, arch := range []string{"amd64", "arm64"} {
		tr := tar.NewReader(bytes.NewReader(dockerArchive(t, time.Now(), arch, true, builtNow)))
		var idx struct {
			Manifests []map[string]any `json:"manifests"`
		}
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			body, _ := io.ReadAll(tr)
			switch {
			case strings.HasPrefix(h.Name, blobDir):
				blobs[h.Name] = body
			case h.Name == "index.json":
				json.Unmarshal(body, &idx)
			}
		}
		d := idx.Manifests[0]
		d["platform"] = map[string]any{"os": "linux", "architecture": arch}
		descs = append(descs, d)
	}
	idx, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": descs})
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for name, body := range blobs {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o444, Size: int64(len(body))})
		tw.Write(body)
	}
	tw.WriteHeader(&tar.Header{Name: "index.json", Mode: 0o644, Size: int64(len(idx))})
	tw.Write(idx)
	layoutFile := []byte(`{"imageLayoutVersion":"1.0.0"}`)
	tw.WriteHeader(&tar.Header{Name: "oci-layout", Mode: 0o444, Size: int64(len(layoutFile))})
	tw.Write(layoutFile)
	tw.Close()

	out, err := RewriteBytes(b.Bytes(), stamp)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := ocicheck.LoadIndexFromOCITar(writeTemp(t, out))
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := ocicheck.Images(ix)
	if err != nil || len(imgs) != 2 {
		t.Fatalf("%d images (%v)", len(imgs), err)
	}
	for _, pi := range imgs {
		cf, err := pi.Image.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if !cf.Created.Time.Equal(commit) {
			t.Errorf("%s: created %s", pi.Platform, cf.Created.Time)
		}
		for i, h := range cf.History {
			if h.CreatedBy != stamp.History[i] {
				t.Errorf("%s: history %d created_by %q", pi.Platform, i, h.CreatedBy)
			}
		}
		// ggcr verifies each gzip'd blob's digest and diff ID on read.
		checkLayerTimes(t, pi.Image)
		for i, l := range mustLayers(t, pi.Image) {
			if _, err := io.Copy(io.Discard, mustUncompressed(t, l)); err != nil {
				t.Fatalf("%s layer %d: %v", pi.Platform, i, err)
			}
		}
	}
}

func mustLayers(t *testing.T, img v1.Image) []v1.Layer {
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

func mustUncompressed(t *testing.T, l v1.Layer) io.ReadCloser {
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

// The recipe's history must account for every layer: a config with
// another number of layers is not the image the recipe describes.
// Without a history, created_by stays as the engine wrote it.
func TestRewriteHistoryCount(t *testing.T) {
	a := dockerArchive(t, time.Now(), "arm", false, rehydrated)
	short := Stamp{Created: commit, History: stamp.History[:1]}
	if _, err := RewriteBytes(a, short); err == nil || !strings.Contains(err.Error(), "2 layer history entries, the recipe 1 layers") {
		t.Fatalf("one history entry for two layers: err = %v", err)
	}
	out, err := RewriteBytes(a, Stamp{Created: commit})
	if err != nil {
		t.Fatal(err)
	}
	img, err := ocicheck.LoadDockerTarball(writeTemp(t, out))
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range cf.History {
		if h.CreatedBy != rehydrated || !h.Created.Time.Equal(commit) {
			t.Errorf("history %d: %+v", i, h)
		}
	}
}

func TestRewriteRejectsWhatIsNoImageLayout(t *testing.T) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: "hello", Mode: 0o644, Size: 2})
	tw.Write([]byte("hi"))
	tw.Close()
	if _, err := RewriteBytes(b.Bytes(), stamp); err == nil || !strings.Contains(err.Error(), "index.json") {
		t.Fatalf("err = %v", err)
	}
	if _, err := RewriteBytes([]byte("not a tar"), stamp); err == nil {
		t.Fatal("garbage accepted")
	}
}
