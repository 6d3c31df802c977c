#!/usr/bin/env bash
# What does each applet and feature of the shipped BusyBox cost? Starting
# from the shipped .config of one arch, switch one Kconfig symbol at a
# time (-SYM off, +SYM on), rebuild incrementally with the recipe's make
# command (busybox.MakeArgs), pack with UPX as the recipe does, and print
# the packed size's change.
#
# Usage: tests/perf/busybox-costs.sh [-|+]SYM...
#   With no SYM: -FEATURE for every internal/busybox AllnoFeatures entry
#   that is =y, +FEATURE for every LeftOutFeatures entry, and +APPLET for
#   every "left out:" applet of busybox-applets.config.
#   Env: ARTIFACTS_DIR (./artifacts: <arch>/busybox.config and
#   <arch>/busybox as TestBusyboxBuild writes them), ARCH (arm64, armv7
#   or armv5: the cross-built ones), WORK (/var/tmp/bb-costs), JOBS (2).
# Needs the cross toolchains of tests/run-all.sh and upx. The unchanged
# build must reproduce the shipped binary byte for byte, or it stops.
# Prints a TSV: symbol, UPX'd bytes, change against the shipped build.
# Single symbols only: a feature whose dependants are switched off with it
# counts theirs too. UPX varies by a few hundred bytes between neighbours.
set -euo pipefail
ART=$(realpath "${ARTIFACTS_DIR:-./artifacts}")
ARCH=${ARCH:-arm64} WORK=${WORK:-/var/tmp/bb-costs} JOBS=${JOBS:-2}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO/tests/perf/busybox-source.sh"
info=$(archinfo "$ARCH"); read -r _ gnu musl _ <<<"$info"
shipped=$ART/$ARCH/busybox
[ -f "$ART/$ARCH/busybox.config" ] && [ -f "$shipped" ] || { echo "no $ART/$ARCH/busybox{,.config}: run TestBusyboxBuild there first" >&2; exit 1; }
fetch_tarball "$WORK"
rm -rf "$WORK/hdr"; cross_headers "$gnu" "$WORK/hdr"
fresh_src "$WORK/src" "$ART/$ARCH/busybox.config"; cd "$WORK/src/busybox-1.37.0"
cp .config shipped.config
mk() { env -i PATH="$PATH" HOME=/root SOURCE_DATE_EPOCH="$(stat -c %Y Makefile)" TZ=UTC LC_ALL=C "$@"; }
build() {
  mk make oldconfig </dev/null >/dev/null
  mk make -j"$JOBS" CROSS_COMPILE="$gnu-" CC="$musl-gcc" "EXTRA_CFLAGS=-isystem $WORK/hdr" HOSTCC=gcc busybox >make.log 2>&1
  rm -f packed; cp busybox packed; upx -q --lzma --best packed >/dev/null
  stat -c %s packed
}
syms=("$@")
if [ ${#syms[@]} = 0 ]; then
  for s in $(sed -n '/^var AllnoFeatures/,/^}/p' "$REPO/internal/busybox/config.go" | grep -o '"[A-Z0-9_]*"' | tr -d '"'); do
    grep -q "^CONFIG_$s=y" shipped.config && syms+=("-$s")
  done
  for s in $(sed -n '/^var LeftOutFeatures/,/^}/p' "$REPO/internal/busybox/config.go" | grep -o '"[A-Z0-9_]*"' | tr -d '"'); do
    syms+=("+$s")
  done
  for a in $(sed -n 's/^# left out: //p' "$REPO/busybox-applets.config" | grep -oE '(^|, )[a-z0-9]+ \(' | tr -d ' ,('); do
    s=$(grep -lE "^//applet:.*APPLET[A-Z_]*\($a," */*.c */*/*.c | head -n 1 | xargs grep -hoE "^//applet:IF_[A-Z0-9_]+\(+APPLET[A-Z_]*\($a," | sed -E 's/^\/\/applet:IF_([A-Z0-9_]+)\(.*/\1/')
    syms+=("+$s")
  done
fi
base=$(build)
cmp -s packed "$shipped" || { echo "the unchanged build differs from $shipped: not the recipe's build" >&2; exit 1; }
printf 'shipped\t%s\t0\n' "$base"
for x in "${syms[@]}"; do
  cp shipped.config .config
  s=${x:1}
  sed -i "/^CONFIG_$s=/d;/^# CONFIG_$s is not set/d" .config
  if [ "${x:0:1}" = + ]; then echo "CONFIG_$s=y" >>.config; else echo "# CONFIG_$s is not set" >>.config; fi
  n=$(build)
  printf '%s\t%s\t%+d\n' "$x" "$n" $((n - base))
done
cp shipped.config .config
