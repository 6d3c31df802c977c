package tests

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"dagger/mikrotik-tailscale/internal/layout"
	"dagger/mikrotik-tailscale/internal/pins"
	"dagger/mikrotik-tailscale/internal/platform"
)

// Every way RouterOS may start the container (layout.RuntimeStarts: the
// image's Entrypoint as up to 7.21, the container's own entrypoint= with
// the image ignored as 7.22+ may, a cmd= naming the script; each with and
// without the image's environment), on every platform's rootfs: the
// running tailscaled's own argv (/proc/<pid>/cmdline) and environment are
// the same every time. Then its log: nothing above --verbose=0, no
// control character, and --verbose=2 through TS_TAILSCALED_EXTRA_ARGS
// brings the verbose lines back; SIGTERM stops it cleanly, timed.
func TestImageStartModes(t *testing.T) {
	requireRoot(t)
	layers := imageLayers(t)
	for _, a := range platform.All() {
		t.Run(a.Dir, func(t *testing.T) {
			t.Parallel()
			root := filepath.Join(scratchDir(t, "image-start-modes"), a.Dir)
			os.RemoveAll(root)
			if err := layout.WriteRootfs(root, layers, imageSources(t, a)); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(archDir(t, a), "start-modes")
			os.RemoveAll(dir)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			// /container/shell where RouterOS gives no PATH: BusyBox's
			// default path, and the CLI found through layout.ShellCLI.
			r := chrootRun(t, a, root, nil, "echo \"path=$PATH\"; tailscale version")
			if v := strings.TrimPrefix(pins.TailscaleVersion, "v"); r.Err != nil || !strings.Contains(r.Stdout, "\n"+v+"\n") {
				t.Errorf("a shell without PATH does not run tailscale: %s", r)
			}
			report := map[string]any{}
			var defaultLines int
			for _, s := range layout.RuntimeStarts() {
				var env []string
				if s.ImageEnv {
					env = layout.Env()
				}
				d := startImage(t, a, root, dir, strings.ReplaceAll(s.Name, "/", "_"), s.Argv, env)
				if want := layout.WantDaemonArgv(); !slices.Equal(d.argv, want) {
					t.Errorf("%s: tailscaled's argv %q, want %q", s.Name, d.argv, want)
				}
				for _, kv := range append(layout.Env(), "SSL_CERT_DIR=/"+layout.ExtraCADir) {
					if !slices.Contains(d.environ, kv) {
						t.Errorf("%s: tailscaled's environment %q lacks %s", s.Name, d.environ, kv)
					}
				}
				checkQuietLog(t, s.Name, d.lines)
				defaultLines = len(d.lines)
				report["stop_s"] = d.stop.Seconds()
			}
			verbose := startImage(t, a, root, dir, "verbose2", nil, []string{"TS_TAILSCALED_EXTRA_ARGS=--verbose=2"}).lines
			if len(verbose) <= defaultLines {
				t.Errorf("--verbose=2 printed %d lines, no more than the default's %d:\n%s", len(verbose), defaultLines, strings.Join(verbose, "\n"))
			}
			report["log_lines_default"], report["log_lines_verbose2"] = defaultLines, len(verbose)
			mergeReport(t, map[string]any{"arches": map[string]any{a.Dir: map[string]any{"start_modes": report}}})
			t.Logf("%s: %d start modes, one argv; first seconds' log %d lines, %d at --verbose=2", a.Dir, len(layout.RuntimeStarts()), defaultLines, len(verbose))
		})
	}
}

// daemonRun is what startImage saw of one tailscaled.
type daemonRun struct {
	argv, environ []string      // the running process's, qemu's own arguments left out
	lines         []string      // its log until it was stopped
	stop          time.Duration // from SIGTERM to its exit
}

// startImage runs the image in a container-like node (namespaces, TUN,
// tmpfs socket directory) as a runtime would execute argv with env
// (nothing else: no PATH), waits until tailscaled answers and 3 s more,
// reads its process, then stops it with SIGTERM, as /container/stop does
// (stop-signal's default), and requires a clean exit within 20 s.
func startImage(t *testing.T, a platform.Arch, root, dir, name string, argv, env []string) daemonRun {
	t.Helper()
	n := &node{name: name, arch: a, root: root, env: env, log: filepath.Join(dir, name+".log"), argv: argv}
	os.Remove(n.log)
	n.start(t)
	t.Cleanup(func() { n.Stop(t) })
	n.Go(t)
	time.Sleep(3 * time.Second)
	var d daemonRun
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", n.child))
	if err != nil {
		t.Fatal(err)
	}
	d.argv = guestArgv(t, strings.Split(strings.TrimSuffix(string(cmdline), "\x00"), "\x00"))
	environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", n.child))
	if err != nil {
		t.Fatal(err)
	}
	d.environ = strings.Split(strings.TrimSuffix(string(environ), "\x00"), "\x00")
	start := time.Now()
	syscall.Kill(n.child, syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(20 * time.Second):
		t.Errorf("%s: tailscaled still running 20 s after SIGTERM", name)
	}
	d.stop = time.Since(start)
	n.Stop(t)
	if n.err != nil {
		t.Errorf("%s: tailscaled exited with %v after SIGTERM", name, n.err)
	}
	b, err := os.ReadFile(n.log)
	if err != nil {
		t.Fatal(err)
	}
	d.lines = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	return d
}

// guestArgv is tailscaled's own argv from its /proc cmdline: natively the
// whole of it; under qemu-user (binfmt_misc with the P flag) what follows
// qemu's own arguments, from the last layout.Daemon (argv[0], preserved).
// Anything before that must be qemu's.
func guestArgv(t *testing.T, cmdline []string) []string {
	t.Helper()
	i := slices.Index(cmdline, layout.Daemon)
	for j := len(cmdline) - 1; j >= 0; j-- {
		if cmdline[j] == layout.Daemon {
			i = j
			break
		}
	}
	if i < 0 {
		t.Fatalf("no %s in the daemon's cmdline %q", layout.Daemon, cmdline)
	}
	for _, pre := range cmdline[:i] {
		if !strings.Contains(pre, "qemu") && pre != layout.Daemon && !strings.HasPrefix(pre, "-") {
			t.Fatalf("cmdline %q: %q before tailscaled's argv is not qemu's", cmdline, pre)
		}
	}
	return cmdline[i:]
}

// checkQuietLog holds a log at --verbose=0 to what tailscaled prints there
// with logtail: no [v1]/[v2] line, no structured JSON record, no control
// character (internal/daemonlog).
func checkQuietLog(t *testing.T, name string, lines []string) {
	t.Helper()
	for _, l := range lines {
		if strings.Contains(l, "[v1] ") || strings.Contains(l, "[v2] ") || strings.Contains(l, "JSON]") ||
			bytes.ContainsFunc([]byte(l), func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Errorf("%s: a line above --verbose=0 or with a control character: %q", name, l)
		}
	}
}
