package suitereport

import (
	"encoding/json"
	"strings"
	"testing"
)

const pricesDoc = `{"prices": {"tailscale": "v1.2.3", "go": "go1.27.3",
 "variants": [
  {"name": "default", "kind": "default"},
  {"name": "floor", "kind": "floor"},
  {"name": "-dns", "kind": "without", "feature": "dns"},
  {"name": "-health", "kind": "without", "feature": "health"},
  {"name": "+netstack", "kind": "with", "feature": "netstack"}],
 "arches": {
  "arm64": {"default": {"raw": 10000000, "upx": 3000000}, "floor": {"raw": 8000000, "upx": 2500000},
            "-dns": {"raw": 9800000, "upx": 2950000}, "-health": {"raw": 10000000, "upx": 3000000},
            "+netstack": {"error": "gvisor answers 403"}},
  "amd64": {"default": {"raw": 11000000, "upx": 3500000}, "+netstack": {"raw": 12500000, "upx": 4000000}}}}}`

func TestPriceTable(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal([]byte(pricesDoc), &doc); err != nil {
		t.Fatal(err)
	}
	got, err := PriceTable(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Tailscale v1.2.3, go1.27.3",
		"| Feature | | amd64 | arm64 |",
		"| **default set** (absolute) | shipped | 11,000,000 / 3,500,000 | 10,000,000 / 3,000,000 |",
		"| **floor**: the CLI alone (absolute) | least possible | not measured | 8,000,000 / 2,500,000 |",
		"| dns | included | not measured | 200,000 / 50,000 |",
		"| health | included | not measured | 0 (another kept feature needs it) |",
		"| netstack | opt-in (`--with`) | 1,500,000 / 500,000 | not built: gvisor answers 403 |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
	if _, err := PriceTable(map[string]any{}); err == nil {
		t.Error("a report without prices rendered")
	}
}
