package budget

import (
	"strings"
	"testing"

	"dagger/mikrotik-tailscale/internal/platform"
)

// A platform without a budget would pass every size check (zero means no
// limit), so each one needs its own.
func TestDefaultsCoverEverySupportedArch(t *testing.T) {
	for _, a := range platform.All() {
		b, ok := Defaults[a.Name]
		if !ok || b.MaxCompressed <= 0 || b.MaxUncompressed <= 0 {
			t.Errorf("no sane default budget for %s: %+v", a.Name, b)
		}
	}
	if len(Defaults) != len(platform.All()) {
		t.Errorf("budgets for %d arches, %d supported", len(Defaults), len(platform.All()))
	}
}

func TestParseOverrides(t *testing.T) {
	got, err := Parse([]string{"aarch64=4MB/4.2MB", "linux/arm/v7=-/4MiB", "amd64=5000000/5100 kB"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Budget{
		"arm64":  {MaxCompressed: 4_000_000, MaxUncompressed: 4_200_000},
		"arm/v7": {MaxCompressed: Defaults["arm/v7"].MaxCompressed, MaxUncompressed: 4 << 20},
		"amd64":  {MaxCompressed: 5_000_000, MaxUncompressed: 5_100_000},
	}
	for a, w := range want {
		if got[a] != w {
			t.Errorf("%s = %+v, want %+v", a, got[a], w)
		}
	}
	if Defaults["arm64"] == got["arm64"] {
		t.Error("Parse modified the defaults map")
	}
}

func TestParseRejects(t *testing.T) {
	cases := map[string]string{
		"arm64":        "expected ARCH=",
		"mips=1/2":     "choose one of",
		"arm64=4MB":    "COMPRESSED/UNCOMPRESSED",
		"arm64=lots/2": "positive number",
		"arm64=-5/2":   "positive number",
		"arm64=1GB/2":  `size "1GB": unit "GB" is not one of B, kB, MB, KiB, MiB`,
		"arm64=4GB/2":  `"4GB"`,
		"arm64=4 gb/2": `unit "gb"`,
		"arm64=4MBs/2": `unit "MBs"`,
		"arm64=/2":     "positive number",
		"arm64=MB/2":   `size "MB": expected a positive number`,
	}
	for in, want := range cases {
		_, err := Parse([]string{in})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want error containing %q", in, err, want)
		}
	}
}

func TestWithAllowanceWidensEveryBudget(t *testing.T) {
	got := WithAllowance(Defaults, 1000)
	for arch, d := range Defaults {
		if got[arch].MaxCompressed != d.MaxCompressed+1000 || got[arch].MaxUncompressed != d.MaxUncompressed+1000 {
			t.Errorf("%s: %+v, defaults %+v", arch, got[arch], d)
		}
	}
	if Defaults["arm64"] == got["arm64"] {
		t.Error("WithAllowance changed nothing or changed the defaults in place")
	}
}
