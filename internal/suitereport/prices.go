package suitereport

import (
	"fmt"
	"strings"
)

// PriceTable renders the price list (perf report.json "prices", written
// by tests/perf -phases prices): per feature and platform, the bytes of
// tailscale.combined it adds, raw / after UPX; the default set and the
// floor in absolute bytes.
func PriceTable(doc map[string]any) (string, error) {
	prices, _ := doc["prices"].(map[string]any)
	arches, _ := prices["arches"].(map[string]any)
	variants, _ := prices["variants"].([]any)
	if len(arches) == 0 || len(variants) == 0 {
		return "", fmt.Errorf("report has no prices (run tests/perf/run.sh -phases prices)")
	}
	order := ordered(arches)
	size := func(arch, name string) (raw, upx int64, note string) {
		m, _ := arches[arch].(map[string]any)
		e, ok := m[name].(map[string]any)
		if !ok {
			return 0, 0, "not measured"
		}
		if msg, ok := e["error"].(string); ok {
			return 0, 0, "not built: " + strings.TrimSpace(msg)
		}
		r, ok1 := e["raw"].(float64)
		u, ok2 := e["upx"].(float64)
		if !ok1 || !ok2 {
			return 0, 0, "not measured"
		}
		return int64(r), int64(u), ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Tailscale %v, %v; bytes of tailscale.combined, raw / after UPX (`--lzma --best`).\n\n", prices["tailscale"], prices["go"])
	b.WriteString("| Feature | |")
	for _, a := range order {
		b.WriteString(" " + a + " |")
	}
	b.WriteString("\n|---|---|" + strings.Repeat("---:|", len(order)) + "\n")
	for _, v := range variants {
		vm, _ := v.(map[string]any)
		name, _ := vm["name"].(string)
		kind, _ := vm["kind"].(string)
		feature, _ := vm["feature"].(string)
		label := map[string]string{
			"default": "**default set** (absolute)",
			"floor":   "**floor**: the CLI alone (absolute)",
			"without": feature,
			"with":    feature,
		}[kind]
		what := map[string]string{"default": "shipped", "floor": "least possible", "without": "included", "with": "opt-in (`--with`)"}[kind]
		if label == "" {
			return "", fmt.Errorf("prices: variant %q has unknown kind %q", name, kind)
		}
		fmt.Fprintf(&b, "| %s | %s |", label, what)
		for _, a := range order {
			raw, upx, note := size(a, name)
			if note == "" && (kind == "without" || kind == "with") {
				dr, du, dnote := size(a, "default")
				if dnote != "" {
					note = "no default build"
				} else if kind == "without" {
					raw, upx = dr-raw, du-upx
				} else {
					raw, upx = raw-dr, upx-du
				}
			}
			if note != "" {
				fmt.Fprintf(&b, " %s |", note)
				continue
			}
			cell := Thousands(raw) + " / " + Thousands(upx)
			if kind == "without" && raw == 0 && upx == 0 {
				cell = "0 (another kept feature needs it)"
			}
			fmt.Fprintf(&b, " %s |", cell)
		}
		b.WriteString("\n")
	}
	return b.String(), nil
}
