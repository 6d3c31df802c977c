package features

import (
	"bufio"
	"fmt"
	"slices"
	"strings"

	"dagger/mikrotik-tailscale/internal/suitereport"
)

// Known is upstream's feature list at the pinned version: name → description,
// as printed by `go run ./cmd/featuretags --list`.
type Known map[string]string

// ParseList reads `featuretags --list` output ("   name: description").
func ParseList(out string) (Known, error) {
	known := Known{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		name, desc, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t,") {
			return nil, fmt.Errorf("featuretags --list: unexpected line %q", line)
		}
		known[name] = strings.TrimSpace(desc)
	}
	if len(known) == 0 {
		return nil, fmt.Errorf("featuretags --list printed no features")
	}
	return known, sc.Err()
}

// Names returns the known feature names, sorted.
func (k Known) Names() []string {
	out := make([]string, 0, len(k))
	for n := range k {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Validate checks the catalogue against upstream: featuretags silently
// ignores unknown --add names, so a typo or an upstream rename would quietly
// drop a feature. Every name must be known, and none may be both allowed and
// omitted.
func Validate(k Known, allow, omit []Feature) error {
	var unknown []string
	seen := map[string]string{}
	check := func(list string, fs []Feature) {
		for _, f := range fs {
			if _, ok := k[f.Name]; !ok {
				unknown = append(unknown, fmt.Sprintf("%s (%s)", f.Name, list))
			}
			if prev, dup := seen[f.Name]; dup {
				unknown = append(unknown, fmt.Sprintf("%s (listed in both %s and %s)", f.Name, prev, list))
			}
			seen[f.Name] = list
		}
	}
	check("allowlist", allow)
	check("omissions", omit)
	if len(unknown) > 0 {
		return fmt.Errorf("unknown or conflicting feature names: %s; valid names at this Tailscale version: %s",
			strings.Join(unknown, ", "), strings.Join(k.Names(), ", "))
	}
	return nil
}

// ParseTags splits featuretags' comma-separated output.
func ParseTags(out string) []string {
	var tags []string
	for _, t := range strings.Split(strings.TrimSpace(out), ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	slices.Sort(tags)
	return slices.Compact(tags)
}

// Review is the outcome of resolving the catalogue against upstream.
type Review struct {
	// Tags is the exact Go build tag set, sorted.
	Tags []string `json:"tags"`
	// Included are the allowlisted features.
	Included []string `json:"included"`
	// Dependencies are features compiled in only because an allowlisted
	// feature requires them.
	Dependencies []string `json:"dependencies"`
	// Omitted are the reviewed omissions.
	Omitted []string `json:"omitted"`
	// Unreviewed are upstream features that are in neither list. They are
	// omitted (the build is minimal) but nobody has decided about them yet.
	Unreviewed []string `json:"unreviewed"`
	// With are the opt-ins compiled in on request (also in Included).
	With []string `json:"with,omitempty"`
}

// ResolveWith is Resolve against the catalogue with the chosen opt-ins
// (validated by ParseWith) compiled in.
func ResolveWith(k Known, with, tags []string) (Review, error) {
	allow, omit := Catalogue(with)
	r, err := Resolve(k, allow, omit, tags)
	r.With = with
	return r, err
}

// Resolve checks the tag set featuretags produced against the catalogue and
// classifies every upstream feature.
func Resolve(k Known, allow, omit []Feature, tags []string) (Review, error) {
	if err := Validate(k, allow, omit); err != nil {
		return Review{}, err
	}
	omitted := map[string]bool{}
	var problems []string
	hasCLI := false
	for _, t := range tags {
		switch {
		case t == CLITag:
			hasCLI = true
		case strings.HasPrefix(t, "ts_omit_"):
			name := strings.TrimPrefix(t, "ts_omit_")
			if _, ok := k[name]; !ok {
				problems = append(problems, "unknown tag "+t)
			}
			omitted[name] = true
		default:
			problems = append(problems, "unexpected tag "+t)
		}
	}
	if !hasCLI {
		problems = append(problems, "missing "+CLITag)
	}
	r := Review{Tags: slices.Sorted(slices.Values(tags))}
	allowed := map[string]bool{}
	for _, f := range allow {
		allowed[f.Name] = true
		if omitted[f.Name] {
			problems = append(problems, "allowlisted "+f.Name+" is omitted")
		}
		r.Included = append(r.Included, f.Name)
	}
	reviewedOmit := map[string]bool{}
	for _, f := range omit {
		reviewedOmit[f.Name] = true
		if !omitted[f.Name] {
			problems = append(problems, "omission "+f.Name+" is compiled in (an allowlisted feature requires it)")
		}
		r.Omitted = append(r.Omitted, f.Name)
	}
	for _, n := range k.Names() {
		switch {
		case allowed[n] || reviewedOmit[n]:
		case !omitted[n] && n != "cli":
			r.Dependencies = append(r.Dependencies, n)
		case omitted[n]:
			r.Unreviewed = append(r.Unreviewed, n)
		}
	}
	if len(problems) > 0 {
		return r, fmt.Errorf("feature tag set disagrees with the catalogue: %s", strings.Join(problems, "; "))
	}
	return r, nil
}

// Diff compares the tags a binary was built with against the expected set
// and describes every difference; empty means equal.
func Diff(want, got []string) []string {
	var out []string
	for _, t := range want {
		if !slices.Contains(got, t) {
			out = append(out, "missing "+t)
		}
	}
	for _, t := range got {
		if !slices.Contains(want, t) {
			out = append(out, "unexpected "+t)
		}
	}
	return out
}

// Markdown renders the review for humans (the `features` function output).
func (r Review) Markdown(version string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Tailscale %s feature review\n\n", version)
	reasons := map[string]string{}
	for _, f := range Allowlist {
		reasons[f.Name] = f.Reason
	}
	for _, f := range Omissions {
		reasons[f.Name] = f.Reason
	}
	for _, o := range OptIns {
		if slices.Contains(r.With, o.Name) {
			reasons[o.Name] = "opt-in (--with): " + o.Reason
		}
	}
	section := func(title string, names []string, withReason bool) {
		fmt.Fprintf(&b, "## %s (%d)\n\n", title, len(names))
		if len(names) == 0 {
			b.WriteString("none\n\n")
			return
		}
		for _, n := range names {
			if withReason {
				fmt.Fprintf(&b, "- %s: %s\n", n, reasons[n])
			} else {
				fmt.Fprintf(&b, "- %s\n", n)
			}
		}
		b.WriteString("\n")
	}
	section("Not yet reviewed (omitted until someone decides)", r.Unreviewed, false)
	section("Included", r.Included, true)
	section("Included as dependencies", r.Dependencies, false)
	section("Omitted", r.Omitted, true)
	fmt.Fprintf(&b, "## Opt-ins (%d)\n\n", len(OptIns))
	b.WriteString("Reviewed omissions a build can add back with `--with NAME,...`; each adds its allowance to the size budgets. " +
		"What each feature costs per platform, raw and after UPX: " + PriceList + ".\n\n")
	for _, o := range OptIns {
		fmt.Fprintf(&b, "- %s (budget allowance %s B): %s\n", o.Name, suitereport.Thousands(o.Allowance), o.Reason)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "## Build tags (%d)\n\n%s\n", len(r.Tags), strings.Join(r.Tags, ","))
	return b.String()
}
