package features

import (
	"slices"
	"strings"
	"testing"
)

func TestOptInsAreReviewedOmissionsWithAnAllowance(t *testing.T) {
	for _, o := range OptIns {
		if !slices.Contains(OmissionNames(), o.Name) {
			t.Errorf("opt-in %s is not a reviewed omission", o.Name)
		}
		if o.Reason == "" || o.Allowance <= 0 {
			t.Errorf("opt-in %s needs a reason and a positive allowance: %+v", o.Name, o)
		}
	}
}

func TestParseWith(t *testing.T) {
	got, err := ParseWith([]string{"tailnetlock,relayserver", " relayserver ", ""})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"relayserver", "tailnetlock"}; !slices.Equal(got, want) {
		t.Errorf("ParseWith = %v, want %v (deduplicated, catalogue order)", got, want)
	}
	if got, err := ParseWith(nil); err != nil || got != nil {
		t.Errorf("ParseWith(nil) = %v, %v", got, err)
	}
}

func TestParseWithRefusesNamingTheChoices(t *testing.T) {
	for _, in := range [][]string{{"ssh"}, {"relayserver,relay-server"}, {"cli"}, {"dns"}} {
		_, err := ParseWith(in)
		if err == nil {
			t.Errorf("ParseWith(%q) accepted", in)
			continue
		}
		for _, want := range append([]string{"not an opt-in"}, OptInNames()...) {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("ParseWith(%q): %q lacks %q", in, err, want)
			}
		}
	}
}

func TestCatalogueMovesOnlyTheChosen(t *testing.T) {
	allow, omit := Catalogue([]string{"relayserver"})
	if len(allow) != len(Allowlist)+1 || len(omit) != len(Omissions)-1 {
		t.Fatalf("allow %d omit %d, want %d and %d", len(allow), len(omit), len(Allowlist)+1, len(Omissions)-1)
	}
	if !slices.Contains(Names(allow), "relayserver") || slices.Contains(Names(omit), "relayserver") {
		t.Error("relayserver not moved to the allowlist")
	}
	allow, omit = Catalogue(nil)
	if !slices.Equal(Names(allow), AllowNames()) || !slices.Equal(Names(omit), OmissionNames()) {
		t.Error("no opt-ins changed the catalogue")
	}
}

func TestAllowanceAddsTheChosen(t *testing.T) {
	var all int64
	for _, o := range OptIns {
		all += o.Allowance
	}
	if got := Allowance(OptInNames()); got != all {
		t.Errorf("Allowance(all) = %d, want %d", got, all)
	}
	if got := Allowance(nil); got != 0 {
		t.Errorf("Allowance(nil) = %d", got)
	}
}

func TestResolveWithCompilesTheOptInIn(t *testing.T) {
	k := known(t)
	k["relayserver"] = "Peer relay server"
	for _, n := range OmissionNames() {
		if _, ok := k[n]; !ok {
			k[n] = "omission"
		}
	}
	for _, n := range AllowNames() {
		if _, ok := k[n]; !ok {
			k[n] = "allowed"
		}
	}
	delete(k, "newthing")
	delete(k, "peerapiserver")
	var tags []string
	for _, n := range OmissionNames() {
		if n != "relayserver" {
			tags = append(tags, OmitTag(n))
		}
	}
	tags = append(tags, CLITag)
	r, err := ResolveWith(k, []string{"relayserver"}, tags)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(r.Included, "relayserver") || slices.Contains(r.Omitted, "relayserver") || !slices.Equal(r.With, []string{"relayserver"}) {
		t.Errorf("review %+v does not include the opt-in", r)
	}
	md := r.Markdown("v1.2.3")
	for _, want := range []string{"- relayserver: opt-in (--with): ", "## Opt-ins (", PriceList} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	// The same tags without asking for the opt-in break the catalogue.
	if _, err := ResolveWith(k, nil, tags); err == nil || !strings.Contains(err.Error(), "omission relayserver is compiled in") {
		t.Errorf("an unrequested opt-in resolved: %v", err)
	}
}
