package features

import "slices"

// PriceKind says how a price-list build differs from the default set.
type PriceKind string

const (
	PriceDefault PriceKind = "default" // the reviewed allowlist: what ships
	PriceFloor   PriceKind = "floor"   // the CLI alone: the least a combined binary can be
	PriceWithout PriceKind = "without" // the allowlist minus one feature: that feature's price
	PriceWith    PriceKind = "with"    // the allowlist plus one opt-in: that opt-in's price
)

// PriceVariant is one build of the price list (docs/FEATURES.md): the
// features featuretags is asked to keep (--add).
type PriceVariant struct {
	Name    string    `json:"name"` // default, floor, -<feature>, +<opt-in>
	Kind    PriceKind `json:"kind"`
	Feature string    `json:"feature,omitempty"`
	Add     []string  `json:"add"`
}

// PriceVariants lists the builds behind the price list: the default set,
// the floor, each allowlisted feature left out, each opt-in added. A
// feature's marginal cost is the default minus its "without" build, an
// opt-in's its "with" build minus the default.
func PriceVariants() []PriceVariant {
	out := []PriceVariant{
		{Name: string(PriceDefault), Kind: PriceDefault, Add: AllowNames()},
		{Name: string(PriceFloor), Kind: PriceFloor, Add: []string{"cli"}},
	}
	for _, f := range AllowNames() {
		out = append(out, PriceVariant{Name: "-" + f, Kind: PriceWithout, Feature: f,
			Add: slices.DeleteFunc(AllowNames(), func(n string) bool { return n == f })})
	}
	for _, o := range OptInNames() {
		out = append(out, PriceVariant{Name: "+" + o, Kind: PriceWith, Feature: o, Add: append(AllowNames(), o)})
	}
	return out
}
