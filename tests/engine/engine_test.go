//go:build engine

package engine

import "testing"

// TestEngine runs the suite in the order the steps depend on each other:
// builds first (later calls reuse the engine's cache), releases next, and
// the wiped-engine checks last, since they throw that cache away.
func TestEngine(t *testing.T) {
	steps := []struct {
		name string
		run  func(*testing.T)
	}{
		{"help", testHelp},
		{"bad-input", testBadInput},
		{"tailscale", testTailscaleBytes},
		{"busybox", testBusyboxBytes},
		{"build", testBuild},
		{"tarball", testTarball},
		{"tarballs", testTarballs},
		{"features", testFeatures},
		{"pr-check", testPrCheck},
		{"pr-check-budget", testPrCheckBudget},
		{"release", testRelease},
		{"wiped-engine", testWipedEngine},
		{"rollback", testRollback},
	}
	for _, s := range steps {
		t.Run(s.name, s.run)
	}
}
