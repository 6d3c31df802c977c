package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"dagger/mikrotik-tailscale/internal/busybox"
	"dagger/mikrotik-tailscale/internal/pins"
	"dagger/mikrotik-tailscale/internal/platform"
	"dagger/mikrotik-tailscale/internal/tsbuild"
)

// debianBusyboxSource is the Debian upload whose orig tarball supplies the
// BusyBox source here (busybox.net is not reachable from CI). The tarball
// is byte-identical to upstream's: it must match pins.BusyBoxSHA256.
const debianBusyboxSource = "busybox=1:1.37.0-6"

// bbJobs is make's parallelism: the CI machine has 2 cores.
const bbJobs = 2

// bbBuild is one BusyBox build of the recipe on this host.
type bbBuild struct {
	Arch     platform.Arch
	Strategy busybox.Strategy
	Src      string // unpacked, configured and built source tree
	Config   string // final .config
	Applets  []string
	Raw      string // busybox_unstripped
	Stripped string // busybox (as make strips it)
	UPX      string // stripped + upx --lzma --best: what the image ships
}

var (
	bbMu      sync.Mutex
	bbTarball string
	bbBuilds  = map[string]*bbBuild{}
	bbFailed  = map[string]bool{}
)

// busyboxBuild returns the build of (arch, strategy), running it on first
// use.
func busyboxBuild(t *testing.T, a platform.Arch, s busybox.Strategy) *bbBuild {
	t.Helper()
	requireRoot(t)
	key := fmt.Sprintf("%s-%s", a.Dir, s)
	bbMu.Lock()
	defer bbMu.Unlock()
	if b := bbBuilds[key]; b != nil {
		return b
	}
	if bbFailed[key] {
		t.Fatalf("busybox build %s failed earlier; see the first failing test", key)
	}
	bbFailed[key] = true // until it completes
	b := runBusyboxRecipe(t, a, s, filepath.Join(scratchDir(t, "busybox"), key))
	bbFailed[key] = false
	bbBuilds[key] = b
	return b
}

// busyboxTarball fetches Debian trixie's orig tarball with apt-get source
// and verifies it against the pin with the recipe's own check.
func busyboxTarball(t *testing.T) string {
	t.Helper()
	if bbTarball != "" {
		return bbTarball
	}
	dir := scratchDir(t, "busybox-download")
	mustRun(t, dir, os.Environ(), 10*time.Minute, "apt-get", "source", "--download-only", "-qq", debianBusyboxSource)
	orig := fmt.Sprintf("busybox_%s.orig.tar.bz2", pins.BusyBoxVersion)
	sums := filepath.Join(dir, "SHA256SUMS")
	if err := os.WriteFile(sums, []byte(busybox.SHA256Sums(pins.BusyBoxSHA256, orig)), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, dir, nil, time.Minute, busybox.VerifyArgs(sums)...)
	bbTarball = filepath.Join(dir, orig)
	return bbTarball
}

// bbToolchain is the recipe's cross toolchain for an arch, with its kernel
// headers linked by the recipe's own command, exactly as busybox.go does
// in the build container.
func bbToolchain(t *testing.T, a platform.Arch) busybox.Toolchain {
	t.Helper()
	hdr := filepath.Join(scratchDir(t, "busybox-kernel-headers"), a.Dir)
	args, err := busybox.KernelHeadersArgs(a.Debian, hdr)
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", nil, time.Minute, args...)
	tc, err := busybox.CrossToolchain(a.Debian, hdr)
	if err != nil {
		t.Fatal(err)
	}
	return tc
}

// runBusyboxRecipe runs the BusyBox stage in dir: unpack and add the own
// applets, then busybox.Configure (the applet symbols from the source,
// the .config written and checked) as busybox.go runs it in the build
// container, then build, list, UPX.
func runBusyboxRecipe(t *testing.T, a platform.Arch, s busybox.Strategy, dir string) *bbBuild {
	t.Helper()
	start := time.Now()
	tarball := busyboxTarball(t)
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	mustRun(t, dir, nil, 5*time.Minute, busybox.ExtractArgs(tarball)...)
	src := filepath.Join(dir, busybox.SrcDir(pins.BusyBoxVersion))
	for _, f := range busybox.OwnApplets() {
		if err := os.WriteFile(filepath.Join(src, f.Path), []byte(f.Content), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	listText, err := os.ReadFile(filepath.Join("..", busybox.ListFile))
	if err != nil {
		t.Fatal(err)
	}
	list, err := busybox.ParseList(string(listText))
	if err != nil {
		t.Fatal(err)
	}
	run := &dirRunner{dir: src, env: bbBaseEnv()}
	cfg, err := busybox.Configure(run, list, s)
	if err != nil {
		t.Fatal(err)
	}
	env, final, sel := run.env, cfg.Config, cfg.Selection

	mustRun(t, src, env, 30*time.Minute, busybox.MakeArgs(bbToolchain(t, a), bbJobs)...)
	b := &bbBuild{
		Arch: a, Strategy: s, Src: src, Config: final, Applets: sel.Applets,
		Raw:      filepath.Join(src, busybox.Unstripped),
		Stripped: filepath.Join(src, busybox.Binary),
		UPX:      filepath.Join(dir, "busybox.upx"),
	}
	out := mustRun(t, src, nil, time.Minute, archArgv(a, busybox.ListArgs(b.Stripped)...)...)
	if err := busybox.CheckList(out, sel.Applets); err != nil {
		t.Fatal(err)
	}
	copyFile(t, b.Stripped, b.UPX, 0o755)
	mustRun(t, dir, nil, 10*time.Minute, tsbuild.UPXArgs(b.UPX)...)
	mustRun(t, dir, nil, 10*time.Minute, "upx", "-t", b.UPX)
	t.Logf("busybox %s %s built in %s: raw %d, stripped %d, upx %d bytes", a.Name, s,
		time.Since(start).Round(time.Second), fileSize(t, b.Raw), fileSize(t, b.Stripped), fileSize(t, b.UPX))
	return b
}

// dirRunner runs the BusyBox stage's steps in a source directory on this
// machine (busybox.Runner), each command at once, with a minimal
// environment plus what the stage sets.
type dirRunner struct {
	dir string
	env []string
}

func (r *dirRunner) Output(argv []string) (string, error) {
	return runOK(r.dir, r.env, 5*time.Minute, argv...)
}

func (r *dirRunner) Run(argv []string) error {
	_, err := r.Output(argv)
	return err
}

func (r *dirRunner) SetEnv(env []string) { r.env = append(r.env, env...) }

func (r *dirRunner) WriteFile(rel, content string) error {
	return os.WriteFile(filepath.Join(r.dir, rel), []byte(content), 0o644)
}

func (r *dirRunner) ReadFile(rel string) (string, error) {
	b, err := os.ReadFile(filepath.Join(r.dir, rel))
	return string(b), err
}

// bbBaseEnv is a minimal build environment: PATH only, so the host's
// locale, CFLAGS or MAKEFLAGS cannot leak into the build.
func bbBaseEnv() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=/root"}
}

// bbSizes are the three sizes of a build.
func bbSizes(t *testing.T, b *bbBuild) map[string]int64 {
	return map[string]int64{
		"raw":      fileSize(t, b.Raw),
		"stripped": fileSize(t, b.Stripped),
		"upx":      fileSize(t, b.UPX),
	}
}

// bbEnabled lists the non-applet symbols =y in a final .config (the
// features a strategy ended up with).
func bbEnabled(cfg string) []string {
	var out []string
	for sym, v := range busybox.ParseConfig(cfg) {
		if v == "y" {
			out = append(out, sym)
		}
	}
	return out
}

// TestBusyboxToolchainInstalled proves the build container's package list
// (busybox.Packages for this machine's arch and every target) names real
// Debian packages, and that tests/run-all.sh installed exactly what the
// pipeline installs: each one must be installed here.
func TestBusyboxToolchainInstalled(t *testing.T) {
	build := strings.TrimSpace(mustRun(t, "", nil, time.Minute, busybox.BuildArchArgs()...))
	pkgs, err := busybox.Packages(build, platform.DebianArches())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkgs {
		r := run(t, "", nil, time.Minute, "dpkg-query", "-W", "-f=${db:Status-Status}", p)
		if r.Err != nil || r.Stdout != "installed" {
			t.Errorf("%s is not installed (add it to tests/run-all.sh): %s", p, r)
		}
	}
}
