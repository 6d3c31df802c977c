#!/usr/bin/env bash
# Measures what the image's size tricks cost (docs/PERFORMANCE.md) and
# writes report.json and report.md to $OUT (default
# /var/tmp/mikrotik-tailscale-perf/report). Needs root, upx and
# qemu-user-static (tests/run-all.sh installs them); extra arguments go to
# the Go program, e.g. `-phases bench -rounds 7` or `-ultra-brute ""`.
# About 45-60 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$(id -u)" != 0 ]; then
  echo "tests/perf/run.sh needs root (network namespaces)" >&2
  exit 1
fi
for tool in upx qemu-aarch64-static qemu-arm-static unshare ip; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run tests/run-all.sh once, or apt-get install upx-ucl qemu-user-static" >&2; exit 1; }
done
GO_VERSION=$(sed -n 's/^const GoVersion = "\(.*\)"$/\1/p' internal/pins/pins.go)
export GOTOOLCHAIN="go${GO_VERSION:?GoVersion not found in internal/pins/pins.go}"
WORK=${WORK:-/var/tmp/mikrotik-tailscale-perf}
exec go run ./tests/perf -work "$WORK" -out "${OUT:-$WORK/report}" "$@"
