package tests

import (
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"dagger/mikrotik-tailscale/internal/features"
	"dagger/mikrotik-tailscale/internal/pins"
	"dagger/mikrotik-tailscale/internal/platform"
	"dagger/mikrotik-tailscale/internal/tsbuild"
)

// The catalogue is checked against the real featuretags of the pinned
// version, and its validation really rejects names upstream does not know.
func TestTailscaleFeatureReview(t *testing.T) {
	s := tailscaleBuild(t)
	md := s.Review.Markdown(pins.TailscaleVersion)
	if err := os.WriteFile(filepath.Join(artifactsDir, "features.md"), []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d upstream features: %d included, %d dependencies, %d omitted, %d not yet reviewed %v; %d tags",
		len(s.Known), len(s.Review.Included), len(s.Review.Dependencies), len(s.Review.Omitted),
		len(s.Review.Unreviewed), s.Review.Unreviewed, len(s.Review.Tags))

	bogus := append(slices.Clone(features.Allowlist), features.Feature{Name: "magicdns", Reason: "typo"})
	err := features.Validate(s.Known, bogus, features.Omissions)
	if err == nil || !strings.Contains(err.Error(), "magicdns") || !strings.Contains(err.Error(), "advertiseexitnode") {
		t.Fatalf("an unknown name was not rejected with the valid names listed: %v", err)
	}
	// Every upstream feature is accounted for exactly once.
	total := len(s.Review.Included) + len(s.Review.Dependencies) + len(s.Review.Omitted) + len(s.Review.Unreviewed)
	if total != len(s.Known) {
		t.Fatalf("review covers %d features, upstream has %d", total, len(s.Known))
	}
	mergeReport(t, map[string]any{
		"tailscale_version": strings.TrimPrefix(pins.TailscaleVersion, "v"),
		"go_version":        s.GoVersion,
		"features": map[string]any{
			"included": s.Review.Included, "dependencies": s.Review.Dependencies,
			"omitted": len(s.Review.Omitted), "unreviewed": s.Review.Unreviewed,
		},
	})
}

// `go version -m` reads the build info Go embeds even in a stripped binary:
// the exact tags and flags the binary was built with.
func TestTailscaleBuildInfo(t *testing.T) {
	s := tailscaleBuild(t)
	for _, a := range platform.All() {
		t.Run(a.Dir, func(t *testing.T) {
			out := mustRun(t, "", goEnv(), time.Minute, "go", "version", "-m", s.Raw[a.Name])
			set := buildSettings(out)
			tags := strings.Split(set["-tags"], ",")
			if d := features.Diff(s.Review.Tags, tags); len(d) > 0 {
				t.Errorf("binary tags differ from the recipe: %v", d)
			}
			for _, f := range features.Omissions {
				if !slices.Contains(tags, features.OmitTag(f.Name)) {
					t.Errorf("omission %s is compiled in", f.Name)
				}
			}
			for _, f := range features.Allowlist {
				if slices.Contains(tags, features.OmitTag(f.Name)) {
					t.Errorf("allowlisted %s is omitted", f.Name)
				}
			}
			if !slices.Contains(tags, features.CLITag) {
				t.Errorf("%s missing", features.CLITag)
			}
			for _, tag := range tags {
				name, ok := strings.CutPrefix(tag, "ts_omit_")
				if _, known := s.Known[name]; ok && !known {
					t.Errorf("unknown tag %s", tag)
				}
			}
			want := map[string]string{
				"-gcflags": "all=-l", "-trimpath": "true", "CGO_ENABLED": "0",
				"GOOS": "linux", "GOARCH": a.GOARCH, "GOARM": a.GOARM,
			}
			for k, v := range want {
				if set[k] != v {
					t.Errorf("build setting %s = %q, want %q", k, set[k], v)
				}
			}
			// -trimpath keeps -ldflags out of the build info, so check the
			// ELF itself: -s -w leave no symbol table and no DWARF.
			if secs := symbolSections(t, s.Raw[a.Name]); len(secs) > 0 {
				t.Errorf("not stripped: ELF has %v", secs)
			}
			mergeReport(t, map[string]any{"arches": map[string]any{a.Dir: map[string]any{
				"tags":                tags,
				"tailscale_raw_bytes": fileSize(t, s.Raw[a.Name]),
				"tailscale_bytes":     fileSize(t, s.UPX[a.Name]),
			}}})
		})
	}
}

// buildSettings parses the "build KEY=VALUE" lines of `go version -m`.
func buildSettings(out string) map[string]string {
	set := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.SplitN(strings.TrimSpace(line), "\t", 2)
		if len(f) == 2 && f[0] == "build" {
			k, v, _ := strings.Cut(f[1], "=")
			set[k] = v
		}
	}
	return set
}

// symbolSections lists the ELF sections that -s -w should have removed.
func symbolSections(t *testing.T, path string) []string {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var found []string
	for _, sec := range f.Sections {
		if sec.Name == ".symtab" || strings.HasPrefix(sec.Name, ".debug_") || strings.HasPrefix(sec.Name, ".zdebug_") {
			found = append(found, sec.Name)
		}
	}
	return found
}

// Both the raw and the UPX'd binary report the pinned version (not
// ERR-BuildInfo), run the CLI when called as `tailscale`, and have no
// `update` subcommand.
func TestTailscaleVersionAndArgv0(t *testing.T) {
	s := tailscaleBuild(t)
	long, short := tsbuild.Stamps(pins.TailscaleVersion)
	for _, a := range platform.All() {
		for kind, bin := range map[string]string{"raw": s.Raw[a.Name], "upx": s.UPX[a.Name]} {
			t.Run(a.Dir+"/"+kind, func(t *testing.T) {
				dir := scratchDir(t, "argv0-"+a.Dir+"-"+kind)
				links := map[string]string{}
				for _, name := range tsbuild.Argv0Names {
					links[name] = filepath.Join(dir, name)
					os.Remove(links[name])
					if err := os.Symlink(bin, links[name]); err != nil {
						t.Fatal(err)
					}
				}
				for _, argv := range [][]string{
					{links["tailscaled"], "--version"},
					{links["tailscale"], "version"},
				} {
					out := mustRun(t, dir, nil, 2*time.Minute, archArgv(a, argv...)...)
					first, _, _ := strings.Cut(out, "\n")
					if first != short || strings.Contains(out, "ERR-BuildInfo") || !strings.Contains(out, long) {
						t.Errorf("%v printed %q, want first line %q and long version %q", argv, out, short, long)
					}
				}
				r := run(t, dir, nil, 2*time.Minute, archArgv(a, links["tailscale"], "update")...)
				if r.Err == nil || !strings.Contains(r.Stdout+r.Stderr, "unknown subcommand") {
					t.Errorf("`tailscale update` should be an unknown subcommand: %s", r)
				}
			})
		}
	}
}

// UPX's own integrity test passes and the packed file is smaller.
func TestTailscaleUPX(t *testing.T) {
	s := tailscaleBuild(t)
	for _, a := range platform.All() {
		t.Run(a.Dir, func(t *testing.T) {
			mustRun(t, "", nil, 5*time.Minute, "upx", "-t", s.UPX[a.Name])
			raw, packed := fileSize(t, s.Raw[a.Name]), fileSize(t, s.UPX[a.Name])
			if packed >= raw {
				t.Errorf("UPX did not shrink the binary: %d -> %d", raw, packed)
			}
			t.Logf("%s: raw %d bytes, UPX %d bytes (%.1f%%)", a.Dir, raw, packed, 100*float64(packed)/float64(raw))
		})
	}
}

// In a private network namespace the shipped (UPX'd) daemon starts, the
// CLI reaches it over the socket and reports "Logged out", and setting the
// router's routes and exit node succeeds (small builds without
// clientupdate have broken `set` before).
func TestTailscaleDaemonSmoke(t *testing.T) {
	s := tailscaleBuild(t)
	for _, a := range platform.All() {
		t.Run(a.Dir, func(t *testing.T) {
			d := startDaemon(t, a, s.UPX[a.Name])
			r := d.cli(t, "status")
			if !strings.Contains(r.Stdout+r.Stderr, "Logged out") {
				t.Fatalf("status did not answer logged out: %s\n%s", r, d.log())
			}
			if r := d.cli(t, "set", "--advertise-routes=192.168.88.0/24", "--advertise-exit-node"); r.Err != nil {
				t.Fatalf("set failed: %s\n%s", r, d.log())
			}
			r = d.cli(t, "debug", "prefs")
			var prefs struct{ AdvertiseRoutes []string }
			if err := json.Unmarshal([]byte(r.Stdout), &prefs); err != nil {
				t.Fatalf("debug prefs: %v\n%s", err, r)
			}
			for _, want := range []string{"192.168.88.0/24", "0.0.0.0/0", "::/0"} {
				if !slices.Contains(prefs.AdvertiseRoutes, want) {
					t.Errorf("advertised routes %v lack %s", prefs.AdvertiseRoutes, want)
				}
			}
		})
	}
}

// daemon is a tailscaled running in its own network namespace with its
// state and socket in a temporary directory.
type daemon struct {
	arch   platform.Arch
	dir    string
	socket string
	cliBin string
	logf   string
}

func startDaemon(t *testing.T, a platform.Arch, bin string) *daemon {
	t.Helper()
	dir := t.TempDir()
	d := &daemon{arch: a, dir: dir, socket: filepath.Join(dir, "tailscaled.sock"),
		cliBin: filepath.Join(dir, "tailscale"), logf: filepath.Join(dir, "tailscaled.log")}
	daemonBin := filepath.Join(dir, "tailscaled")
	for _, l := range []string{daemonBin, d.cliBin} {
		if err := os.Symlink(bin, l); err != nil {
			t.Fatal(err)
		}
	}
	logFile, err := os.Create(d.logf)
	if err != nil {
		t.Fatal(err)
	}
	// A fresh network namespace with only loopback up, like a container
	// with no network attached: nothing is reachable. The CLI, outside,
	// still reaches the daemon's socket by path.
	argv := append([]string{"unshare", "--net", "--", "sh", "-c", `ip link set lo up && exec "$@"`, "sh"},
		archArgv(a, daemonBin, "--statedir="+filepath.Join(dir, "state"), "--socket="+d.socket, "--no-logs-no-support")...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		logFile.Close()
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(d.socket); err == nil {
			return d
		}
		select {
		case <-exited:
			t.Fatalf("tailscaled exited before opening its socket: %v\n%s", waitErr, d.log())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("tailscaled did not open %s within 60s\n%s", d.socket, d.log())
		}
	}
}

func (d *daemon) cli(t *testing.T, args ...string) result {
	t.Helper()
	argv := append([]string{d.cliBin, "--socket=" + d.socket}, args...)
	return run(t, d.dir, nil, 2*time.Minute, archArgv(d.arch, argv...)...)
}

func (d *daemon) log() string {
	b, _ := os.ReadFile(d.logf)
	const max = 4000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return "tailscaled log (tail):\n" + string(b)
}
