package busybox

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Tarball is the release tarball's file name.
func Tarball(version string) string { return "busybox-" + version + ".tar.bz2" }

// URL is where the release tarball is downloaded from.
func URL(version string) string { return "https://busybox.net/downloads/" + Tarball(version) }

// SrcDir is the directory the tarball unpacks to.
func SrcDir(version string) string { return "busybox-" + version }

// SHA256Sums is a `sha256sum -c` input for the tarball.
func SHA256Sums(sha256, file string) string { return sha256 + "  " + file + "\n" }

// VerifyArgs checks the tarball against a SHA256Sums file; run it in the
// tarball's directory before anything reads the tarball.
func VerifyArgs(sumsFile string) []string { return []string{"sha256sum", "-c", sumsFile} }

// ExtractArgs unpacks the tarball into the current directory (bzip2; both
// GNU and BusyBox tar accept -j).
func ExtractArgs(tarball string) []string { return []string{"tar", "-xjf", tarball} }

// EpochArgs prints the Unix time of the source's Makefile, which the
// release tarball stamps with the release time. It becomes
// SOURCE_DATE_EPOCH, so the banner's build date is the release's, not the
// build machine's clock.
func EpochArgs() []string { return []string{"stat", "-c", "%Y", "Makefile"} }

// ParseEpoch reads EpochArgs output.
func ParseEpoch(out string) (int64, error) {
	s := strings.TrimSpace(out)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("source date epoch: cannot parse %q", s)
	}
	return n, nil
}

// Env is the environment of every make step: a fixed build date and time
// zone, so two builds of the same source and config give the same bytes.
func Env(epoch int64) []string {
	return []string{"SOURCE_DATE_EPOCH=" + strconv.FormatInt(epoch, 10), "TZ=UTC", "LC_ALL=C"}
}

// Toolchain is the compiler a build uses (see CrossToolchain). The zero
// value is the build machine's own gcc.
type Toolchain struct {
	// CC replaces $(CROSS_COMPILE)gcc, e.g. a musl wrapper.
	CC string
	// CrossCompile is the binutils prefix (strip, ar), e.g.
	// "aarch64-linux-gnu-".
	CrossCompile string
	// ExtraCFLAGS, e.g. "-isystem <kernel headers>" for a musl wrapper
	// whose include path has no linux/ headers.
	ExtraCFLAGS string
}

// MakeArgs builds busybox (stripped) and busybox_unstripped.
func MakeArgs(tc Toolchain, jobs int) []string {
	if jobs < 1 {
		jobs = 1
	}
	args := []string{"make", "-j" + strconv.Itoa(jobs)}
	if tc.CrossCompile != "" {
		args = append(args, "CROSS_COMPILE="+tc.CrossCompile)
	}
	if tc.CC != "" {
		args = append(args, "CC="+tc.CC)
	}
	if tc.ExtraCFLAGS != "" {
		args = append(args, "EXTRA_CFLAGS="+tc.ExtraCFLAGS)
	}
	// kconfig's host tools are built with the build machine's compiler.
	return append(args, "HOSTCC=gcc", "busybox")
}

// Binary is the stripped build output, relative to the source tree;
// Unstripped is the same before strip.
const (
	Binary     = "busybox"
	Unstripped = "busybox_unstripped"
)

// InstallPath is the binary's path in the output directory and image.
const InstallPath = "bin/busybox"

// Link is one symlink of the farm: Path (relative to the output root)
// points at Target (relative to the link's directory).
type Link struct {
	Path   string
	Target string
}

// Links is the symlink farm: bin/<applet> → busybox for every applet. The
// shell finds applets through PATH like any other command, so nothing
// depends on /proc/self/exe (see docs/BUSYBOX.md).
func Links(applets []string) []Link {
	dir, bin := path.Split(InstallPath)
	out := make([]Link, 0, len(applets))
	for _, a := range applets {
		out = append(out, Link{Path: dir + a, Target: bin})
	}
	return out
}

// LinkArgs creates the symlink farm; run it in the output root, after
// InstallPath is in place. One shell, one `ln -s` per applet (names such
// as `[` are quoted).
func LinkArgs(applets []string) []string {
	var b strings.Builder
	b.WriteString("set -e")
	for _, l := range Links(applets) {
		fmt.Fprintf(&b, "\nln -s %s %s", shellQuote(l.Target), shellQuote(l.Path))
	}
	return []string{"sh", "-c", b.String()}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// NprocArgs prints the build machine's CPU count (make's -j).
func NprocArgs() []string { return []string{"nproc"} }

// ParseJobs reads NprocArgs output.
func ParseJobs(out string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil || n < 1 {
		return 0, fmt.Errorf("nproc: cannot parse %q", strings.TrimSpace(out))
	}
	return n, nil
}

// ListArgs prints the applets compiled in, one per line; run it on the
// built binary (path) to compare against the list.
func ListArgs(binary string) []string { return []string{binary, "--list"} }

// CheckList compares `busybox --list` output with the applet list.
func CheckList(out string, applets []string) error {
	got := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			got[l] = true
		}
	}
	var missing, extra []string
	want := map[string]bool{}
	for _, a := range applets {
		want[a] = true
		if !got[a] {
			missing = append(missing, a)
		}
	}
	for a := range got {
		if !want[a] {
			extra = append(extra, a)
		}
	}
	sort.Strings(extra)
	if len(missing)+len(extra) > 0 {
		return fmt.Errorf("busybox --list differs from %s: missing %v, not listed %v", ListFile, missing, extra)
	}
	return nil
}
