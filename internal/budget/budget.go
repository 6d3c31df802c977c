// Package budget holds the per-platform image size budgets the PR check
// enforces, and parses overrides given on the command line.
package budget

import (
	"fmt"
	"maps"
	"strconv"
	"strings"

	"dagger/mikrotik-tailscale/internal/ocicheck"
	"dagger/mikrotik-tailscale/internal/platform"
)

// Budget caps one platform's image: MaxCompressed is the sum of the
// gzip'd layer blobs (what a router downloads), MaxUncompressed the sum of
// the layer tars (about what the extracted rootfs occupies on flash).
type Budget = ocicheck.Budget

// Defaults are each platform's budget from its entry in the platform
// table (platform.Arch's MaxCompressed and MaxUncompressed, the measured
// sizes plus about 3 %). TestImageLayers checks the host-built layers
// against them.
var Defaults = func() map[string]Budget {
	out := map[string]Budget{}
	for _, a := range platform.All() {
		out[a.Name] = Budget{MaxCompressed: a.MaxCompressed, MaxUncompressed: a.MaxUncompressed}
	}
	return out
}()

// Parse applies overrides of the form ARCH=COMPRESSED/UNCOMPRESSED to the
// defaults, e.g. "arm64=4MB/4.2MB" or "arm/v7=3900000/4000000". Sizes take
// B, kB, MB (powers of 1000) or KiB, MiB (powers of 1024); a bare number is
// bytes. Either side may be "-" to keep the default.
func Parse(overrides []string) (map[string]Budget, error) {
	out := maps.Clone(Defaults)
	for _, o := range overrides {
		arch, sizes, ok := strings.Cut(o, "=")
		if !ok {
			return nil, fmt.Errorf("budget %q: expected ARCH=COMPRESSED/UNCOMPRESSED, e.g. arm64=4MB/4.2MB", o)
		}
		a, err := platform.Parse(arch)
		if err != nil {
			return nil, fmt.Errorf("budget %q: %w", o, err)
		}
		c, u, ok := strings.Cut(sizes, "/")
		if !ok {
			return nil, fmt.Errorf("budget %q: expected COMPRESSED/UNCOMPRESSED after %s=", o, arch)
		}
		b := out[a.Name]
		if b.MaxCompressed, err = size(c, b.MaxCompressed); err != nil {
			return nil, fmt.Errorf("budget %q: %w", o, err)
		}
		if b.MaxUncompressed, err = size(u, b.MaxUncompressed); err != nil {
			return nil, fmt.Errorf("budget %q: %w", o, err)
		}
		out[a.Name] = b
	}
	return out, nil
}

// units are the size suffixes a budget takes. GB and larger are refused:
// no image for a 16-128 MB flash is near a gigabyte, so "4GB" is a typo
// for 4MB, and accepting it would switch the check off.
var units = map[string]float64{"": 1, "B": 1, "kB": 1e3, "KB": 1e3, "MB": 1e6, "KiB": 1 << 10, "MiB": 1 << 20}

const unitNames = "B, kB, MB, KiB, MiB"

// size parses one side of a budget, quoting it as given in errors.
func size(s string, keep int64) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "-" {
		return keep, nil
	}
	num := strings.TrimRight(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ")
	unit := strings.TrimSpace(s[len(num):])
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("size %q: expected a positive number with an optional unit (%s)", s, unitNames)
	}
	mult, ok := units[unit]
	if !ok {
		return 0, fmt.Errorf("size %q: unit %q is not one of %s (a bare number is bytes)", s, unit, unitNames)
	}
	return int64(v * mult), nil
}

// WithAllowance returns limits with extra bytes of room on both sides of
// every platform's budget: what the chosen opt-in features may add
// (features.Allowance).
func WithAllowance(limits map[string]Budget, extra int64) map[string]Budget {
	out := make(map[string]Budget, len(limits))
	for arch, b := range limits {
		b.MaxCompressed += extra
		b.MaxUncompressed += extra
		out[arch] = b
	}
	return out
}
