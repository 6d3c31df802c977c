package tests

import (
	"os"
	"strings"
	"testing"
	"time"

	"dagger/mikrotik-tailscale/internal/platform"
)

// binfmtSetup returns shell lines that, inside a fresh user+mount
// namespace, mount a private binfmt_misc (Linux >= 6.7 gives each user
// namespace its own) and register Debian's qemu-user-static interpreter for
// a with its F flag, so a chroot of foreign binaries needs no qemu inside
// and the host's binfmt_misc is never touched. Empty for native arches.
func binfmtSetup(t *testing.T, a platform.Arch) []string {
	t.Helper()
	if a.Qemu == "" {
		return nil
	}
	conf := "/usr/lib/binfmt.d/" + strings.TrimSuffix(a.Qemu, "-static") + ".conf"
	if _, err := os.Stat(conf); err != nil {
		t.Fatalf("binfmt registration for %s: %v (qemu-user-static, installed by tests/run-all.sh)", a.Name, err)
	}
	return []string{
		"mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc",
		"cat " + conf + " >/proc/sys/fs/binfmt_misc/register",
	}
}

// chrootRun runs script with /bin/sh of root inside fresh user, mount, pid
// and network namespaces, with an empty environment (no PATH; only
// QEMU_CPU where the arch sets a CPU model). Foreign arches run through
// binfmtSetup. root is first bound onto itself so / is
// a mount point in the chroot, as in a container (df finds it in
// /proc/mounts); setup lines then run (outside the chroot, with "$1" the
// root) to add what the test needs on top.
func chrootRun(t *testing.T, a platform.Arch, root string, setup []string, script string) result {
	t.Helper()
	lines := append([]string{"set -e"}, binfmtSetup(t, a)...)
	lines = append(lines, `mount --bind "$1" "$1"`)
	lines = append(lines, setup...)
	// qemu started by binfmt_misc takes its CPU model only from QEMU_CPU.
	env := strings.Join(append([]string{"env", "-i"}, a.QemuEnv()...), " ")
	lines = append(lines, `exec `+env+` "$(command -v chroot)" "$1" /bin/sh -c "$2"`)
	return run(t, "", os.Environ(), 10*time.Minute,
		"unshare", "--user", "--map-root-user", "--mount", "--pid", "--net", "--fork", "--kill-child",
		"--", "/bin/sh", "-c", strings.Join(lines, "\n"), "chroot-run", root, script)
}
