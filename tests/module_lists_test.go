package tests

// The lists a user reads in the CLI help (platforms, opt-ins) are typed
// into doc comments, which Dagger turns into help text; they must name
// exactly what internal/platform and internal/features accept.

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"dagger/mikrotik-tailscale/internal/features"
	"dagger/mikrotik-tailscale/internal/platform"
)

var (
	helpPlatforms = regexp.MustCompile(`^(?:Target|Router) platform: ([^(]+?) \((.*)\)\.?$`)
	helpAliases   = regexp.MustCompile(`aliases such as ([^)]+)`)
	helpOptIns    = regexp.MustCompile(`\(choices: ([^;)]+)[;)]`)
)

// helpList splits "a, b, c or d" and "a, b, c, d".
func helpList(s string) []string {
	s = strings.Replace(s, " or ", ", ", 1)
	var out []string
	for _, f := range strings.Split(s, ",") {
		out = append(out, strings.TrimSpace(f))
	}
	return out
}

func TestHelpListsMatchTheCode(t *testing.T) {
	var platforms, optIns int
	for fn, f := range loadModule(t).Funcs {
		for flag, a := range f.Args {
			where := fn + " --" + flag
			help := a.Help()
			if m := helpPlatforms.FindStringSubmatch(help); m != nil {
				platforms++
				if got := helpList(m[1]); !slices.Equal(got, platform.Names()) {
					t.Errorf("%s: the help names platforms %v, the code supports %v", where, got, platform.Names())
				}
				if al := helpAliases.FindStringSubmatch(m[2]); al != nil {
					for _, alias := range helpList(al[1]) {
						if _, err := platform.Parse(alias); err != nil {
							t.Errorf("%s: the help offers alias %q, which the code refuses: %v", where, alias, err)
						}
					}
				}
			} else if flag == "arch" && !strings.Contains(help, "as for build --arch") {
				t.Errorf("%s: the help neither lists the platforms nor points at build's list (%q)", where, help)
			}
			if m := helpOptIns.FindStringSubmatch(help); m != nil {
				optIns++
				if got := helpList(m[1]); !slices.Equal(got, features.OptInNames()) {
					t.Errorf("%s: the help names opt-ins %v, the code has %v", where, got, features.OptInNames())
				}
			}
		}
	}
	// build and tarball list the platforms (the stage functions and
	// tailnet point at build's list); build and tailscale list the
	// opt-ins.
	if platforms < 2 || optIns < 2 {
		t.Errorf("found %d platform and %d opt-in lists in the help; the patterns no longer match the doc comments", platforms, optIns)
	}
}

// The module's own description (main.go, `dagger functions`' header)
// names every platform.
func TestModuleDescriptionNamesThePlatforms(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)for (linux/.*?)\.\n`).FindStringSubmatch(strings.ReplaceAll(string(b), "\n// ", " "))
	if m == nil {
		t.Fatal("main.go's type comment no longer says what it builds for")
	}
	got := helpList(strings.Replace(m[1], " and ", ", ", 1))
	var want []string
	for _, a := range platform.All() {
		want = append(want, a.Platform)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("main.go names %v, the code supports %v", got, want)
	}
}
