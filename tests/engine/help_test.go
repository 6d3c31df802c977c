//go:build engine

package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// documentedFunctions are the functions README.md and .woodpecker/ call.
func documentedFunctions(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, ".woodpecker", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join(repoRoot, "README.md"))
	re := regexp.MustCompile(`dagger (?:--progress=plain )?call ([a-z][a-z-]*)`)
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			if !slices.Contains(out, m[1]) {
				out = append(out, m[1])
			}
		}
	}
	slices.Sort(out)
	if len(out) < 5 {
		t.Fatalf("found only %v in README.md and .woodpecker/: the pattern is broken", out)
	}
	return out
}

// The CLI lists every function with a whole one-line summary and skips
// none of ours. v0.21.8's `dagger functions` also reports the engine's own
// `with` field as skipped: the engine adds it to Query to carry the
// constructor's arguments (it returns Query, which the CLI cannot call);
// later engines hide it (dagger/dagger TestEntrypointWithFieldHidden).
// Every function's `--help` shows that summary and each argument's help
// on the flag's own line.
func testHelp(t *testing.T) {
	c := daggerCLI(t, "functions", 20*time.Minute, "functions")
	if c.Err != nil {
		t.Fatalf("%s", c)
	}
	listed := map[string]string{}
	row := regexp.MustCompile(`^([a-z][a-z-]*)\s{2,}(\S.*)$`)
	for _, l := range strings.Split(c.Stdout, "\n") {
		if m := row.FindStringSubmatch(strings.TrimRight(l, " ")); m != nil {
			listed[m[1]] = m[2]
		}
	}
	if skipped := regexp.MustCompile(`Skipped \d+ function\(s\) with unsupported types: (.*)`).FindStringSubmatch(c.Stdout); skipped != nil && strings.TrimSpace(skipped[1]) != "with" {
		t.Errorf("the CLI skips functions of this module: %s", skipped[1])
	}
	for _, fn := range documentedFunctions(t) {
		if _, ok := listed[fn]; !ok {
			t.Errorf("README.md or .woodpecker/ calls %q, which `dagger functions` does not list:\n%s", fn, c.Stdout)
		}
	}
	names := make([]string, 0, len(listed))
	for fn := range listed {
		names = append(names, fn)
	}
	slices.Sort(names)
	for _, fn := range names {
		summary := listed[fn]
		if !strings.HasSuffix(summary, ".") {
			t.Errorf("%s: summary %q is cut mid-sentence", fn, summary)
		}
		h := daggerCall(t, "help-"+fn, 10*time.Minute, fn, "--help")
		if h.Err != nil {
			t.Errorf("%s", h)
			continue
		}
		if !strings.HasPrefix(strings.TrimSpace(h.Stdout), summary) {
			t.Errorf("%s --help does not open with its summary %q:\n%s", fn, summary, h.Stdout)
		}
		for _, problem := range argumentHelpProblems(h.Stdout) {
			t.Errorf("%s --help: %s", fn, problem)
		}
	}
	mergeReport(t, map[string]any{"functions": names})
}

// argumentHelpProblems reads the ARGUMENTS section of a --help page:
// every flag has help text, and its type word is a type, not a
// placeholder taken from a backquoted phrase in the help (pflag's
// UnquoteUsage). Engine v0.21.8 wraps every description in newlines
// (core/gqlformat.go, formatGqlDescription), so pflag starts each flag's
// help on the line below the flag, for every module; a one-line doc
// comment then wraps as one paragraph.
func argumentHelpProblems(help string) []string {
	_, args, ok := strings.Cut(help, "ARGUMENTS")
	if !ok {
		return nil // a function without arguments
	}
	if i := strings.Index(args, "\n\n"); i >= 0 {
		args = args[:i]
	}
	flag := regexp.MustCompile(`^\s+--([a-z][a-z0-9-]*)(?: (\S+))?\s*(.*)$`)
	types := []string{"string", "strings", "int", "Directory", "File", "Secret", "Container"}
	var problems []string
	var current string
	text := map[string]string{}
	var order []string
	for _, l := range strings.Split(args, "\n") {
		if m := flag.FindStringSubmatch(l); m != nil {
			current = m[1]
			order = append(order, current)
			if typ := m[2]; typ != "" && !slices.Contains(types, typ) {
				problems = append(problems, fmt.Sprintf("--%s shows %q where its type belongs: a backquoted phrase in its help?", current, typ))
			}
			text[current] += m[3]
			continue
		}
		if current != "" && !strings.HasPrefix(strings.TrimSpace(l), "(default ") {
			text[current] += " " + strings.TrimSpace(l)
		}
	}
	if len(order) == 0 {
		problems = append(problems, "ARGUMENTS lists no flag")
	}
	for _, f := range order {
		if strings.TrimSpace(text[f]) == "" {
			problems = append(problems, "--"+f+" has no help text")
		}
	}
	return problems
}
