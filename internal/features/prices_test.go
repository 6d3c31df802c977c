package features

import (
	"slices"
	"testing"
)

func TestPriceVariantsPriceEveryFeatureOnce(t *testing.T) {
	vs := PriceVariants()
	if vs[0].Kind != PriceDefault || !slices.Equal(vs[0].Add, AllowNames()) {
		t.Fatalf("first variant %+v is not the default set", vs[0])
	}
	seen := map[string]bool{}
	for _, v := range vs {
		if seen[v.Name] {
			t.Errorf("variant %s twice", v.Name)
		}
		seen[v.Name] = true
		switch v.Kind {
		case PriceWithout:
			if slices.Contains(v.Add, v.Feature) || len(v.Add) != len(AllowNames())-1 {
				t.Errorf("%s keeps %v", v.Name, v.Add)
			}
		case PriceWith:
			if !slices.Contains(v.Add, v.Feature) || len(v.Add) != len(AllowNames())+1 {
				t.Errorf("%s keeps %v", v.Name, v.Add)
			}
		}
	}
	for _, f := range AllowNames() {
		if !seen["-"+f] {
			t.Errorf("allowlisted %s has no price", f)
		}
	}
	for _, o := range OptInNames() {
		if !seen["+"+o] {
			t.Errorf("opt-in %s has no price", o)
		}
	}
	if !seen["floor"] {
		t.Error("no floor")
	}
}
