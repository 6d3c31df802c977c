//go:build engine

package engine

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The engine suite and the host suite may run side by side (.ci/run
// starts the engine suite when the host suite reaches its tailnet phase).
// So no step compares with the host suite's artifacts while it runs: each
// queues its comparisons with afterHost, and the last step, host, runs
// them once the host suite has finished. Run after the host suite, the
// wait is immediate.

// hostSuiteWait bounds the wait for the host suite's exit status.
const hostSuiteWait = 85 * time.Minute

// hostRCFile is where tests/run-all.sh writes its exit status when it ends.
const hostRCFile = "host-suite.rc"

type hostCheck struct {
	name string
	run  func(t *testing.T)
}

var (
	hostMu     sync.Mutex
	hostChecks []hostCheck
)

// afterHost queues a comparison with the host suite's artifacts for the
// host step.
func afterHost(name string, run func(t *testing.T)) {
	hostMu.Lock()
	defer hostMu.Unlock()
	hostChecks = append(hostChecks, hostCheck{name, run})
}

// testHost waits for the host suite, then runs every queued comparison:
// the engine's bytes, applet links and root filesystems against the host
// suite's.
func testHost(t *testing.T) {
	start := time.Now()
	rc := waitHostSuite(t)
	mergeReport(t, map[string]any{"host_suite_wait_seconds": time.Since(start).Round(time.Second).Seconds()})
	if rc != "0" {
		// The comparisons still run: a missing artifact fails on its own,
		// and a failure elsewhere in the host suite leaves them meaningful.
		t.Errorf("the host suite exited with %s (see its host-suite.log); comparing with what it left", rc)
	}
	hostMu.Lock()
	checks := slices.Clone(hostChecks)
	hostMu.Unlock()
	if len(checks) == 0 {
		t.Fatal("no step queued a comparison with the host suite")
	}
	slices.SortStableFunc(checks, func(a, b hostCheck) int { return strings.Compare(a.name, b.name) })
	for _, c := range checks {
		t.Run(c.name, c.run)
	}
	mergeReport(t, map[string]any{"host_comparisons": len(checks)})
}

// waitHostSuite polls for the host suite's exit status (bounded) and
// returns it.
func waitHostSuite(t *testing.T) string {
	t.Helper()
	p := filepath.Join(artifactsDir, hostRCFile)
	deadline := time.Now().Add(hostSuiteWait)
	for {
		b, err := os.ReadFile(p)
		if err == nil && strings.TrimSpace(string(b)) != "" {
			return strings.TrimSpace(string(b))
		}
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %s: run the host suite with this ARTIFACTS_DIR (bash tests/run-all.sh)", p, hostSuiteWait)
		}
		time.Sleep(10 * time.Second)
	}
}
