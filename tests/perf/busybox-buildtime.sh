#!/usr/bin/env bash
# How long does the BusyBox build (`make -j$JOBS busybox`) take
#   cross:    on this amd64 host with Debian's cross gcc + musl wrapper (what
#             the pipeline does now, internal/busybox/toolchain.go), versus
#   emulated: a native gcc + musl-gcc of the target arch running under
#             qemu-user in a Debian chroot (what the pipeline used to do: an
#             alpine container of the target platform under QEMU)?
#
# Usage: tests/perf/busybox-buildtime.sh [CONFIG_DIR]
#   CONFIG_DIR (default $ARTIFACTS_DIR, else ./artifacts) holds
#   <arch>/busybox.config as TestBusyboxBuild writes them
#   (ARTIFACTS_DIR=... go test -run TestBusyboxBuild ./tests/).
#   Env: ROUNDS (3), ARCHES ("arm64 armv7 armv5"), JOBS (2),
#   WORK (/var/tmp/bb-buildtime; chroots are cached there), OUT (JSON path).
# Needs root, Debian amd64 with the cross toolchains of tests/run-all.sh,
# qemu-user-static, and Linux >= 6.7: qemu is registered in a private
# binfmt_misc of a throw-away user namespace, never in the host's.
# Prints a markdown table of medians; raw rounds and load go to the JSON.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }
CFG_DIR=$(realpath "${1:-${ARTIFACTS_DIR:-./artifacts}}")
ROUNDS=${ROUNDS:-3} ARCHES=${ARCHES:-"arm64 armv7 armv5"} JOBS=${JOBS:-2}
WORK=${WORK:-/var/tmp/bb-buildtime}; OUT=${OUT:-$WORK/busybox-buildtime.json}
MIRROR=http://deb.debian.org/debian
REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO/tests/perf/busybox-source.sh"
mkdir -p "$WORK/src" "$WORK/log"

load() { cut -d' ' -f1-3 /proc/loadavg; }
now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# in_ns QEMU CMD...: run CMD as root of a new user + mount namespace that
# maps uids/gids 0-65535 onto the host's (so debootstrap's chowns work),
# and a pid namespace (so a fresh /proc can be mounted), with a private binfmt_misc where qemu-QEMU-static is registered (flag F:
# the kernel holds the interpreter open, so chroots need no qemu copy).
in_ns() {
  local conf=/usr/lib/binfmt.d/qemu-$1.conf fifo; shift
  fifo=$(mktemp -u); mkfifo "$fifo"
  unshare --user --mount --propagation private --pid --fork --kill-child -- /bin/sh -c '
    read _ <"$0"; rm -f "$0"; conf=$1; shift
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    cat "$conf" >/proc/sys/fs/binfmt_misc/register
    exec "$@"' "$fifo" "$conf" "$@" &
  local pid=$!
  # Wait until the child is in its own user namespace, then map it.
  while [ "$(readlink /proc/$pid/ns/user)" = "$(readlink /proc/self/ns/user)" ]; do sleep 0.01; done
  echo "0 0 65536" >/proc/$pid/uid_map; echo "0 0 65536" >/proc/$pid/gid_map
  echo go >"$fifo"
  wait $pid
}

# in_chroot QEMU ROOT SCRIPT: run SCRIPT with the chroot's /bin/sh, with
# the host's /dev bound in, a fresh /proc and an empty environment.
in_chroot() {
  in_ns "$1" /bin/sh -c 'mount --rbind /dev "$0/dev"; mount -t proc proc "$0/proc"
    exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root chroot "$0" /bin/sh -c "$1"' "$2" "$3"
}

# Tools, source tarball (checked against the pin).
command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
command -v qemu-aarch64-static >/dev/null || apt-get install -y -qq qemu-user-static >/dev/null
fetch_tarball "$WORK/src"

# One Debian bookworm chroot per target arch, cached: debootstrap's first
# stage on the host, the second stage (dpkg, running arm code) under qemu.
declare -A SETUP
for a in $ARCHES; do
  read -r deb gnu _ qemu < <(archinfo "$a")
  root=$WORK/chroot-$deb
  [ -f "$CFG_DIR/$a/busybox.config" ] || { echo "missing $CFG_DIR/$a/busybox.config" >&2; exit 1; }
  if [ -f "$root/.ready" ]; then SETUP[$a]=$(cat "$root/.ready"); continue; fi
  echo "== setting up $root" >&2; t=$(now); rm -rf "$root"
  debootstrap --arch="$deb" --foreign --variant=minbase \
    --include=gcc,make,libc6-dev,musl-tools,bzip2,linux-libc-dev \
    bookworm "$root" "$MIRROR" >"$WORK/log/debootstrap-$deb.log" 2>&1
  # container=lxc: no mknod in a user namespace; /dev is bound in instead.
  in_chroot "$qemu" "$root" 'container=lxc /debootstrap/debootstrap --second-stage' >>"$WORK/log/debootstrap-$deb.log" 2>&1
  # musl-gcc passes -nostdinc: give it the kernel headers (not glibc's) back.
  mkdir -p "$root/build/hdr"
  for d in linux asm-generic mtd; do ln -sfn "/usr/include/$d" "$root/build/hdr/$d"; done
  ln -sfn "/usr/include/$gnu/asm" "$root/build/hdr/asm"
  SETUP[$a]=$(since "$t"); echo "${SETUP[$a]}" >"$root/.ready"
done

bbenv() { echo "SOURCE_DATE_EPOCH=$(stat -c %Y "$1/Makefile") TZ=UTC LC_ALL=C"; }

# Each build appends one JSON object to $ROWS and prints its make time.
ROWS=$WORK/rows.jsonl; : >"$ROWS"
record() { # arch round kind oldconfig_s make_s load_before load_after applets
  printf '{"arch":"%s","round":%s,"kind":"%s","oldconfig_s":%s,"make_s":%s,"total_s":%s,"load_before":"%s","load_after":"%s","applets":%s}\n' \
    "$1" "$2" "$3" "$4" "$5" "$(awk -v a="$4" -v b="$5" 'BEGIN{printf "%.1f", a+b}')" "$6" "$7" "$8" >>"$ROWS"
  echo "$1 round $2 $3: oldconfig $4 s, make $5 s, load $6 -> $7, $8 applets" >&2
}

cross() { # arch round
  read -r deb gnu musl qemu < <(archinfo "$1")
  local dir=$WORK/cross-$1 hdr=$WORK/cross-$1/hdr src l0 t oc mk
  fresh_src "$dir" "$CFG_DIR/$1/busybox.config"; src=$dir/busybox-1.37.0
  cross_headers "$gnu" "$hdr"
  l0=$(load); t=$(now)
  (cd "$src" && env -i PATH="$PATH" HOME=/root $(bbenv "$src") make oldconfig </dev/null) >"$WORK/log/cross-$1.log" 2>&1
  oc=$(since "$t"); t=$(now)
  (cd "$src" && env -i PATH="$PATH" HOME=/root $(bbenv "$src") make -j"$JOBS" CROSS_COMPILE="$gnu-" \
    CC="$musl-gcc" EXTRA_CFLAGS="-isystem $hdr" HOSTCC=gcc busybox) >>"$WORK/log/cross-$1.log" 2>&1
  mk=$(since "$t")
  record "$1" "$2" cross "$oc" "$mk" "$l0" "$(load)" "$("qemu-$qemu-static" "$src/busybox" --list | wc -l)"
}

emulated() { # arch round
  read -r deb _ _ qemu < <(archinfo "$1")
  local root=$WORK/chroot-$deb src l0 t oc mk
  fresh_src "$root/build/src" "$CFG_DIR/$1/busybox.config"; src=/build/src/busybox-1.37.0
  l0=$(load); t=$(now)
  in_chroot "$qemu" "$root" "cd $src && env $(bbenv "$root$src") make oldconfig </dev/null" >"$WORK/log/emulated-$1.log" 2>&1
  oc=$(since "$t"); t=$(now)
  in_chroot "$qemu" "$root" "cd $src && env $(bbenv "$root$src") make -j$JOBS CC=musl-gcc \
    EXTRA_CFLAGS='-isystem /build/hdr' HOSTCC=gcc busybox" >>"$WORK/log/emulated-$1.log" 2>&1
  mk=$(since "$t")
  record "$1" "$2" emulated "$oc" "$mk" "$l0" "$(load)" "$("qemu-$qemu-static" "$root$src/busybox" --list | wc -l)"
}

# Interleave: per round and arch both builds, alternating which goes first.
for r in $(seq 1 "$ROUNDS"); do
  for a in $ARCHES; do
    if [ $((r % 2)) = 1 ]; then cross "$a" "$r"; emulated "$a" "$r"
    else emulated "$a" "$r"; cross "$a" "$r"; fi
  done
done

median() { # arch kind field
  grep "\"arch\":\"$1\"" "$ROWS" | grep "\"kind\":\"$2\"" | sed -n "s/.*\"$3\":\([0-9.]*\).*/\1/p" |
    sort -n | awk '{v[NR]=$1} END {printf "%.1f", NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'
}

echo "| arch | cross make (s) | emulated make (s) | ratio | cross total (s) | emulated total (s) | chroot setup (s) |"
echo "|---|---:|---:|---:|---:|---:|---:|"
summary=()
for a in $ARCHES; do
  c=$(median "$a" cross make_s) e=$(median "$a" emulated make_s)
  ct=$(median "$a" cross total_s) et=$(median "$a" emulated total_s)
  ratio=$(awk -v c="$c" -v e="$e" 'BEGIN{printf "%.1f", e/c}')
  echo "| $a | $c | $e | ${ratio}x | $ct | $et | ${SETUP[$a]} |"
  summary+=("{\"arch\":\"$a\",\"cross_make_median_s\":$c,\"emulated_make_median_s\":$e,\"ratio\":$ratio,\"cross_total_median_s\":$ct,\"emulated_total_median_s\":$et,\"chroot_setup_s\":${SETUP[$a]}}")
done
{
  printf '{"jobs":%s,"rounds":%s,"nproc":%s,"kernel":"%s","qemu":"%s",\n"summary":[%s],\n"runs":[\n' \
    "$JOBS" "$ROUNDS" "$(nproc)" "$(uname -r)" "$(qemu-aarch64-static --version | sed -n 1p)" "$(IFS=,; echo "${summary[*]}")"
  paste -sd, "$ROWS" | sed 's/},{/},\n{/g'; echo ']}'
} >"$OUT"
echo "JSON: $OUT" >&2
