//go:build engine

package engine

import (
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// test, as .woodpecker/pr-check.yaml runs it first: every internal package
// that has tests reports ok from the engine's Go container.
func testUnitTests(t *testing.T) {
	c := mustCall(t, "test", stageTimeout, "test")
	ok := regexp.MustCompile(`(?m)^ok\s+(\S+)`)
	var passed []string
	for _, m := range ok.FindAllStringSubmatch(c.Stdout, -1) {
		passed = append(passed, m[1])
	}
	files, err := filepath.Glob(filepath.Join("..", "..", "internal", "*", "*_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("found no unit tests in internal/")
	}
	for _, f := range files {
		pkg := path.Join("dagger/mikrotik-tailscale/internal", filepath.Base(filepath.Dir(f)))
		if !slices.Contains(passed, pkg) {
			t.Errorf("%s did not report ok:\n%s", pkg, c.Stdout)
		}
	}
	mergeReport(t, map[string]any{"unit_test_packages": len(passed)})
}
