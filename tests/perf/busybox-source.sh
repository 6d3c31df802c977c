# Sourced by the tests/perf/busybox-*.sh measurements: the pinned BusyBox
# source, the per-arch toolchain names, and a source tree prepared as the
# recipe prepares it (internal/busybox). Needs REPO (the repository) set.

SRC_PKG=busybox=1:1.37.0-6   # Debian's orig tarball == upstream 1.37.0
SRC_SHA=3311dff32e746499f4df0d5df04d7eb396382d7e108bb9250e7b519b837043a4

# archinfo ARTIFACT_DIR_NAME: Debian arch, GNU triplet, musl wrapper
# triplet, qemu binfmt name.
archinfo() {
  case $1 in
    arm64) echo arm64 aarch64-linux-gnu aarch64-linux-musl aarch64 ;;
    armv7) echo armhf arm-linux-gnueabihf arm-linux-musleabihf arm ;;
    armv5) echo armel arm-linux-gnueabi arm-linux-musleabi arm ;;
    *) echo "unknown arch $1 (arm64, armv7, armv5)" >&2; return 1 ;;
  esac
}

# fetch_tarball DIR: TARBALL=DIR/<orig tarball>, downloaded once and
# checked against the pin.
fetch_tarball() {
  TARBALL=$1/busybox_1.37.0.orig.tar.bz2
  mkdir -p "$1"
  if [ ! -f "$TARBALL" ]; then (cd "$1" && apt-get source --download-only -qq "$SRC_PKG"); fi
  echo "$SRC_SHA  $TARBALL" | sha256sum -c --quiet
}

# fresh_src DIR CONFIG: DIR/busybox-1.37.0 unpacked from TARBALL, with the
# project's own applets where busybox.OwnApplets puts them and CONFIG as
# its .config.
fresh_src() {
  rm -rf "$1"; mkdir -p "$1"; tar -xjf "$TARBALL" -C "$1"
  cp "$REPO"/internal/busybox/applets/*.c "$1/busybox-1.37.0/miscutils/"
  cp "$2" "$1/busybox-1.37.0/.config"
}

# cross_headers GNU_TRIPLET DIR: the kernel headers of the cross package,
# linked into DIR for the musl wrapper's -isystem (busybox.KernelHeadersArgs).
cross_headers() {
  mkdir -p "$2"; for d in asm asm-generic linux mtd; do ln -sfn "/usr/$1/include/$d" "$2/$d"; done
}
