// Package debtools is the recipe for the pipeline's Debian tool container:
// the pinned UPX build (bookworm-backports) and the pinned ca-certificates
// package, both installed by apt from Debian's signed archive. The host
// suite installs and runs exactly these (tests/run-all.sh,
// tests/debtools_test.go), so the bytes it proves are the bytes the
// pipeline publishes.
package debtools

import (
	"fmt"
	"strings"

	"dagger/mikrotik-tailscale/internal/pins"
)

// BackportsList is the apt source that carries upx-ucl. Debian's images
// list bookworm, bookworm-updates and bookworm-security, not backports.
const (
	BackportsList = "/etc/apt/sources.list.d/bookworm-backports.list"
	BackportsLine = "deb http://deb.debian.org/debian bookworm-backports main\n"
)

// DebDir is where the tool container keeps the downloaded
// ca-certificates package.
const DebDir = "/opt/debs"

// UPXPackage and CACertificatesPackage are the exact apt selections.
func UPXPackage() string { return "upx-ucl=" + pins.UPXVersion }

// CACertificatesPackage is apt's name=version for the pinned CA package.
func CACertificatesPackage() string { return "ca-certificates=" + pins.CACertificatesVersion }

// AptArgs installs UPX and downloads the ca-certificates package into
// DebDir, in a fresh Debian container with BackportsList in place. The
// package is downloaded, not installed: the image's bundle is built from
// its files (see package cacerts), never from a container's trust store.
func AptArgs() []string {
	script := strings.Join([]string{
		"set -e",
		"export DEBIAN_FRONTEND=noninteractive",
		"apt-get update -qq",
		"apt-get install -y -qq --no-install-recommends " + shellQuote(UPXPackage()),
		"mkdir -p " + shellQuote(DebDir),
		"cd " + shellQuote(DebDir),
		"apt-get download -qq " + shellQuote(CACertificatesPackage()),
		"rm -rf /var/lib/apt/lists/*",
	}, "\n")
	return []string{"sh", "-c", script}
}

// UPXVersionArgs prints the installed upx-ucl package version.
func UPXVersionArgs() []string {
	return []string{"dpkg-query", "-W", "-f", "${Version}", "upx-ucl"}
}

// CheckUPXVersion fails unless the installed upx-ucl is the pin.
func CheckUPXVersion(out string) error {
	if got := strings.TrimSpace(out); got != pins.UPXVersion {
		return fmt.Errorf("upx-ucl %q installed, want the pinned %s (internal/pins.UPXVersion)", got, pins.UPXVersion)
	}
	return nil
}

// UPXTestArgs verifies a packed file (upx -t).
func UPXTestArgs(path string) []string { return []string{"upx", "-q", "-t", path} }

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
