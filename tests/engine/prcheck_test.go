//go:build engine

package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"dagger/mikrotik-tailscale/internal/checkreport"
	"dagger/mikrotik-tailscale/internal/platform"
	"dagger/mikrotik-tailscale/internal/tailnet"
)

// pr-check, as .woodpecker/pr-check.yaml runs it (tailnet check
// included), in the JSON format, which carries every check's detail: every
// check passes, every platform runs the same checks, each of them the
// whole tailnet check. The tailnet checks' times go to the report.
func testPrCheck(t *testing.T) {
	c := mustCall(t, "pr-check", stageTimeout, "pr-check", "--format", "json")
	var rep struct {
		Passed bool                `json:"passed"`
		Total  int                 `json:"total"`
		Failed int                 `json:"failed"`
		Checks []checkreport.Check `json:"checks"`
	}
	readJSON(t, c.Stdout, &rep)
	if !rep.Passed || rep.Failed != 0 || rep.Total != len(rep.Checks) || rep.Total == 0 {
		t.Errorf("verdict: passed %v, %d of %d failed, %d checks listed", rep.Passed, rep.Failed, rep.Total, len(rep.Checks))
	}
	perArch := map[string]int{}
	tailnetTimes := map[string]any{}
	for _, ch := range rep.Checks {
		if !ch.Passed {
			t.Errorf("check %q (%s) failed: %s", ch.Name, ch.Arch, ch.Detail)
		}
		perArch[ch.Arch]++
	}
	for _, a := range platform.All() {
		if perArch[a.Name] == 0 {
			t.Errorf("no check ran for %s", a.Name)
		}
		if perArch[a.Name] != perArch[platform.All()[0].Name] {
			t.Errorf("%s ran %d checks, %s %d", a.Name, perArch[a.Name], platform.All()[0].Name, perArch[platform.All()[0].Name])
		}
		times := map[string]any{}
		for _, want := range tailnet.Checks {
			i := slices.IndexFunc(rep.Checks, func(ch checkreport.Check) bool { return ch.Name == want.Title && ch.Arch == a.Name })
			if i < 0 {
				t.Errorf("%s: no tailnet check %q", a.Name, want.Title)
				continue
			}
			times[want.ID] = checkSeconds(rep.Checks[i].Detail)
			times[want.ID+"_detail"] = rep.Checks[i].Detail
		}
		tailnetTimes[a.Dir] = times
	}
	mergeReport(t, map[string]any{"pr_check": map[string]any{"checks": len(rep.Checks), "per_arch": perArch, "tailnet": tailnetTimes}})
}

// checkSeconds reads the "(N s)" a tailnet check's detail ends with.
func checkSeconds(detail string) float64 {
	m := regexp.MustCompile(`\((\d+) s\)$`).FindStringSubmatch(detail)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return float64(n)
}

// The tailnet check can fail, and says where: under a policy without
// autoApprovers the router still logs in, its route is never approved,
// and the report says so and marks what it could not reach.
func testTailnetFails(t *testing.T) {
	var p map[string]any
	readJSON(t, tailnet.Policy(), &p)
	delete(p, "autoApprovers")
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(t.TempDir(), "no-approvers.hujson")
	if err := os.WriteFile(policy, b, 0o644); err != nil {
		t.Fatal(err)
	}
	c := daggerCall(t, "tailnet-without-approvers", stageTimeout, "tailnet", "--arch", "amd64", "--policy", policy)
	if c.Err == nil {
		t.Fatalf("the tailnet check passed with the route never approved:\n%s", c)
	}
	for _, want := range []string{
		"| " + tailnet.Title("login") + " | amd64 | ✅ |",
		"| " + tailnet.Title("routes") + " | amd64 | ❌ |",
		"| " + tailnet.Title("lan") + " | amd64 | ❌ |",
		"client sees the router's approved LAN route and exit node: not within",
		"not reached: an earlier step of the lab failed",
		"--- router status",
	} {
		if !strings.Contains(c.Stderr, want) {
			t.Errorf("the failure report lacks %q:\n%s", want, c)
		}
	}
}

// pr-check with an arm64 budget far below the image fails, and says which
// check failed, for which platform, and by how much, in the same report.
func testPrCheckBudget(t *testing.T) {
	c := daggerCall(t, "pr-check-small-budget", stageTimeout, "pr-check", "--budgets", "arm64=1MB/1MB", "--tailnet=false")
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
