package tests

// The lists a user reads in the CLI help (platforms, opt-ins) are typed
// into doc comments, which Dagger turns into help text; they must name
// exactly what internal/platform and internal/features accept.

import (
	"fmt"
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
	helpPlatforms = regexp.MustCompile(`// (?:Target|Router) platform: ([^(]+?) \((.*)\)\.?$`)
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
	files, err := filepath.Glob(filepath.Join(repoRoot, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var platforms, optIns int
	for _, f := range files {
		if strings.HasSuffix(f, "dagger.gen.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for n, line := range strings.Split(string(b), "\n") {
			where := fmt.Sprintf("%s:%d", filepath.Base(f), n+1)
			if m := helpPlatforms.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
				platforms++
				if got := helpList(m[1]); !slices.Equal(got, platform.Names()) {
					t.Errorf("%s: the help names platforms %v, the code supports %v", where, got, platform.Names())
				}
				if a := helpAliases.FindStringSubmatch(m[2]); a != nil {
					for _, alias := range helpList(a[1]) {
						if _, err := platform.Parse(alias); err != nil {
							t.Errorf("%s: the help offers alias %q, which the code refuses: %v", where, alias, err)
						}
					}
				}
			}
			if m := helpOptIns.FindStringSubmatch(line); m != nil {
				optIns++
				if got := helpList(m[1]); !slices.Equal(got, features.OptInNames()) {
					t.Errorf("%s: the help names opt-ins %v, the code has %v", where, got, features.OptInNames())
				}
			}
		}
	}
	// Build, Tarball, Tailscale, Busybox and Tailnet take a platform;
	// Build and Tailscale list the opt-ins.
	if platforms < 5 || optIns < 2 {
		t.Errorf("found %d platform and %d opt-in lists in the help; the patterns no longer match the doc comments", platforms, optIns)
	}
}
