package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"dagger/mikrotik-tailscale/internal/busybox"
	"dagger/mikrotik-tailscale/internal/platform"
)

// bbRootfs lays out the image's BusyBox part in a fresh directory as
// busybox.go does: only bin/busybox (the UPX'd binary, as shipped) and the
// symlinks the recipe's LinkArgs creates.
func bbRootfs(t *testing.T, b *bbBuild, name string) string {
	t.Helper()
	root := filepath.Join(scratchDir(t, "busybox-rootfs"), name)
	os.RemoveAll(root)
	if err := os.MkdirAll(filepath.Join(root, filepath.Dir(busybox.InstallPath)), 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, b.UPX, filepath.Join(root, busybox.InstallPath), 0o755)
	mustRun(t, root, nil, time.Minute, busybox.LinkArgs(b.Applets)...)
	entries, err := os.ReadDir(filepath.Join(root, filepath.Dir(busybox.InstallPath)))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(b.Applets)+1 {
		t.Fatalf("rootfs bin/ has %d entries, want busybox + %d applets", len(entries), len(b.Applets))
	}
	return root
}

// bbChroot runs script in a chroot of root (see chrootRun). withProc
// mounts a /proc for the chroot's pid namespace; without it the chroot has
// no /proc at all.
func bbChroot(t *testing.T, a platform.Arch, root string, withProc bool, script string) result {
	t.Helper()
	setup := []string{`if [ -d "$1/proc" ]; then rmdir "$1/proc"; fi`}
	if withProc {
		setup = []string{`mkdir -p "$1/proc"`, `mount -t proc proc "$1/proc"`}
	}
	return chrootRun(t, a, root, setup, script)
}

// bbSections splits output made of "=== name" headers and "=== rc N"
// trailers into name → (output, exit status).
type bbSection struct {
	Out string
	RC  int
}

var bbHeaderRe = regexp.MustCompile(`^=== (rc (\d+)|(.+))$`)

func bbSections(t *testing.T, out string) map[string]bbSection {
	t.Helper()
	got := map[string]bbSection{}
	var name string
	var body []string
	for _, l := range strings.Split(out, "\n") {
		m := bbHeaderRe.FindStringSubmatch(l)
		switch {
		case m == nil:
			if name != "" {
				body = append(body, l)
			}
		case m[2] != "":
			if name == "" {
				t.Fatalf("rc line without a section in:\n%s", out)
			}
			rc, _ := strconv.Atoi(m[2])
			got[name] = bbSection{Out: strings.Join(body, "\n"), RC: rc}
			name, body = "", nil
		default:
			name, body = m[3], nil
		}
	}
	return got
}

// bbScript renders named shell snippets as one script whose output
// bbSections parses. Each snippet runs in a subshell with stderr folded in.
func bbScript(prelude string, names []string, snippets map[string]string) string {
	var b strings.Builder
	b.WriteString(prelude + "\n")
	for _, n := range names {
		// The extra echo ends a last line that has no newline (echo -n).
		fmt.Fprintf(&b, "echo '=== %s'\n( %s ) 2>&1\nrc=$?\necho\necho \"=== rc $rc\"\n", n, snippets[n])
	}
	return b.String()
}

// bbQuote single-quotes s for the shell.
func bbQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
