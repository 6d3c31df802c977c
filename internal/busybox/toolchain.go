package busybox

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"dagger/mikrotik-tailscale/internal/platform"
)

// The BusyBox stage cross-compiles every target in one Debian container of
// the build machine's own architecture: Debian's cross gcc (gcc-<triplet>)
// driven through Debian's musl wrapper (<musl triplet>-gcc, shipped in
// musl-dev:<arch>), linked statically. Nothing runs under emulation, and
// the host suite builds with exactly these packages (tests/run-all.sh).

// triplets are the GNU (binutils, gcc) and musl (wrapper) names of one
// Debian architecture, from the platform table.
type triplets struct{ GNU, Musl string }

// kernelHeaderDirs are the kernel header trees BusyBox includes. The musl
// wrapper passes -nostdinc, which hides them along with glibc's headers;
// linking only these into a directory of their own brings them back
// without glibc's.
var kernelHeaderDirs = []string{"asm", "asm-generic", "linux", "mtd"}

func tripletsFor(debArch string) (triplets, error) {
	a, ok := platform.ByDebian(debArch)
	if !ok {
		return triplets{}, fmt.Errorf("no BusyBox cross toolchain for Debian arch %q: known are %s", debArch, strings.Join(platform.DebianArches(), ", "))
	}
	return triplets{a.GNUTriplet, a.MuslTriplet}, nil
}

// CrossToolchain is the toolchain that builds BusyBox for debArch, with
// the kernel headers KernelHeadersArgs linked into headers.
func CrossToolchain(debArch, headers string) (Toolchain, error) {
	t, err := tripletsFor(debArch)
	if err != nil {
		return Toolchain{}, err
	}
	return Toolchain{CC: t.Musl + "-gcc", CrossCompile: t.GNU + "-", ExtraCFLAGS: "-isystem " + headers}, nil
}

// KernelHeadersArgs links debArch's kernel headers (linux-libc-dev-<arch>-cross
// puts them in /usr/<triplet>/include) into dir, failing if one is missing.
func KernelHeadersArgs(debArch, dir string) ([]string, error) {
	t, err := tripletsFor(debArch)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "set -e\nmkdir -p %s", shellQuote(dir))
	for _, d := range kernelHeaderDirs {
		src := path.Join("/usr", t.GNU, "include", d)
		fmt.Fprintf(&b, "\ntest -d %s\nln -sfn %s %s", shellQuote(src), shellQuote(src), shellQuote(path.Join(dir, d)))
	}
	return []string{"sh", "-c", b.String()}, nil
}

// hostPackages build kconfig's host tools (HOSTCC=gcc) and unpack the
// .tar.bz2.
var hostPackages = []string{"bzip2", "gcc", "libc6-dev", "make"}

// Packages is what apt installs on a Debian machine of architecture
// buildArch to cross-compile BusyBox for every one of targets. The native
// gcc already provides <triplet>-gcc, so the build arch needs no
// gcc-<triplet> package (Debian has none for it).
func Packages(buildArch string, targets []string) ([]string, error) {
	if _, err := tripletsFor(buildArch); err != nil {
		return nil, fmt.Errorf("build machine: %w", err)
	}
	pkgs := slices.Clone(hostPackages)
	for _, deb := range targets {
		t, err := tripletsFor(deb)
		if err != nil {
			return nil, err
		}
		if deb != buildArch {
			pkgs = append(pkgs, "gcc-"+strings.ReplaceAll(t.GNU, "_", "-"))
		}
		pkgs = append(pkgs, "linux-libc-dev-"+deb+"-cross", "musl-dev:"+deb)
	}
	slices.Sort(pkgs)
	return slices.Compact(pkgs), nil
}

// BuildArchArgs prints the build container's Debian architecture.
func BuildArchArgs() []string { return []string{"dpkg", "--print-architecture"} }

// AptArgs installs Packages in a fresh Debian container: the foreign
// architectures are added first, so musl-dev:<arch> resolves.
func AptArgs(buildArch string, targets []string) ([]string, error) {
	pkgs, err := Packages(buildArch, targets)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString("set -e\nexport DEBIAN_FRONTEND=noninteractive")
	for _, deb := range targets {
		if deb != buildArch {
			fmt.Fprintf(&b, "\ndpkg --add-architecture %s", shellQuote(deb))
		}
	}
	b.WriteString("\napt-get update -qq\napt-get install -y -qq --no-install-recommends")
	for _, p := range pkgs {
		b.WriteString(" " + shellQuote(p))
	}
	b.WriteString("\nrm -rf /var/lib/apt/lists/*")
	return []string{"sh", "-c", b.String()}, nil
}
