#!/usr/bin/env bash
# What does each applet and feature of the shipped BusyBox cost? Starting
# from the host suite's arm64 build tree (the shipped .config), switch one
# Kconfig symbol at a time (-SYM off, +SYM on), rebuild incrementally,
# strip and pack as the recipe does, and print the UPX'd size's change.
#
# Usage: tests/perf/busybox-costs.sh [-|+]SYM...
#   With no SYM: -FEATURE for every internal/busybox AllnoFeatures entry
#   that is =y, and +APPLET for every "left out:" applet of
#   busybox-applets.config.
#   Env: ARTIFACTS_DIR (./artifacts; TestBusyboxBuild must have run there),
#   ARCH (arm64, armv7 or armv5: the cross-built ones), WORK (/var/tmp/bb-costs), JOBS (2).
# The make command is busybox.MakeArgs' (internal/busybox/build.go).
# Prints a TSV: symbol, UPX'd bytes, change against the shipped build.
# Single symbols only: a feature whose dependants are switched off with it
# counts theirs too. UPX varies by a few hundred bytes between neighbours.
set -euo pipefail
ART=$(realpath "${ARTIFACTS_DIR:-./artifacts}")
ARCH=${ARCH:-arm64} WORK=${WORK:-/var/tmp/bb-costs} JOBS=${JOBS:-2}
repo=$(cd "$(dirname "$0")/../.." && pwd)
tree=$(find "$ART/.work/busybox/$ARCH-allnoconfig-plus" -maxdepth 1 -name 'busybox-*' -type d | head -n 1)
[ -n "$tree" ] && [ -f "$tree/.config" ] || { echo "no $ARCH allnoconfig-plus tree under $ART/.work/busybox: run TestBusyboxBuild first" >&2; exit 1; }
case $ARCH in
  arm64) tc=aarch64-linux-musl- cross=aarch64-linux-gnu- ;;
  armv7) tc=arm-linux-musleabihf- cross=arm-linux-gnueabihf- ;;
  armv5) tc=arm-linux-musleabi- cross=arm-linux-gnueabi- ;;
  *) echo "unknown ARCH $ARCH" >&2; exit 1 ;;
esac
rm -rf "$WORK"; mkdir -p "$WORK"; cp -a "$tree" "$WORK/src"; cd "$WORK/src"
cp .config shipped.config
mk() { env -i PATH="$PATH" HOME=/root SOURCE_DATE_EPOCH="$(stat -c %Y Makefile)" TZ=UTC LC_ALL=C "$@"; }
hdr=$(find "$ART/.work/busybox-kernel-headers/$ARCH" -maxdepth 0 -type d)
build() {
  mk make oldconfig </dev/null >/dev/null
  mk make -j"$JOBS" CROSS_COMPILE="$cross" CC="${tc}gcc" HOSTCC=gcc "EXTRA_CFLAGS=-isystem $hdr" busybox >make.log 2>&1
  rm -f packed; cp busybox packed; upx -q --lzma --best packed >/dev/null
  stat -c %s packed
}
syms=("$@")
if [ ${#syms[@]} = 0 ]; then
  for s in $(sed -n '/^var AllnoFeatures/,/^}/p' "$repo/internal/busybox/config.go" | grep -o '"[A-Z0-9_]*"' | tr -d '"'); do
    grep -q "^CONFIG_$s=y" shipped.config && syms+=("-$s")
  done
  for a in $(sed -n 's/^# left out: //p' "$repo/busybox-applets.config" | grep -oE '(^|, )[a-z0-9]+ \(' | tr -d ' ,('); do
    s=$(grep -lE "^//applet:.*APPLET[A-Z_]*\($a," */*.c */*/*.c | head -n 1 | xargs grep -hoE "^//applet:IF_[A-Z0-9_]+\(+APPLET[A-Z_]*\($a," | sed -E 's/^\/\/applet:IF_([A-Z0-9_]+)\(.*/\1/')
    syms+=("+$s")
  done
fi
base=$(build)
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
