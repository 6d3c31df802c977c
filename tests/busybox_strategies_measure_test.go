//go:build measure

package tests

import (
	"testing"

	"dagger/mikrotik-tailscale/internal/busybox"
	"dagger/mikrotik-tailscale/internal/pins"
	"dagger/mikrotik-tailscale/internal/platform"
)

// TestBusyboxConfigStrategies builds the alternative strategy too, holds
// it to the same behaviour suite, records which extended checks it fails
// and both strategies' sizes: the numbers behind busybox.Chosen
// (docs/BUSYBOX.md).
//
// A design measurement, not a check of what ships: it builds BusyBox a
// second time per arch (minutes of CPU), so it runs on demand
// (docs/DEVELOPMENT.md "Measurements"), never in CI:
//
//	ARTIFACTS_DIR=$PWD/artifacts go test -tags measure -run TestBusyboxConfigStrategies -v ./tests
func TestBusyboxConfigStrategies(t *testing.T) {
	// The table's header names the version, also when this runs alone.
	mergeReport(t, map[string]any{"busybox_version": pins.BusyBoxVersion})
	for _, a := range platform.All() {
		t.Run(a.Dir, func(t *testing.T) {
			sizes := map[string]any{}
			lacks := map[string]any{}
			for _, s := range busybox.Strategies {
				b := busyboxBuild(t, a, s)
				sizes[string(s)] = bbSizes(t, b)
				t.Logf("%s %s: %v", a.Name, s, sizes[string(s)])
				if s == busybox.Chosen {
					continue // TestBusyboxBehaviour holds it to everything
				}
				t.Run(string(s), func(t *testing.T) {
					lacks[string(s)] = bbRunBehaviour(t, b, append(bbBehaviour(), bbExtended()...), bbNames(bbBehaviour()))
				})
			}
			mergeReport(t, map[string]any{"arches": map[string]any{a.Dir: map[string]any{
				"busybox_sizes": sizes,
				"busybox_lacks": lacks,
			}}})
		})
	}
}
