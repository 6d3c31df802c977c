package pins

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/mod/semver"
)

func TestTailscaleIsAStableRelease(t *testing.T) {
	if !semver.IsValid(TailscaleVersion) || semver.Prerelease(TailscaleVersion) != "" {
		t.Fatalf("TailscaleVersion %q is not a plain release", TailscaleVersion)
	}
	var major, minor, patch int
	if _, err := fmt.Sscanf(TailscaleVersion, "v%d.%d.%d", &major, &minor, &patch); err != nil {
		t.Fatal(err)
	}
	if minor%2 != 0 {
		t.Fatalf("TailscaleVersion %s has an odd minor: Tailscale's odd minors are unstable", TailscaleVersion)
	}
}

func TestGolangImageCarriesGoVersion(t *testing.T) {
	if !strings.HasPrefix(GolangImage, "golang:"+GoVersion+"-") {
		t.Fatalf("GolangImage %q does not carry GoVersion %s", GolangImage, GoVersion)
	}
}

func TestImagesAreFullyQualified(t *testing.T) {
	tag := regexp.MustCompile(`^[a-z]+:\d+\.\d+\.\d+(-[a-z0-9.]+)?(@sha256:[0-9a-f]{64})?$`)
	for _, img := range []string{GolangImage} {
		if !tag.MatchString(img) {
			t.Errorf("image %q is not pinned to a full version (and optional digest)", img)
		}
	}
}

// Debian tags its images by point release (12.15), not X.Y.Z; bookworm is
// the release the host suite proves the BusyBox toolchain on.
func TestDebianImageIsABookwormPointRelease(t *testing.T) {
	if !regexp.MustCompile(`^debian:12\.\d+-slim(@sha256:[0-9a-f]{64})?$`).MatchString(DebianImage) {
		t.Fatalf("DebianImage %q is not debian:12.<point>-slim (bookworm, the host suite's release)", DebianImage)
	}
}

func TestBusyBoxChecksumIsSHA256(t *testing.T) {
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(BusyBoxSHA256) {
		t.Fatalf("BusyBoxSHA256 %q is not a sha256", BusyBoxSHA256)
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(BusyBoxVersion) {
		t.Fatalf("BusyBoxVersion %q is not x.y.z", BusyBoxVersion)
	}
}

// The Debian packages are pinned to one exact version (apt's name=version
// takes no pattern); upx-ucl is a backport, ca-certificates a native
// package without a Debian revision.
func TestDebianPackagesArePinnedExactly(t *testing.T) {
	if !regexp.MustCompile(`^[0-9][0-9A-Za-z.+~]*-[0-9A-Za-z.+~]*~bpo12\+[0-9]+$`).MatchString(UPXVersion) {
		t.Errorf("UPXVersion %q is not an exact bookworm-backports version", UPXVersion)
	}
	if !regexp.MustCompile(`^[0-9]{8}(~deb12u[0-9]+)?$`).MatchString(CACertificatesVersion) {
		t.Errorf("CACertificatesVersion %q is not an exact bookworm ca-certificates version", CACertificatesVersion)
	}
}
