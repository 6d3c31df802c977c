// Package unittest is the recipe of the module's `test` function: the unit
// tests of every internal package (the pipeline's decisions), run in the
// pinned Go container so the required check fails on a broken rule
// (a pin, a feature review, a layout) before anything is built.
package unittest

// Dir is where the repository checkout is mounted in the Go container.
const Dir = "/src/mikrotik-tailscale"

// Args runs the internal packages' tests. -count=1 is left out on
// purpose: the engine caches the run by its inputs, the checkout, so the
// tests of an unchanged tree are not repeated. The root package has no
// tests (its generated bindings need an engine session); tests/ needs
// root and the host's toolchains (tests/run-all.sh). unittest_test.go
// checks that these patterns reach every other *_test.go of the module.
func Args() []string {
	return []string{"go", "test", "./internal/..."}
}
