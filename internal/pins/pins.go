// Package pins is the one place where every upstream version the image is
// built from is written down. Renovate rewrites these lines (see the
// comments); everything else derives from them.
package pins

// TailscaleVersion is the Tailscale release inside the image. Only stable
// releases (even minor) are followed.
//
// renovate: datasource=go depName=tailscale.com
const TailscaleVersion = "v1.104.5"

// TailscaleModule is the Go module path Tailscale is fetched as, through the
// module proxy and verified against the checksum database.
const TailscaleModule = "tailscale.com"

// GoVersion is the Go toolchain inside GolangImage. The host test suite runs
// the same toolchain through GOTOOLCHAIN, so both paths compile with one Go.
//
// renovate: datasource=golang-version depName=go
const GoVersion = "1.27.3"

// GolangImage cross-compiles Tailscale. Its tag must carry GoVersion. The
// Debian (bookworm) variant, like every other stage: Docker's golang image
// ships the official Go release tarball, the toolchain the host suite
// fetches through GOTOOLCHAIN. No digest yet: none could be confirmed from
// two independent public sources; Renovate's pinDigests adds it on its
// first run. The constructor's --golang-image default must equal it
// (TestConstructorDefaultsArePins in tests/module_api_test.go).
//
// renovate: datasource=docker depName=golang
const GolangImage = "golang:1.27.3-bookworm"

// DebianImage cross-compiles BusyBox for every platform with Debian's cross
// gcc and musl wrappers: bookworm (12.x), the release whose toolchain (gcc
// 12.2, musl 1.2.3) the host suite builds and tests with. The digest is
// the one docker-library/repo-info records for the tag and an unrelated
// project's build record shows: two independent public sources. It also
// runs UPX and assembles the CA bundle (see UPXVersion,
// CACertificatesVersion).
//
// renovate: datasource=docker depName=debian
const DebianImage = "debian:12.15-slim@sha256:abd67ffcfa541b485a3dff59865ab629aa048a6c613e639d36e7456b0b229241"

// UPXVersion is the exact Debian upx-ucl build (bookworm-backports) that
// packs every binary, in the pipeline's Debian container and in the host
// suite alike: UPX's output depends on its version, so one build packs
// what is published and what is proven.
//
// renovate: datasource=deb depName=upx-ucl registryUrl=https://deb.debian.org/debian?suite=bookworm-backports&components=main&binaryArch=amd64
const UPXVersion = "4.2.2-3~bpo12+1"

// CACertificatesVersion is the exact Debian ca-certificates package
// (bookworm-security) whose Mozilla set becomes the image's CA bundle
// (internal/cacerts). apt verifies the .deb against the archive's signed
// index; the bundle is built from the package's files alone, never from a
// container's trust store.
//
// renovate: datasource=deb depName=ca-certificates registryUrl=https://deb.debian.org/debian-security?suite=bookworm-security&components=main&binaryArch=amd64
const CACertificatesVersion = "20250419~deb12u2"

// BusyBoxVersion and BusyBoxSHA256 move together: a version bump without
// the matching checksum fails verification before anything is compiled.
//
// renovate: datasource=custom.busybox depName=busybox
const BusyBoxVersion = "1.37.0"

// BusyBoxSHA256 is the sha256 of busybox-<BusyBoxVersion>.tar.bz2, which
// busybox.net and Debian's archive (the .orig.tar.bz2) both serve.
const BusyBoxSHA256 = "3311dff32e746499f4df0d5df04d7eb396382d7e108bb9250e7b519b837043a4"

// HeadscaleVersion is the control server the host suite's tailnet test
// (tests/tailnet_*) runs: an open-source Tailscale control plane with an
// embedded DERP server, built from the Go module proxy with GoVersion. It
// is test-only; nothing of it goes into the image.
//
// renovate: datasource=go depName=github.com/juanfont/headscale
const HeadscaleVersion = "v0.29.1"

// HeadscaleModule is the Go module path Headscale is fetched as.
const HeadscaleModule = "github.com/juanfont/headscale"

// GiteaVersion is the forge the engine suite releases to (tests/engine):
// the original project's forge, with its container registry and API,
// built from the Go module proxy with GoVersion. Test-only.
//
// renovate: datasource=go depName=code.gitea.io/gitea
const GiteaVersion = "v1.27.3"

// GiteaModule is the Go module path Gitea is fetched as.
const GiteaModule = "code.gitea.io/gitea"
