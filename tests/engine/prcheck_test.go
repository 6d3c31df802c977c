//go:build engine

package engine

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"dagger/mikrotik-tailscale/internal/platform"
)

// checkRows reads the markdown report's table: check name, arch, passed.
func checkRows(report string) (rows [][3]string) {
	row := regexp.MustCompile(`(?m)^\| (.+?) \| (.+?) \| (✅|❌) \|$`)
	for _, m := range row.FindAllStringSubmatch(report, -1) {
		rows = append(rows, [3]string{m[1], m[2], m[3]})
	}
	return rows
}

// pr-check, as .woodpecker/pr-check.yaml runs it: every check passes, for
// every platform, and the verdict counts them all.
func testPrCheck(t *testing.T) {
	c := mustCall(t, "pr-check", stageTimeout, "pr-check")
	rows := checkRows(c.Stdout)
	if len(rows) == 0 {
		t.Fatalf("no check table in the report:\n%s", c.Stdout)
	}
	perArch := map[string]int{}
	for _, r := range rows {
		if r[2] != "✅" {
			t.Errorf("check %q (%s) failed:\n%s", r[0], r[1], c.Stdout)
		}
		perArch[r[1]]++
	}
	for _, a := range platform.All() {
		if perArch[a.Name] == 0 {
			t.Errorf("no check ran for %s:\n%s", a.Name, c.Stdout)
		}
		if perArch[a.Name] != perArch[platform.All()[0].Name] {
			t.Errorf("%s ran %d checks, %s %d", a.Name, perArch[a.Name], platform.All()[0].Name, perArch[platform.All()[0].Name])
		}
	}
	if !strings.Contains(c.Stdout, "all "+strconv.Itoa(len(rows))+" checks passed") {
		t.Errorf("the verdict does not count %d passed checks:\n%s", len(rows), c.Stdout)
	}
	mergeReport(t, map[string]any{"pr_check": map[string]any{"checks": len(rows), "per_arch": perArch}})
}

// pr-check with an arm64 budget far below the image fails, and says which
// check failed, for which platform, and by how much, in the same report.
func testPrCheckBudget(t *testing.T) {
	c := daggerCall(t, "pr-check-small-budget", stageTimeout, "pr-check", "--budgets", "arm64=1MB/1MB")
	if c.Err == nil {
		t.Fatalf("pr-check passed with a 1 MB budget:\n%s", c)
	}
	for _, want := range []string{
		"1 of ", " checks failed",
		"| size budget | arm64 | ❌ |",
		"#### ❌ size budget (arm64)",
		"exceeds the budget of 1,000,000 B by",
		"| size budget | amd64 | ✅ |",
	} {
		if !strings.Contains(c.Stderr, want) {
			t.Errorf("the failure report lacks %q:\n%s", want, c)
		}
	}
}
