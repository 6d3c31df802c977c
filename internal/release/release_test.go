package release

import (
	"strings"
	"testing"

	"dagger/mikrotik-tailscale/internal/pins"
)

func TestParseValid(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Tag
	}{
		{"v1.104.5-mt.1", Tag{"v1.104.5", 1}},
		{"v1.104.5-mt.10", Tag{"v1.104.5", 10}},
		{"v0.0.0-mt.1", Tag{"v0.0.0", 1}},
		{"v10.0.20-mt.123", Tag{"v10.0.20", 123}},
	} {
		got, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		if got.String() != tc.in {
			t.Errorf("Parse(%q).String() = %q, does not round-trip", tc.in, got.String())
		}
	}
}

func TestParseInvalid(t *testing.T) {
	for _, tc := range []struct {
		in, why string
	}{
		{"", "empty"},
		{"1.104.5-mt.1", `missing the leading "v"`},
		{"V1.104.5-mt.1", "lower case"},
		{"v1.104.5-MT.1", "lower case"},
		{" v1.104.5-mt.1", "whitespace"},
		{"v1.104.5-mt.1\n", "whitespace"},
		{"v1.104.5 -mt.1", "whitespace"},
		{"v1.104.5", `missing the "-mt.<N>"`},
		{"v1.104.5-mt.", "no revision number"},
		{"v1.104.5-mt", `missing the "-mt.<N>"`},
		{"v1.104.5-mt.0", "revisions start at 1"},
		{"v1.104.5-mt.01", "leading zero"},
		{"v1.104.5-mt.x", "not a number"},
		{"v1.104.5-mt.-1", "not a number"},
		{"v1.104.5-mt.1.2", "not a number"},
		{"v01.104.5-mt.1", "leading zeros"},
		{"v1.104.05-mt.1", "leading zeros"},
		{"v1.104-mt.1", "exactly major.minor.patch"},
		{"v1.104.5.1-mt.1", "exactly major.minor.patch"},
		{"v1.104.5-rc.1-mt.1", "must be a plain release"},
		{"v1.104.5-mt.99999999999999999999", "too large"},
		{"latest", `missing the leading "v"`},
	} {
		_, err := Parse(tc.in)
		if err == nil {
			t.Errorf("Parse(%q) accepted an invalid tag", tc.in)
			continue
		}
		if !strings.Contains(err.Error(), tc.why) {
			t.Errorf("Parse(%q) error %q does not say %q", tc.in, err, tc.why)
		}
		if !strings.Contains(err.Error(), "too large") &&
			!strings.Contains(err.Error(), pins.TailscaleVersion+"-mt.1") {
			t.Errorf("Parse(%q) error %q has no example built from the pinned version", tc.in, err)
		}
	}
}

func TestParseErrorShowsForm(t *testing.T) {
	_, err := Parse("v1.2.3")
	if err == nil || !strings.Contains(err.Error(), Form) {
		t.Fatalf("error %v does not show the expected form %s", err, Form)
	}
}

func TestCompare(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"v1.104.5-mt.1", "v1.104.5-mt.1", 0},
		{"v1.104.5-mt.1", "v1.104.5-mt.2", -1},
		{"v1.104.5-mt.2", "v1.104.5-mt.10", -1},
		{"v1.104.5-mt.10", "v1.104.5-mt.9", 1},
		{"v1.98.3-mt.5", "v1.104.5-mt.1", -1},
		{"v1.104.5-mt.1", "v1.98.3-mt.5", 1},
		{"v1.104.10-mt.1", "v1.104.9-mt.3", 1},
		{"v2.0.0-mt.1", "v1.999.999-mt.999", 1},
	} {
		a, b := mustParse(t, tc.a), mustParse(t, tc.b)
		if got := Compare(a, b); got != tc.want {
			t.Errorf("Compare(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestSort(t *testing.T) {
	in := []string{"v1.104.5-mt.10", "v1.98.3-mt.5", "v1.104.5-mt.2", "v1.104.5-mt.9", "v1.100.0-mt.1", "v1.104.5-mt.1"}
	want := []string{"v1.98.3-mt.5", "v1.100.0-mt.1", "v1.104.5-mt.1", "v1.104.5-mt.2", "v1.104.5-mt.9", "v1.104.5-mt.10"}
	var tags []Tag
	for _, s := range in {
		tags = append(tags, mustParse(t, s))
	}
	Sort(tags)
	for i, tag := range tags {
		if tag.String() != want[i] {
			t.Fatalf("Sort order %v, want %v", tags, want)
		}
	}
}

func TestValidateForRelease(t *testing.T) {
	for _, tc := range []struct {
		tag, pinned string
		want        Tag
		errHas      string
	}{
		{tag: "v1.104.5-mt.1", pinned: "v1.104.5", want: Tag{"v1.104.5", 1}},
		{tag: "v1.104.5-mt.12", pinned: "v1.104.5", want: Tag{"v1.104.5", 12}},
		{tag: "v1.102.0-mt.1", pinned: "v1.104.5",
			errHas: "tag v1.102.0-mt.1 is for Tailscale 1.102.0 but this commit pins v1.104.5: expected v1.104.5-mt.<N>"},
		{tag: "v1.104.5-mt.0", pinned: "v1.104.5", errHas: "revisions start at 1"},
		{tag: "v1.104.5", pinned: "v1.104.5", errHas: "-mt.<N>"},
		{tag: "v1.104.5-mt.1", pinned: "1.104.5", errHas: `pinned Tailscale version "1.104.5" is malformed`},
		{tag: "v1.104.5-mt.1", pinned: "v1.104", errHas: "is malformed"},
		{tag: "v1.104.5-mt.1", pinned: "", errHas: "is malformed"},
	} {
		got, err := ValidateForRelease(tc.tag, tc.pinned)
		if tc.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("ValidateForRelease(%q, %q) error = %v, want one containing %q", tc.tag, tc.pinned, err, tc.errHas)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ValidateForRelease(%q, %q) = %+v, %v; want %+v", tc.tag, tc.pinned, got, err, tc.want)
		}
	}
}

func TestValidateForReleaseAcceptsTheFirstTagOfThePin(t *testing.T) {
	if _, err := ValidateForRelease(FirstTag(pins.TailscaleVersion), pins.TailscaleVersion); err != nil {
		t.Fatal(err)
	}
}

func TestFirstTag(t *testing.T) {
	if got := FirstTag("v1.104.5"); got != "v1.104.5-mt.1" {
		t.Fatalf("FirstTag = %q", got)
	}
}

func TestAutoTag(t *testing.T) {
	for _, tc := range []struct {
		name       string
		pinned     string
		existing   []string
		wantTag    string
		wantCreate bool
		errHas     string
	}{
		{name: "no tags at all", pinned: "v1.104.5",
			wantTag: "v1.104.5-mt.1", wantCreate: true},
		{name: "only older releases", pinned: "v1.104.5",
			existing: []string{"v1.102.0-mt.1", "v1.102.0-mt.2"},
			wantTag:  "v1.104.5-mt.1", wantCreate: true},
		{name: "re-run after mt.1 was created", pinned: "v1.104.5",
			existing: []string{"v1.102.0-mt.1", "v1.104.5-mt.1"},
			wantTag:  "v1.104.5-mt.1"},
		{name: "a human released mt.2 and mt.10: nothing to do, newest reported", pinned: "v1.104.5",
			existing: []string{"v1.104.5-mt.2", "v1.104.5-mt.10", "v1.104.5-mt.9"},
			wantTag:  "v1.104.5-mt.10"},
		{name: "only mt.3 exists (mt.1 deleted): still never recreates mt.1", pinned: "v1.104.5",
			existing: []string{"v1.104.5-mt.3"},
			wantTag:  "v1.104.5-mt.3"},
		{name: "unparseable and foreign tags are ignored", pinned: "v1.104.5",
			existing: []string{"v1.104.5", "v1.104.5-mt.0", "V1.104.5-mt.1", "v1.104.5-mt.01", "latest", "stable", "v1.104.5-rc.1"},
			wantTag:  "v1.104.5-mt.1", wantCreate: true},
		{name: "a newer version's tag does not count", pinned: "v1.104.5",
			existing: []string{"v1.106.0-mt.1"},
			wantTag:  "v1.104.5-mt.1", wantCreate: true},
		{name: "malformed pin", pinned: "1.104.5", errHas: "malformed"},
		{name: "pin with a prerelease", pinned: "v1.105.0-pre", errHas: "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tag, create, err := AutoTag(tc.pinned, tc.existing)
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("error = %v, want one containing %q", err, tc.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tag != tc.wantTag || create != tc.wantCreate {
				t.Fatalf("AutoTag = %q, create=%v; want %q, create=%v", tag, create, tc.wantTag, tc.wantCreate)
			}
			if create {
				if _, err := ValidateForRelease(tag, tc.pinned); err != nil {
					t.Fatalf("AutoTag proposed a tag its own release check refuses: %v", err)
				}
			}
		})
	}
}

func mustParse(t *testing.T, s string) Tag {
	t.Helper()
	tag, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return tag
}
