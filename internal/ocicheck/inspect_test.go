package ocicheck

import (
	"io"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const binary = "usr/local/bin/tailscale.combined"

var binaryBody = strings.Repeat("\x7fELF tailscale ", 2000)

func baseLayer(t *testing.T) v1.Layer {
	return gzLayer(t,
		dir("./"),
		dir("./etc/"), file("./etc/passwd", "root:x:0:0::/:/sbin/nologin\n"),
		dir("./usr/"), dir("./usr/local/"), dir("./usr/local/bin/"),
		file("./"+binary, binaryBody),
		symlink("./usr/local/bin/tailscale", "tailscale.combined"),
		hardlink("./usr/local/bin/tailscaled", "./"+binary),
	)
}

func TestInspect(t *testing.T) {
	second := gzLayer(t, dir("/usr/"), dir("/usr/local/"), dir("/usr/local/bin/"), file("/usr/local/bin/busybox", "bb"),
		file("var/lib/.wh.old", ""), file("tmp/.wh..wh..opq", ""))
	img := image(t, "linux/amd64", baseLayer(t), second)
	r, err := Inspect(img)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Layers) != 2 {
		t.Fatalf("%d layers", len(r.Layers))
	}
	l0 := r.Layers[0]
	wantFiles := []File{
		{Path: "etc", Type: Dir},
		{Path: "etc/passwd", Type: Regular, Size: 28},
		{Path: "usr", Type: Dir},
		{Path: "usr/local", Type: Dir},
		{Path: "usr/local/bin", Type: Dir},
		{Path: binary, Type: Regular, Size: int64(len(binaryBody))},
		{Path: "usr/local/bin/tailscale", Type: Symlink, Link: "tailscale.combined"},
		{Path: "usr/local/bin/tailscaled", Type: Hardlink, Link: binary},
	}
	if !slices.Equal(l0.Files, wantFiles) {
		t.Fatalf("layer 0 files\n got %+v\nwant %+v", l0.Files, wantFiles)
	}
	wantWhiteouts := []File{{Path: "var/lib/old", Type: Whiteout}, {Path: "tmp", Type: OpaqueWhiteout}}
	if got := r.Layers[1].Files[4:]; !slices.Equal(got, wantWhiteouts) {
		t.Fatalf("whiteouts %+v, want %+v", got, wantWhiteouts)
	}

	layers, _ := img.Layers()
	for i, l := range layers {
		li := r.Layers[i]
		d, _ := l.Digest()
		diffID, _ := l.DiffID()
		size, _ := l.Size()
		rc, _ := l.Uncompressed()
		raw, _ := io.ReadAll(rc)
		if li.Index != i || li.Digest != d.String() || li.DiffID != diffID.String() || li.Compressed != size {
			t.Errorf("layer %d identity %+v, want digest %s diffID %s size %d", i, li, d, diffID, size)
		}
		if li.Uncompressed != int64(len(raw)) {
			t.Errorf("layer %d uncompressed %d, want the tar stream's %d bytes", i, li.Uncompressed, len(raw))
		}
		if li.MediaType != "application/vnd.docker.image.rootfs.diff.tar.gzip" {
			t.Errorf("layer %d media type %s", i, li.MediaType)
		}
	}
	// The binary is repetitive, so gzip must shrink layer 0 a lot; this
	// proves the two sizes are measured separately.
	if l0.Compressed*4 > l0.Uncompressed {
		t.Errorf("layer 0 compressed %d vs uncompressed %d: sizes not measured separately", l0.Compressed, l0.Uncompressed)
	}
	if r.Compressed != r.Layers[0].Compressed+r.Layers[1].Compressed ||
		r.Uncompressed != r.Layers[0].Uncompressed+r.Layers[1].Uncompressed {
		t.Errorf("totals %d/%d do not add up", r.Compressed, r.Uncompressed)
	}
}

func TestInspectRejectsDiffIDMismatch(t *testing.T) {
	l := rawLayer(t, file("a", "b"))
	other, _ := rawLayer(t, file("a", "c")).DiffID()
	img, err := mutate.AppendLayers(empty.Image, lyingLayer{l, other})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Inspect(img)
	if err == nil || !strings.Contains(err.Error(), "diff ID "+other.String()) {
		t.Fatalf("error %v, want a diff ID mismatch", err)
	}
}

// lyingLayer claims another layer's diff ID.
type lyingLayer struct {
	v1.Layer
	diffID v1.Hash
}

func (l lyingLayer) DiffID() (v1.Hash, error) { return l.diffID, nil }

func TestSingleLayerAndDuplicates(t *testing.T) {
	busybox := gzLayer(t, dir("bin/"), file("bin/busybox", "bb"), dir("usr/"), dir("usr/local/"), dir("usr/local/bin/"))
	copyUp := gzLayer(t, dir("usr/"), dir("usr/local/"), dir("usr/local/bin/"), file(binary, binaryBody))
	chmodLink := gzLayer(t, symlink("usr/local/bin/tailscale", "tailscale.combined"))

	for _, tc := range []struct {
		name       string
		layers     []v1.Layer
		singleErr  string
		duplicates []Duplicate
	}{
		{name: "binary in exactly one layer; directories shared with another layer",
			layers: []v1.Layer{baseLayer(t), busybox}},
		{name: "binary copied up by a later layer",
			layers:     []v1.Layer{baseLayer(t), busybox, copyUp},
			singleErr:  binary + " must be in exactly one layer but is in 2: layer 0 (file, 30,000 B), layer 2 (file, 30,000 B); 30,000 B of it is shadowed",
			duplicates: []Duplicate{{Path: binary, Layers: []int{0, 2}}}},
		{name: "a symlink in two layers is a duplicate too",
			layers:     []v1.Layer{baseLayer(t), chmodLink},
			duplicates: []Duplicate{{Path: "usr/local/bin/tailscale", Layers: []int{0, 1}}}},
		{name: "binary missing",
			layers:    []v1.Layer{busybox},
			singleErr: binary + " is in none of the image's 1 layers"},
		{name: "whiteout of the binary is not a second copy",
			layers: []v1.Layer{baseLayer(t), gzLayer(t, file("usr/local/bin/.wh.tailscale.combined", ""))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Inspect(image(t, "linux/arm/v7", tc.layers...))
			if err != nil {
				t.Fatal(err)
			}
			err = CheckSingleLayer(r, "/"+binary)
			if tc.singleErr == "" && err != nil {
				t.Fatalf("CheckSingleLayer: %v", err)
			}
			if tc.singleErr != "" && (err == nil || !strings.Contains(err.Error(), tc.singleErr)) {
				t.Fatalf("CheckSingleLayer error\n got %v\nwant one containing %q", err, tc.singleErr)
			}
			got := r.DuplicatePaths()
			if !slices.EqualFunc(got, tc.duplicates, func(a, b Duplicate) bool {
				return a.Path == b.Path && slices.Equal(a.Layers, b.Layers)
			}) {
				t.Fatalf("DuplicatePaths = %+v, want %+v", got, tc.duplicates)
			}
			err = CheckNoDuplicates(r)
			if (err != nil) != (len(tc.duplicates) > 0) {
				t.Fatalf("CheckNoDuplicates = %v with duplicates %+v", err, tc.duplicates)
			}
			for _, d := range tc.duplicates {
				if !strings.Contains(err.Error(), d.Path) {
					t.Fatalf("CheckNoDuplicates error %q does not name %s", err, d.Path)
				}
			}
			// Both rules at once: fails exactly when either does, saying
			// what each said.
			err = CheckLayerRules(r, "/"+binary)
			if (err != nil) != (tc.singleErr != "" || len(tc.duplicates) > 0) {
				t.Fatalf("CheckLayerRules = %v", err)
			}
			if tc.singleErr != "" && !strings.Contains(err.Error(), tc.singleErr) {
				t.Fatalf("CheckLayerRules error %q lacks %q", err, tc.singleErr)
			}
		})
	}
}

func TestLayersContaining(t *testing.T) {
	img := image(t, "linux/amd64",
		baseLayer(t),
		gzLayer(t, dir("usr/"), file("usr/x", "1")),
		gzLayer(t, file("usr/local/bin/.wh.tailscale", "")),
	)
	r, err := Inspect(img)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want []int
	}{
		{"usr", []int{0, 1}},
		{"/usr/", []int{0, 1}},
		{"./" + binary, []int{0}},
		{"usr/local/bin/tailscale", []int{0}}, // the whiteout in layer 2 deletes, it does not contain
		{"usr/x", []int{1}},
		{"nope", nil},
	} {
		if got := r.LayersContaining(tc.path); !slices.Equal(got, tc.want) {
			t.Errorf("LayersContaining(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
}

func TestSameLayerListedTwiceIsNotADuplicate(t *testing.T) {
	// A tar may repeat an entry; that is one layer, not a copy-up.
	r, err := Inspect(image(t, "linux/amd64", gzLayer(t, file("a", "1"), file("a", "2"))))
	if err != nil {
		t.Fatal(err)
	}
	if d := r.DuplicatePaths(); len(d) != 0 {
		t.Fatalf("DuplicatePaths = %+v", d)
	}
}

func TestCheckBudgets(t *testing.T) {
	r := Inspection{Compressed: 4_126_760, Uncompressed: 15_003_808}
	for _, tc := range []struct {
		name   string
		budget Budget
		errHas []string
	}{
		{name: "within both", budget: Budget{MaxCompressed: 5_000_000, MaxUncompressed: 16_000_000}},
		{name: "exactly at the limit", budget: Budget{MaxCompressed: 4_126_760, MaxUncompressed: 15_003_808}},
		{name: "zero means unlimited", budget: Budget{}},
		{name: "compressed over",
			budget: Budget{MaxCompressed: 4_000_000, MaxUncompressed: 16_000_000},
			errHas: []string{"compressed size 4,126,760 B exceeds the budget of 4,000,000 B by 126,760 B (3.2 %)"}},
		{name: "both over",
			budget: Budget{MaxCompressed: 4_126_759, MaxUncompressed: 15_000_000},
			errHas: []string{"compressed size 4,126,760 B exceeds the budget of 4,126,759 B by 1 B",
				"uncompressed size 15,003,808 B exceeds the budget of 15,000,000 B by 3,808 B"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckBudgets(r, tc.budget)
			if len(tc.errHas) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("over budget but no error")
			}
			for _, s := range tc.errHas {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if len(tc.errHas) == 1 && strings.Contains(err.Error(), "uncompressed") {
				t.Errorf("error %q blames the uncompressed size, which is within budget", err)
			}
		})
	}
}

func TestBudgetOnARealImage(t *testing.T) {
	r, err := Inspect(image(t, "linux/amd64", baseLayer(t)))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckBudgets(r, Budget{MaxCompressed: r.Compressed, MaxUncompressed: r.Uncompressed}); err != nil {
		t.Fatal(err)
	}
	err = CheckBudgets(r, Budget{MaxUncompressed: r.Uncompressed - 1})
	if err == nil || !strings.Contains(err.Error(), Bytes(r.Uncompressed)) {
		t.Fatalf("error %v does not state the measured %s", err, Bytes(r.Uncompressed))
	}
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1,000 B", 15003808: "15,003,808 B", -1234: "-1,234 B"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestInspectCountsTarPadding(t *testing.T) {
	// GNU tar pads archives to 10 KiB records; those zeros are part of the
	// layer's size and diff ID even though no entry covers them.
	b := tarOf(t, file("a", "b"))
	padded := append(b, make([]byte, 10240-len(b))...)
	r, err := Inspect(image(t, "linux/amd64", static.NewLayer(padded, types.DockerUncompressedLayer)))
	if err != nil {
		t.Fatal(err)
	}
	if r.Uncompressed != 10240 {
		t.Fatalf("uncompressed %d, want the full 10240-byte record", r.Uncompressed)
	}
}
