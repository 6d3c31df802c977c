// Package smoke is the run-time check of a finished image: a POSIX sh
// script that runs inside the image itself (BusyBox ash, nothing else) and
// proves the daemon, the CLI, the health probe and the shell work. The PR
// check runs it in each image through the engine; the host suite runs it
// in a chroot of the same rootfs.
package smoke

import (
	"fmt"
	"path"
	"strings"

	"dagger/mikrotik-tailscale/internal/layout"
)

// OK is the last line the script prints when every step passed.
const OK = "SMOKE OK"

// LogFile receives tailscaled's output. It lives in the image's own
// filesystem, not in the socket directory's tmpfs, so the caller reads it
// after the run with its own tools: a failing run must explain itself
// even when the image's shell or tail is what broke.
const LogFile = "/smoke-tailscaled.log"

// LogLines is how much of the daemon log a failure report shows.
const LogLines = 40

// Script returns the smoke script for an image that should report
// tailscaleVersion (e.g. "1.104.5").
func Script(tailscaleVersion string) string {
	var quoted []string
	for _, a := range layout.Entrypoint() {
		quoted = append(quoted, shellQuote(a))
	}
	return fmt.Sprintf(`set -u
export %[7]s
log=%[1]s
sock=%[2]s
pid=
fail() { echo "SMOKE FAIL: $*"; [ -z "$pid" ] || kill "$pid" 2>/dev/null; exit 1; }

# tailscaled needs a TUN device; RouterOS provides one, a bare runtime
# may not (the script runs with CAP_MKNOD where it has to create it).
if [ ! -c /dev/net/tun ]; then
	mkdir -p /dev/net && mknod /dev/net/tun c 10 200 || fail "no /dev/net/tun and cannot create it"
fi

out=$(%[8]s 2>&1) && fail "health probe healthy with no tailscaled: $out"
case "$out" in *"not running"*) echo "ok: health probe before start: $out" ;; *) fail "health probe before start: $out" ;; esac

%[3]s >"$log" 2>&1 &
pid=$!
i=0
while [ ! -S "$sock" ]; do
	kill -0 "$pid" 2>/dev/null || fail "tailscaled exited before opening $sock"
	i=$((i + 1))
	[ "$i" -le 600 ] || fail "no socket after 60 s"
	sleep 0.1
done
echo "ok: tailscaled listening on $sock"

for f in /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding; do
	[ "$(cat "$f")" = 1 ] || fail "$f is not 1: the start script did not enable forwarding"
done
echo "ok: forwarding enabled"

out=$(tailscale status 2>&1)
case "$out" in *"Logged out"*) echo "ok: status says logged out" ;; *) fail "status: $out" ;; esac

out=$(%[8]s 2>&1) && fail "health probe healthy while logged out: $out"
case "$out" in *"NeedsLogin"*) echo "ok: health probe logged out: $out" ;; *) fail "health probe logged out: $out" ;; esac

out=$(tailscale set --advertise-routes=192.168.88.0/24 --advertise-exit-node 2>&1) || fail "set: $out"
echo "ok: set --advertise-routes --advertise-exit-node"

v=$(tailscale version | head -n 1)
[ "$v" = %[4]s ] || fail "version $v, want %[5]s"
echo "ok: version $v"

n=$(/bin/sh -c 'echo hello | tr a-z A-Z | wc -c')
[ "$n" -eq 6 ] || fail "pipeline printed $n"
echo "ok: shell pipeline"

kill "$pid"
wait "$pid"
echo %[6]s
`, shellQuote(LogFile), layout.Socket, strings.Join(quoted, " "), shellQuote(tailscaleVersion), tailscaleVersion, OK, layout.Env()[0], layout.HealthCheck)
}

// shellQuote quotes s for POSIX sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Passed reports whether script output ends with the OK line.
func Passed(out string) bool {
	return strings.HasSuffix(strings.TrimSpace(out), OK)
}

// Run is one finished run of the script: its exit code, both output
// streams, and the daemon log read back from LogFile ("" if the run never
// got that far).
type Run struct {
	ExitCode       int
	Stdout, Stderr string
	Log            string
}

// Err is nil for a passing run; otherwise an error that carries
// everything needed to see why: exit code, stdout, stderr, and the last
// LogLines lines of the daemon log.
func (r Run) Err() error {
	if r.ExitCode == 0 && Passed(r.Stdout) {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "smoke script exited %d", r.ExitCode)
	if !Passed(r.Stdout) {
		fmt.Fprintf(&b, " without %q", OK)
	}
	section := func(name, text string) {
		text = strings.TrimRight(text, "\n")
		if text == "" {
			text = "(empty)"
		}
		fmt.Fprintf(&b, "\n--- %s\n%s", name, text)
	}
	section("stdout", r.Stdout)
	section("stderr", r.Stderr)
	section(fmt.Sprintf("tailscaled log (%s, last %d lines)", LogFile, LogLines), tail(r.Log, LogLines))
	return fmt.Errorf("%s", b.String())
}

// tail is the last n lines of text.
func tail(text string, n int) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Applets are the BusyBox applets the script needs in the image.
var Applets = []string{"sh", "sleep", "kill", "head", "tr", "wc", "cat", "mkdir", "mknod", path.Base(layout.HealthCheck)}
