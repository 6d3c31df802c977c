//go:build engine

package engine

import "testing"

// TestEngine runs the suite in the order the steps depend on each other:
// features first, alone: its call leaves the constructor's result in the
// engine's function cache, so the bad-input calls after it, side by side,
// each start one module runtime instead of two (a runtime start is slow
// on an engine that installs its custom CAs around each exec); builds
// next (later calls reuse the engine's cache); releases, the rollback
// (its release re-run reuses the releases' builds) and release-tag, all
// against the forge, whose build starts with the suite, niced, in the
// background; the restarted-engine checks (the same cache, loaded back
// from disk); the wiped-engine checks after them, since they throw that
// cache away; and last the comparisons with the host suite's artifacts,
// which wait for the host suite when it runs alongside (host_test.go).
func TestEngine(t *testing.T) {
	prefetchGitea()
	defer stopForge()
	steps := []struct {
		name string
		run  func(*testing.T)
	}{
		{"help", testHelp},
		{"features", testFeatures},
		{"bad-input", testBadInput},
		{"test", testUnitTests},
		{"stages", testStages},
		{"build", testBuild},
		{"tarball", testTarball},
		{"tarballs", testTarballs},
		{"pr-check", testPrCheck},
		{"pr-check-budget", testPrCheckBudget},
		{"tailnet-fails", testTailnetFails},
		{"release", testRelease},
		{"rollback", testRollback},
		{"release-tag", testReleaseTag},
		{"restarted-engine", testRestartedEngine},
		{"wiped-engine", testWipedEngine},
		{"host", testHost},
	}
	for _, s := range steps {
		t.Run(s.name, s.run)
	}
}

// testStages builds the four Tailscale stages side by side, then the four
// BusyBox stages side by side, as the host suite does; calls of a group
// mostly wait (go test -parallel in run.sh lets all four wait at once).
// Both groups at once would run far more compilers than there are cores
// and finish later than one group after the other; the unit-test step
// ("test") runs before them, on its own, since beside them it is many
// times slower (docs/DEVELOPMENT.md).
func testStages(t *testing.T) {
	t.Run("tailscale", testTailscaleBytes)
	t.Run("busybox", testBusyboxBytes)
}
