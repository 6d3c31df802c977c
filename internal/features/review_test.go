package features

import (
	"slices"
	"strings"
	"testing"
)

// A small upstream as featuretags would describe it: cli, two features we
// keep, one dependency, one omission and one that nobody reviewed.
const listOut = `
                 cli: embed the CLI
                 dns: MagicDNS
      advertiseroutes: Advertise routes
       peerapiserver: PeerAPI server
        clientupdate: Client auto-update
            newthing: Something upstream added later
`

var (
	testAllow = []Feature{{"cli", "r"}, {"dns", "r"}, {"advertiseroutes", "r"}}
	testOmit  = []Feature{{"clientupdate", "r"}}
)

func known(t *testing.T) Known {
	t.Helper()
	k, err := ParseList(listOut)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestParseList(t *testing.T) {
	k := known(t)
	if len(k) != 6 || k["newthing"] != "Something upstream added later" {
		t.Fatalf("ParseList = %v", k)
	}
	if _, err := ParseList("no colon here"); err == nil {
		t.Fatal("accepted a line without a colon")
	}
	if _, err := ParseList("\n\n"); err == nil {
		t.Fatal("accepted empty output")
	}
}

func TestValidateNamesTheUnknownAndListsValid(t *testing.T) {
	err := Validate(known(t), append(testAllow, Feature{"dsn", "typo"}), testOmit)
	if err == nil {
		t.Fatal("typo accepted")
	}
	for _, want := range []string{"dsn (allowlist)", "advertiseroutes, cli, clientupdate, dns, newthing, peerapiserver"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if err := Validate(known(t), testAllow, append(testOmit, Feature{"dns", "x"})); err == nil ||
		!strings.Contains(err.Error(), "dns (listed in both allowlist and omissions)") {
		t.Fatalf("conflict not reported: %v", err)
	}
}

func TestResolveClassifiesEveryFeature(t *testing.T) {
	tags := ParseTags("ts_omit_clientupdate,ts_include_cli,ts_omit_newthing\n")
	r, err := Resolve(known(t), testAllow, testOmit, tags)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Tags, []string{"ts_include_cli", "ts_omit_clientupdate", "ts_omit_newthing"}) {
		t.Errorf("Tags = %v", r.Tags)
	}
	if !slices.Equal(r.Dependencies, []string{"peerapiserver"}) {
		t.Errorf("Dependencies = %v", r.Dependencies)
	}
	if !slices.Equal(r.Unreviewed, []string{"newthing"}) {
		t.Errorf("Unreviewed = %v", r.Unreviewed)
	}
	md := r.Markdown("v9.9.9")
	if !strings.Contains(md, "Not yet reviewed (omitted until someone decides) (1)\n\n- newthing") {
		t.Errorf("markdown does not surface the unreviewed feature:\n%s", md)
	}
}

func TestResolveRejectsTagSetsThatBreakTheCatalogue(t *testing.T) {
	cases := map[string]string{
		"ts_omit_clientupdate,ts_omit_newthing":            "missing ts_include_cli",
		"ts_include_cli,ts_omit_newthing":                  "omission clientupdate is compiled in",
		"ts_include_cli,ts_omit_clientupdate,ts_omit_dns":  "allowlisted dns is omitted",
		"ts_include_cli,ts_omit_clientupdate,ts_omit_gone": "unknown tag ts_omit_gone",
		"ts_include_cli,ts_omit_clientupdate,netgo":        "unexpected tag netgo",
	}
	for tags, want := range cases {
		_, err := Resolve(known(t), testAllow, testOmit, ParseTags(tags))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Resolve(%s) = %v, want error containing %q", tags, err, want)
		}
	}
}

func TestDiff(t *testing.T) {
	got := Diff([]string{"a", "b"}, []string{"b", "c"})
	if !slices.Equal(got, []string{"missing a", "unexpected c"}) {
		t.Fatalf("Diff = %v", got)
	}
	if d := Diff([]string{"a"}, []string{"a"}); len(d) != 0 {
		t.Fatalf("Diff of equal sets = %v", d)
	}
}

func TestCatalogueHasReasonsAndNoDuplicates(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range append(slices.Clone(Allowlist), Omissions...) {
		if f.Reason == "" {
			t.Errorf("%s has no reason", f.Name)
		}
		if seen[f.Name] {
			t.Errorf("%s listed twice", f.Name)
		}
		seen[f.Name] = true
	}
	// The design's must-haves: dropping any of these breaks the router.
	for _, must := range []string{"cli", "unixsocketidentity", "ipnbus", "nattraversal", "udptransport", "osrouter"} {
		if !slices.Contains(AllowNames(), must) {
			t.Errorf("allowlist lost %s", must)
		}
	}
	for _, must := range []string{"clientupdate", "cachenetmap", "logtail"} {
		if !slices.Contains(OmissionNames(), must) {
			t.Errorf("omissions lost %s", must)
		}
	}
}
