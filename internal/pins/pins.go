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

// GolangImage cross-compiles Tailscale. Its tag must carry GoVersion.
// No digest yet: none could be confirmed from two independent public
// sources; Renovate's pinDigests adds it on its first run.
//
// renovate: datasource=docker depName=golang
const GolangImage = "golang:1.27.3-alpine3.24"

// DebianImage cross-compiles BusyBox for every platform with Debian's cross
// gcc and musl wrappers: bookworm (12.x), the release whose toolchain (gcc
// 12.2, musl 1.2.3) the host suite builds and tests with. The digest is
// the one docker-library/repo-info records for the tag (bookworm-20260803)
// and an unrelated project's build record shows.
//
// renovate: datasource=docker depName=debian
const DebianImage = "debian:12.15-slim@sha256:abd67ffcfa541b485a3dff59865ab629aa048a6c613e639d36e7456b0b229241"

// AlpineImage runs UPX and supplies the CA bundle.
//
// renovate: datasource=docker depName=alpine
const AlpineImage = "alpine:3.24.2@sha256:294b683cb724975bec92580e1e685676bd4b50bda910ddb8c51d4cabeaec77e6"

// BusyBoxVersion and BusyBoxSHA256 move together: a version bump without
// the matching checksum fails verification before anything is compiled.
//
// renovate: datasource=custom.busybox depName=busybox
const BusyBoxVersion = "1.37.0"

// BusyBoxSHA256 is the sha256 of busybox-<BusyBoxVersion>.tar.bz2.
const BusyBoxSHA256 = "3311dff32e746499f4df0d5df04d7eb396382d7e108bb9250e7b519b837043a4"
