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

// bbChroot runs script with /bin/sh of root inside fresh user, mount, pid
// and network namespaces, with an empty environment (no PATH). Arm
// binaries run through qemu-user: binfmt_misc is mounted privately in the
// user namespace (Linux >= 6.7 gives each user namespace its own) and
// Debian's qemu-user-static registration is loaded with its F flag, so the
// kernel holds the interpreter open and the chroot needs no qemu inside.
// The host's binfmt_misc is never touched. withProc mounts a /proc for the
// chroot's pid namespace; without it the chroot has no /proc at all.
func bbChroot(t *testing.T, a platform.Arch, root string, withProc bool, script string) result {
	t.Helper()
	setup := []string{"set -e"}
	if a.Qemu != "" {
		conf := "/usr/lib/binfmt.d/" + strings.TrimSuffix(a.Qemu, "-static") + ".conf"
		if _, err := os.Stat(conf); err != nil {
			t.Fatalf("binfmt registration for %s: %v (qemu-user-static, installed by tests/run-all.sh)", a.Name, err)
		}
		setup = append(setup,
			"mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc",
			"cat "+conf+" >/proc/sys/fs/binfmt_misc/register")
	}
	// Bind root onto itself so / is a mount point in the chroot, as in a
	// container (df finds it in /proc/mounts); /proc goes on top of that.
	setup = append(setup, `mount --bind "$1" "$1"`)
	if withProc {
		setup = append(setup, `mkdir -p "$1/proc"`, `mount -t proc proc "$1/proc"`)
	} else {
		setup = append(setup, `if [ -d "$1/proc" ]; then rmdir "$1/proc"; fi`)
	}
	setup = append(setup, `exec env -i "$(command -v chroot)" "$1" /bin/sh -c "$2"`)
	return run(t, "", os.Environ(), 10*time.Minute,
		"unshare", "--user", "--map-root-user", "--mount", "--pid", "--net", "--fork", "--kill-child",
		"--", "/bin/sh", "-c", strings.Join(setup, "\n"), "bbchroot", root, script)
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
