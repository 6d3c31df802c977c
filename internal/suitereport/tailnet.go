package suitereport

import (
	"fmt"
	"strings"

	"dagger/mikrotik-tailscale/internal/tailnet"
)

// TailnetTable renders the seconds each tailnet check took per platform,
// from an engine-suite report.json (pr_check.tailnet.<arch>.<check id>).
func TailnetTable(doc map[string]any) (string, error) {
	pr, _ := doc["pr_check"].(map[string]any)
	arches, _ := pr["tailnet"].(map[string]any)
	if len(arches) == 0 {
		return "", fmt.Errorf("report has no tailnet check times (an engine-suite report.json: tests/engine/run.sh)")
	}
	order := ordered(arches)
	var b strings.Builder
	b.WriteString("Seconds per check, all platforms side by side in one `pr-check`.\n\n| Check |")
	for _, a := range order {
		b.WriteString(" " + a + " |")
	}
	b.WriteString("\n|---|" + strings.Repeat("---:|", len(order)) + "\n")
	totals := make([]float64, len(order))
	for _, c := range tailnet.Checks {
		b.WriteString("| " + strings.TrimPrefix(c.Title, "tailnet: ") + " |")
		for i, a := range order {
			m, _ := arches[a].(map[string]any)
			v, ok := m[c.ID].(float64)
			if !ok || v < 0 {
				b.WriteString(" – |")
				continue
			}
			totals[i] += v
			fmt.Fprintf(&b, " %.0f |", v)
		}
		b.WriteString("\n")
	}
	b.WriteString("| **all checks** |")
	for _, t := range totals {
		fmt.Fprintf(&b, " **%.0f** |", t)
	}
	b.WriteString("\n")
	return b.String(), nil
}
