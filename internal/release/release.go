// Package release is the grammar of released image tags and the decisions
// the release jobs make from them.
//
// A released image is tagged v<TAILSCALE_VERSION>-mt.<N>, e.g. v1.104.5-mt.1:
// the Tailscale release inside the image plus a local revision N ≥ 1 that
// only changes when the image changes meaningfully without a Tailscale bump
// (a BusyBox fix, a layout change). golang.org/x/mod/semver reads "-mt.N"
// as a prerelease: it sorts v1.104.5-mt.1 before v1.104.5, accepts tags we
// must refuse (v1.104.5-mt.0, -mt.a and -MT.1 are all valid semver), and
// tools treat prereleases as unstable. The grammar and ordering are
// therefore written out here.
package release

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/mod/semver"

	"dagger/mikrotik-tailscale/internal/pins"
)

// Tag is a parsed release tag.
type Tag struct {
	// Tailscale is the bundled Tailscale version in canonical form
	// ("v1.104.5").
	Tailscale string
	// Revision is N in -mt.N; always ≥ 1.
	Revision int
}

// Form is the tag grammar as shown in error messages.
const Form = "v<major>.<minor>.<patch>-mt.<N>"

// num is a decimal number without leading zeros. Revision 0 is rejected
// separately so its error can say why.
const num = `(0|[1-9][0-9]*)`

var (
	tagRE     = regexp.MustCompile(`^v` + num + `\.` + num + `\.` + num + `-mt\.` + num + `$`)
	versionRE = regexp.MustCompile(`^v` + num + `\.` + num + `\.` + num + `$`)
)

// String returns the tag as written in git and in the registry.
func (t Tag) String() string {
	return fmt.Sprintf("%s-mt.%d", t.Tailscale, t.Revision)
}

// Parse reads a release tag. It is strict on purpose: the tag becomes an
// immutable registry tag, so "V1.104.5-mt.1", "1.104.5-mt.1", " v1.104.5-mt.1"
// and "v1.104.05-mt.1" are all rejected rather than normalised into a
// second spelling of the same release.
func Parse(tag string) (Tag, error) {
	m := tagRE.FindStringSubmatch(tag)
	if m == nil {
		return Tag{}, fmt.Errorf("invalid release tag %q: %s; expected %s with N ≥ 1, e.g. %s",
			tag, diagnose(tag), Form, example())
	}
	for _, part := range m[1:4] {
		if _, err := strconv.Atoi(part); err != nil {
			return Tag{}, fmt.Errorf("invalid release tag %q: version number %s is too large", tag, part)
		}
	}
	n, err := strconv.Atoi(m[4])
	if err != nil {
		return Tag{}, fmt.Errorf("invalid release tag %q: revision %s is too large", tag, m[4])
	}
	if n == 0 {
		return Tag{}, fmt.Errorf("invalid release tag %q: revisions start at 1; expected %s, e.g. %s",
			tag, Form, example())
	}
	return Tag{Tailscale: "v" + m[1] + "." + m[2] + "." + m[3], Revision: n}, nil
}

// diagnose names the most likely mistake in a tag that does not match the
// grammar, so the error says more than "invalid".
func diagnose(tag string) string {
	switch {
	case tag == "":
		return "empty"
	case strings.TrimSpace(tag) != tag:
		return "leading or trailing whitespace"
	case strings.ContainsAny(tag, " \t\r\n"):
		return "contains whitespace"
	case strings.ToLower(tag) != tag:
		return "must be lower case"
	case !strings.HasPrefix(tag, "v"):
		return `missing the leading "v"`
	}
	ts, rev, ok := strings.Cut(tag, "-mt.")
	if !ok {
		return `missing the "-mt.<N>" revision suffix`
	}
	if !versionRE.MatchString(ts) {
		if semver.IsValid(ts) && semver.Canonical(ts) == ts {
			// Valid semver can only fail our grammar by a prerelease or build
			// suffix on the Tailscale part.
			return "the Tailscale part " + ts + " must be a plain release"
		}
		if strings.Count(ts, ".") != 2 {
			return "the Tailscale part " + ts + " must have exactly major.minor.patch"
		}
		return "the Tailscale part " + ts + " must be numbers without leading zeros"
	}
	switch {
	case rev == "":
		return `no revision number after "-mt."`
	case strings.Trim(rev, "0123456789") != "":
		return "revision " + strconv.Quote(rev) + " is not a number"
	default:
		return "revision " + rev + " has a leading zero"
	}
}

// example is a valid tag for the pinned Tailscale, used in error messages.
func example() string { return FirstTag(pins.TailscaleVersion) }

// Compare orders tags by Tailscale version (semver), then by revision
// numerically, so v1.104.5-mt.10 sorts after v1.104.5-mt.9 and every
// revision of 1.104.5 after every revision of 1.98.3. It returns -1, 0 or +1.
func Compare(a, b Tag) int {
	if c := semver.Compare(a.Tailscale, b.Tailscale); c != 0 {
		return c
	}
	return cmp.Compare(a.Revision, b.Revision)
}

// Sort sorts tags oldest first.
func Sort(tags []Tag) { slices.SortFunc(tags, Compare) }

// checkPinned validates a pinned Tailscale version (pins.TailscaleVersion):
// the same vX.Y.Z grammar as the Tailscale part of a tag.
func checkPinned(pinned string) error {
	if !versionRE.MatchString(pinned) {
		return fmt.Errorf("pinned Tailscale version %q is malformed: expected v<major>.<minor>.<patch> without leading zeros, e.g. v1.104.5", pinned)
	}
	return nil
}

// FirstTag is the first release tag for a Tailscale version:
// v<ts>-mt.1. pinned is taken as given (pins.TailscaleVersion is checked by
// its own tests); AutoTag and ValidateForRelease validate it.
func FirstTag(pinned string) string {
	return Tag{Tailscale: pinned, Revision: 1}.String()
}

// ValidateForRelease checks a tag someone pushed before anything is built
// from it: it must be well-formed and name the Tailscale version this
// commit pins, otherwise the image would carry a tag that lies about its
// contents.
func ValidateForRelease(tag, pinned string) (Tag, error) {
	if err := checkPinned(pinned); err != nil {
		return Tag{}, err
	}
	t, err := Parse(tag)
	if err != nil {
		return Tag{}, err
	}
	if t.Tailscale != pinned {
		return Tag{}, fmt.Errorf("tag %s is for Tailscale %s but this commit pins %s: expected %s-mt.<N>",
			tag, strings.TrimPrefix(t.Tailscale, "v"), pinned, pinned)
	}
	return t, nil
}

// AutoTag is the release-tag job's decision after a Tailscale bump lands.
// If any existing tag is already a release of the pinned version, it
// returns the newest of them and create=false: re-running the job, or
// running it after someone tagged mt.2 by hand, changes nothing. Otherwise
// it returns v<pinned>-mt.1 and create=true. It never creates mt.2 or later;
// those are deliberate human releases. Existing tags that are not release
// tags (other tag schemes, typos) are ignored.
func AutoTag(pinned string, existing []string) (tag string, create bool, err error) {
	if err := checkPinned(pinned); err != nil {
		return "", false, err
	}
	var newest *Tag
	for _, s := range existing {
		t, err := Parse(s)
		if err != nil || t.Tailscale != pinned {
			continue
		}
		if newest == nil || Compare(t, *newest) > 0 {
			newest = &t
		}
	}
	if newest != nil {
		return newest.String(), false, nil
	}
	return FirstTag(pinned), true, nil
}
