package tsbuild

import (
	"fmt"
	"go/version"
	"strings"

	"golang.org/x/mod/modfile"
)

// RequiredGo returns the minimum Go version a go.mod demands (its `go`
// line), in "go1.x.y" form.
func RequiredGo(gomod []byte) (string, error) {
	f, err := modfile.ParseLax("go.mod", gomod, nil)
	if err != nil {
		return "", fmt.Errorf("parse go.mod: %w", err)
	}
	if f.Go == nil || f.Go.Version == "" {
		return "", fmt.Errorf("go.mod has no go line")
	}
	return "go" + f.Go.Version, nil
}

// CheckGoVersion fails when the builder's Go (as `go env GOVERSION` prints
// it) is older than the Tailscale module requires. Renovate can bump
// Tailscale before the golang image; this turns the resulting cryptic
// toolchain error into one that names both versions.
func CheckGoVersion(builderGo string, gomod []byte, tailscaleVersion string) error {
	need, err := RequiredGo(gomod)
	if err != nil {
		return fmt.Errorf("tailscale %s: %w", tailscaleVersion, err)
	}
	have := strings.TrimSpace(builderGo)
	// GOVERSION may carry a suffix such as " X:nodwarf5"; keep the release.
	have, _, _ = strings.Cut(have, " ")
	if !version.IsValid(have) {
		return fmt.Errorf("builder reports an unparseable Go version %q", builderGo)
	}
	if version.Compare(have, need) < 0 {
		return fmt.Errorf("tailscale %s requires %s (its go.mod go line) but the builder has %s: bump GoVersion and GolangImage in internal/pins to at least %s",
			tailscaleVersion, need, have, strings.TrimPrefix(need, "go"))
	}
	return nil
}

// CheckPinnedGo fails unless the builder's Go is exactly the pinned one
// (pins.GoVersion, e.g. "1.27.3"). A substituted golang image (a mirror's
// copy) must carry the very toolchain the host suite proves: another Go
// release compiles other bytes.
func CheckPinnedGo(builderGo, pinned string) error {
	have, _, _ := strings.Cut(strings.TrimSpace(builderGo), " ")
	if have != "go"+pinned {
		return fmt.Errorf("the golang image has %s, but this module pins and proves go%s: pass an image with Go %s (--golang-image)", have, pinned, pinned)
	}
	return nil
}
