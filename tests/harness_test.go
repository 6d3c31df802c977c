// Package tests is the host integration suite: it runs the same recipes the
// Dagger functions run (internal/...) against the real pinned upstream
// sources, on this machine, and proves what they produce. Arm binaries run
// through qemu-user-static. It needs root (network namespaces, chroot);
// tests/run-all.sh installs everything it needs and runs it.
package tests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"dagger/mikrotik-tailscale/internal/pins"
	"dagger/mikrotik-tailscale/internal/platform"
	"dagger/mikrotik-tailscale/internal/suitereport"
)

// artifactsDir is ARTIFACTS_DIR when set (kept for inspection and reports),
// otherwise a temporary directory removed after the run.
var artifactsDir string

func TestMain(m *testing.M) {
	artifactsDir = os.Getenv("ARTIFACTS_DIR")
	cleanup := func() {}
	if artifactsDir == "" {
		dir, err := os.MkdirTemp("", "mikrotik-tailscale-tests-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		artifactsDir = dir
		cleanup = func() { os.RemoveAll(dir) }
	} else if abs, err := filepath.Abs(artifactsDir); err == nil {
		artifactsDir = abs
	}
	if err := os.MkdirAll(artifactsDir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	prefetchHeadscale()
	code := m.Run()
	// Scratch space (source copies, build caches) is never an artifact.
	os.RemoveAll(filepath.Join(artifactsDir, ".work"))
	cleanup()
	os.Exit(code)
}

// archDir is where one arch's artifacts live (created on demand).
func archDir(t testing.TB, a platform.Arch) string {
	t.Helper()
	dir := filepath.Join(artifactsDir, a.Dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// mustArch is the supported platform named name.
func mustArch(t testing.TB, name string) platform.Arch {
	t.Helper()
	a, err := platform.Parse(name)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// scratchDir is a per-run work directory that is not an artifact.
func scratchDir(t testing.TB, name string) string {
	t.Helper()
	dir := filepath.Join(artifactsDir, ".work", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// mergeReport adds measurements to ARTIFACTS_DIR/report.json.
func mergeReport(t testing.TB, patch map[string]any) {
	t.Helper()
	if err := suitereport.Merge(filepath.Join(artifactsDir, "report.json"), patch); err != nil {
		t.Fatal(err)
	}
}

// inTailnetPhase moves a test to the end of the run, side by side with
// TestTailnet (go test runs every test that calls t.Parallel after the
// others, together; run-all.sh allows four at once). The tailnet spends
// about 7 of its 9 minutes in its measurement windows (5 min of netmap
// churn, 2 min of control outage), mostly waiting; the CPU-bound BusyBox
// checks fill that time instead of running before it. The fixtures they
// share build once, under their own locks.
//
// The first test to enter the phase writes tailnetPhaseMarker into the
// artifacts directory: from then on the CPU has room to spare, and
// .ci/run starts the engine suite in it, at the lowest CPU share.
func inTailnetPhase(t *testing.T) {
	t.Helper()
	t.Parallel()
	markTailnetPhase.Do(func() {
		if err := os.WriteFile(filepath.Join(artifactsDir, tailnetPhaseMarker), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
			t.Errorf("writing the tailnet-phase marker: %v", err)
		}
	})
}

// tailnetPhaseMarker is the file in ARTIFACTS_DIR that says the host
// suite has reached its tailnet phase (.ci/run waits for it).
const tailnetPhaseMarker = "host-suite.tailnet-phase"

var markTailnetPhase sync.Once

// requireRoot fails (never skips) when the suite cannot do its job.
func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("this suite needs root (network namespaces, chroot); run it through tests/run-all.sh")
	}
}

// goEnv runs the go command with the builder's Go version, exactly as the
// golang image provides it in the pipeline.
func goEnv(extra ...string) []string {
	env := append(os.Environ(), "GOTOOLCHAIN=go"+pins.GoVersion, "GOFLAGS=-mod=readonly")
	return append(env, extra...)
}

// result is one finished command.
type result struct {
	Stdout, Stderr string
	Err            error
}

func (r result) String() string {
	return fmt.Sprintf("err=%v\nstdout:\n%s\nstderr:\n%s", r.Err, r.Stdout, r.Stderr)
}

// run executes argv with env in dir and a timeout.
// t may be nil (runOK).
func run(t testing.TB, dir string, env []string, timeout time.Duration, argv ...string) result {
	if t != nil {
		t.Helper()
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %s: %v", timeout, err)
	}
	return result{Stdout: out.String(), Stderr: errb.String(), Err: err}
}

// mustRun is run that fails the test on error.
func mustRun(t testing.TB, dir string, env []string, timeout time.Duration, argv ...string) string {
	t.Helper()
	out, err := runOK(dir, env, timeout, argv...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// runOK is mustRun for goroutines other than the test's own, which must
// not fail the test themselves: the error names the command and carries
// its output.
func runOK(dir string, env []string, timeout time.Duration, argv ...string) (string, error) {
	r := run(nil, dir, env, timeout, argv...)
	if r.Err != nil {
		return "", fmt.Errorf("%s: %s", strings.Join(argv, " "), r)
	}
	return r.Stdout, nil
}

// archArgv prefixes argv with the arch's qemu-user runner and CPU model
// (binfmt_misc is not mounted here, so foreign binaries are started
// explicitly).
func archArgv(a platform.Arch, argv ...string) []string {
	return append(a.QemuArgv(), argv...)
}

// fileSize is the size of path in bytes.
func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// copyFile copies src to dst with mode.
func copyFile(t testing.TB, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
}

// sameBytes reports whether two files are identical.
func sameBytes(t testing.TB, a, b string) bool {
	t.Helper()
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(x, y)
}
