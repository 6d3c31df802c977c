package ocicheck

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"dagger/mikrotik-tailscale/internal/suitereport"
)

// Budget is the most an image may weigh. Zero means no limit for that
// measure.
type Budget struct {
	// MaxCompressed bounds the pulled size (sum of layer blobs).
	MaxCompressed int64 `json:"maxCompressed"`
	// MaxUncompressed bounds the unpacked size (sum of layer tar streams),
	// roughly what the image occupies on the router's flash.
	MaxUncompressed int64 `json:"maxUncompressed"`
}

// CheckBudgets returns an error for every measure over its budget, stating
// the measured size, the allowed size and the excess.
func CheckBudgets(r Inspection, b Budget) error {
	var errs []error
	check := func(what string, got, max int64) {
		if max > 0 && got > max {
			errs = append(errs, fmt.Errorf("%s size %s exceeds the budget of %s by %s (%.1f %%)",
				what, Bytes(got), Bytes(max), Bytes(got-max), 100*float64(got-max)/float64(max)))
		}
	}
	check("compressed", r.Compressed, b.MaxCompressed)
	check("uncompressed", r.Uncompressed, b.MaxUncompressed)
	return errors.Join(errs...)
}

// CheckSingleLayer requires path to be in exactly one layer. For the
// Tailscale binary a second copy is several MB of flash and download for
// nothing, and it only happens when a later step touches the file.
func CheckSingleLayer(r Inspection, path string) error {
	p := cleanPath(path)
	ls := r.LayersContaining(p)
	switch len(ls) {
	case 1:
		return nil
	case 0:
		return fmt.Errorf("%s is in none of the image's %d layers", p, len(r.Layers))
	}
	var copies []string
	var wasted int64
	for n, i := range ls {
		f, _ := r.file(i, p)
		copies = append(copies, fmt.Sprintf("layer %d (%s, %s)", i, f.Type, Bytes(f.Size)))
		if n < len(ls)-1 {
			wasted += f.Size
		}
	}
	return fmt.Errorf("%s must be in exactly one layer but is in %d: %s; %s of it is shadowed by the last copy "+
		"(a later step touched it, so overlayfs copied it up into a new layer)",
		p, len(ls), strings.Join(copies, ", "), Bytes(wasted))
}

// CheckNoDuplicates fails if any non-directory path is shipped by more
// than one layer, listing each path and its layers.
func CheckNoDuplicates(r Inspection) error {
	dups := r.DuplicatePaths()
	if len(dups) == 0 {
		return nil
	}
	var parts []string
	for _, d := range dups {
		var ls []string
		for _, i := range d.Layers {
			ls = append(ls, strconv.Itoa(i))
		}
		parts = append(parts, fmt.Sprintf("%s (layers %s)", d.Path, strings.Join(ls, ", ")))
	}
	return fmt.Errorf("%d path(s) are stored in more than one layer (overlayfs copy-up): %s",
		len(dups), strings.Join(parts, "; "))
}

// CheckLayerRules is the image's layer rules together: binary in exactly
// one layer, and no path in two. The PR check reports the two apart; a
// release refuses to publish, and the suites fail, on either.
func CheckLayerRules(r Inspection, binary string) error {
	return errors.Join(CheckSingleLayer(r, binary), CheckNoDuplicates(r))
}

// Bytes formats a size the way DESIGN.md writes them: "4,126,760 B".
func Bytes(n int64) string { return suitereport.Thousands(n) + " B" }
