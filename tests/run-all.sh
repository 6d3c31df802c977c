#!/usr/bin/env bash
# Runs every test of mikrotik-tailscale on a Debian bookworm machine, as
# root, installing what the suite needs first. This is the one test command
# (README, .ci/run). Set ARTIFACTS_DIR to keep binaries, rootfs and
# report.json.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

# The exit status goes to ARTIFACTS_DIR/host-suite.rc however the run
# ends: the engine suite's comparisons wait for it (tests/engine/host_test.go).
if [ -n "${ARTIFACTS_DIR:-}" ]; then
  mkdir -p "$ARTIFACTS_DIR"
  rm -f "$ARTIFACTS_DIR/host-suite.rc" "$ARTIFACTS_DIR/host-suite.tailnet-phase"
  trap 'echo $? >"$ARTIFACTS_DIR/host-suite.rc"' EXIT
fi

if [ "$(id -u)" != 0 ]; then
  echo "run-all.sh needs root (apt installs, network namespaces, chroot)" >&2
  exit 1
fi

# Each setup step's seconds are printed (docs/DEVELOPMENT.md, where CI's
# time goes).
step_start=$SECONDS
step_done() { echo "setup: $1 $((SECONDS - step_start)) s"; step_start=$SECONDS; }

# upx-ucl (and a Go new enough to fetch toolchains) live in backports.
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo 'deb http://deb.debian.org/debian bookworm-backports main' >/etc/apt/sources.list.d/bookworm-backports.list
fi
# BusyBox (tests/busybox_*): the source is trixie's orig tarball (deb-src
# only: no trixie binary package becomes installable); every arch is
# built with the packages the pipeline's build container installs
# (busybox.Packages; TestBusyboxToolchainInstalled checks the two lists
# agree): Debian's cross gcc, linux-libc-dev-<arch>-cross and the musl
# wrapper from musl-dev:<arch>, for each Debian arch and GNU triplet of
# the platform table (internal/platform/platform.go). The foreign arches
# are fetched from bookworm main only: APT::Architectures keeps every
# other source native-only (no foreign security indices).
echo 'deb-src http://deb.debian.org/debian trixie main' >/etc/apt/sources.list.d/trixie-src.list
native=$(dpkg --print-architecture)
foreign=()
cross_pkgs=()
while read -r deb gnu; do
  if [ "$deb" != "$native" ]; then
    foreign+=("$deb")
    cross_pkgs+=("gcc-${gnu//_/-}")
  fi
  cross_pkgs+=("linux-libc-dev-$deb-cross" "musl-dev:$deb")
done < <(sed -n 's/.*Debian: "\([^"]*\)".*GNUTriplet: "\([^"]*\)".*/\1 \2/p' internal/platform/platform.go)
[ "${#cross_pkgs[@]}" -gt 0 ] || { echo "no platforms read from internal/platform/platform.go" >&2; exit 1; }
for deb in "${foreign[@]}"; do dpkg --add-architecture "$deb"; done
echo "APT::Architectures { \"$native\"; };" >/etc/apt/apt.conf.d/90mikrotik-tailscale-native-arch
printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' 'Suites: bookworm' 'Components: main' \
  "Architectures: ${foreign[*]}" 'Architectures-Remove: all' 'Targets: Packages' \
  'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' >/etc/apt/sources.list.d/mikrotik-tailscale-cross.sources
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  ca-certificates git iproute2 util-linux nftables qemu-user-static musl-tools \
  make gcc libc6-dev bzip2 xz-utils >/dev/null
apt-get install -y -qq --no-install-recommends dpkg-dev "${cross_pkgs[@]}" >/dev/null
# The exact UPX build the pipeline packs with (internal/pins.UPXVersion).
UPX_VERSION=$(sed -n 's/^const UPXVersion = "\(.*\)"$/\1/p' internal/pins/pins.go)
apt-get install -y -qq --no-install-recommends --allow-downgrades "upx-ucl=${UPX_VERSION:?UPXVersion not found in internal/pins/pins.go}" >/dev/null
step_done "apt (toolchains, qemu, upx)"

# Any Go >= 1.21 downloads the pinned builder toolchain through the module
# proxy; bookworm's own golang-go (1.19) is too old, backports' is not.
if ! command -v go >/dev/null || ! go env GOTOOLCHAIN >/dev/null 2>&1; then
  apt-get install -y -qq --no-install-recommends -t bookworm-backports golang-1.23-go >/dev/null
  export PATH="/usr/lib/go-1.23/bin:$PATH"
fi
GO_VERSION=$(sed -n 's/^const GoVersion = "\(.*\)"$/\1/p' internal/pins/pins.go)
export GOTOOLCHAIN="go${GO_VERSION:?GoVersion not found in internal/pins/pins.go}"
go version
step_done "Go $GO_VERSION"

# Renovate's own config validator and extractor (tests/renovate_test.go),
# from the npm registry, the same version .woodpecker/renovate.yaml runs.
# Renovate 39 needs Node.js >= 20.15.1; bookworm's own nodejs is 18.
# renovate: datasource=npm depName=renovate
RENOVATE_VERSION=39.264.1
if ! command -v node >/dev/null; then
  apt-get install -y -qq --no-install-recommends nodejs >/dev/null
fi
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 15) ? 0 : 1)'; then
  echo "Renovate $RENOVATE_VERSION needs Node.js >= 20.15.1, found $(node --version) (Debian bookworm's nodejs is 18.x, too old): install Node.js 20 or 22 with npm, e.g. from NodeSource, and re-run" >&2
  exit 1
fi
command -v npm >/dev/null || apt-get install -y -qq --no-install-recommends npm >/dev/null
export RENOVATE_PREFIX=/var/cache/mikrotik-tailscale/renovate-$RENOVATE_VERSION
# The download (network) runs beside go vet (CPU).
npm_pid=
if [ "$("$RENOVATE_PREFIX/node_modules/.bin/renovate" --version 2>/dev/null)" != "$RENOVATE_VERSION" ]; then
  npm_log=$(mktemp /tmp/mikrotik-tailscale-npm.XXXXXX)
  npm install --prefix "$RENOVATE_PREFIX" --no-audit --no-fund --loglevel=error "renovate@$RENOVATE_VERSION" >"$npm_log" 2>&1 &
  npm_pid=$!
fi

# vet compiles every package (the measure-tagged measurements too).
go vet -tags measure ./...
if [ -n "$npm_pid" ] && ! wait "$npm_pid"; then
  cat "$npm_log" >&2
  echo "npm install renovate@$RENOVATE_VERSION failed" >&2
  exit 1
fi
[ -z "$npm_pid" ] || rm -f "$npm_log"
step_done "go vet, Renovate download"
# The full -v log (every test's duration and measurements) goes to a
# file; the console gets results, failures and the tests' own lines.
log=${ARTIFACTS_DIR:+$ARTIFACTS_DIR/host-suite.log}
log=${log:-$(mktemp /tmp/mikrotik-tailscale-host-suite.XXXXXX)}
# -parallel 4: the tailnet's two routers and the two BusyBox checks that
# run beside them (tests/harness_test.go, inTailnetPhase).
set +e
go test -count=1 -timeout 85m -parallel 4 -v ./... 2>&1 | tee "$log" |
  grep --line-buffered -E '^(--- FAIL|\s+--- FAIL|FAIL|ok|panic)|\.go:[0-9]+:'
rc=${PIPESTATUS[0]}
set -e
echo "slowest tests (seconds):"
# sed, not head, takes the first 12: head exits early, and under pipefail sort's
# next write then dies of SIGPIPE and fails the whole run (exit 141 in CI).
sed -n -E 's/^--- (PASS|FAIL): ([^ ]+) \(([0-9.]+)s\)$/\3 \2/p' "$log" | sort -rn | sed -n '1,12p'
echo "host suite: exit $rc (full log: $log)"
exit "$rc"
