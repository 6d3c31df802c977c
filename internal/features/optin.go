package features

import (
	"fmt"
	"slices"
	"strings"
)

// OptIn is a reviewed omission a user may compile back in (`--with`),
// with the room it gets in the size budgets.
type OptIn struct {
	Feature
	// Allowance is added to every platform's budgets, compressed and
	// uncompressed, when the opt-in is chosen: about its largest marginal
	// cost after UPX on any platform, plus about 3 % (docs/FEATURES.md).
	Allowance int64
}

// OptIns are the omissions worth having on some routers. Each stays out
// of the default image for the reason in Omissions; the price list in
// docs/FEATURES.md says what each costs per platform.
var OptIns = []OptIn{
	// Sized from a build with a nearby gVisor commit: the module proxy CI
	// reaches refuses the one Tailscale pins (docs/FEATURES.md).
	{Feature{"netstack", "userspace networking: MagicDNS answers at 100.100.100.100 for LAN clients; about 0.5 MB"}, 515_000},
	// The rest follow docs/FEATURES.md's price list: the largest price
	// after UPX on any platform, plus about 3 %.
	{Feature{"relayserver", "peer relay: a router with a public IP relays for peers that cannot reach each other directly"}, 50_000},
	{Feature{"tailnetlock", "Tailnet Lock: needed to join a locked tailnet"}, 196_000},
	{Feature{"bakedroots", "Tailscale's embedded Let's Encrypt roots as a fallback when the CA bundle lacks a control server's root"}, 5_300},
}

// PriceList is where the generated price list lives in this module's
// repository: every feature's marginal cost per platform, raw and after
// UPX, and the floor.
const PriceList = "docs/FEATURES.md, section \"Price list\""

// OptInNames returns the opt-in names in catalogue order.
func OptInNames() []string {
	out := make([]string, len(OptIns))
	for i, o := range OptIns {
		out[i] = o.Name
	}
	return out
}

// ParseWith validates the opt-ins a user asked for (each item may itself
// be a comma-separated list) and returns them deduplicated in catalogue
// order. Anything else is refused with the valid choices.
func ParseWith(items []string) ([]string, error) {
	want := map[string]bool{}
	var bad []string
	for _, item := range items {
		for _, n := range strings.Split(item, ",") {
			n = strings.TrimSpace(n)
			switch {
			case n == "":
			case slices.Contains(OptInNames(), n):
				want[n] = true
			default:
				bad = append(bad, fmt.Sprintf("%q", n))
			}
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("--with %s: not an opt-in; choose from %s (the default set is the reviewed minimum, see docs/FEATURES.md)",
			strings.Join(bad, ", "), strings.Join(OptInNames(), ", "))
	}
	var out []string
	for _, n := range OptInNames() {
		if want[n] {
			out = append(out, n)
		}
	}
	return out, nil
}

// Catalogue is the allowlist and the omissions with the chosen opt-ins
// (already validated by ParseWith) moved from the omissions to the
// allowlist: what a build with them resolves against.
func Catalogue(with []string) (allow, omit []Feature) {
	allow = slices.Clone(Allowlist)
	for _, f := range Omissions {
		if slices.Contains(with, f.Name) {
			allow = append(allow, f)
		} else {
			omit = append(omit, f)
		}
	}
	return allow, omit
}

// Allowance is the budget room the chosen opt-ins add together.
func Allowance(with []string) int64 {
	var sum int64
	for _, o := range OptIns {
		if slices.Contains(with, o.Name) {
			sum += o.Allowance
		}
	}
	return sum
}
