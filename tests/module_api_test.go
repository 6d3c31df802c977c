package tests

// The module's CLI surface read from the root package's source the way the
// Go SDK reads it (internal/moduleapi, which the Woodpecker checks use
// too): help text that reads well in `dagger call --help`, and constructor
// defaults that are the pins. The engine suite (tests/engine) checks the
// help the real CLI prints.

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"dagger/mikrotik-tailscale/internal/moduleapi"
	"dagger/mikrotik-tailscale/internal/pins"
)

// loadModule is the module's CLI surface, read from the repository.
func loadModule(t testing.TB) moduleapi.Module {
	t.Helper()
	mod, err := moduleapi.Load(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	return mod
}

// maxSummary keeps `dagger functions`' table on one line per function in
// an 120-column terminal.
const maxSummary = 90

// Each function's first doc line is all that `dagger functions` and
// `dagger call --help` show: it must be a whole sentence on its own. An
// argument's help is shown whole, but a backquoted phrase in it becomes
// the flag's value placeholder (pflag's UnquoteUsage), so there is none;
// and it is one comment line, which the CLI wraps itself (the Go SDK keeps
// a comment's line breaks, and pflag then starts the help on a line of its
// own and breaks it twice).
func TestHelpTextReadsWell(t *testing.T) {
	mod := loadModule(t)
	checkArgs := func(where string, args map[string]moduleapi.Arg) {
		for _, name := range slices.Sorted(maps.Keys(args)) {
			h := args[name].Help()
			switch {
			case h == "":
				t.Errorf("%s --%s has no help text", where, name)
			case strings.Contains(h, "`"):
				t.Errorf("%s --%s: a backquote in %q becomes the value placeholder", where, name, h)
			case strings.Contains(h, "\n"):
				t.Errorf("%s --%s: help on more than one comment line; the CLI would print it as ragged lines below the flag: %q", where, name, h)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(mod.Funcs)) {
		fn := mod.Funcs[name]
		if fn.Field {
			t.Errorf("field %s is a function of its own in the CLI; mark it +private", fn.GoName)
			continue
		}
		summary, _, _ := strings.Cut(fn.Help(), "\n")
		switch {
		case summary == "":
			t.Errorf("%s has no doc comment", name)
		case !strings.HasSuffix(summary, "."):
			t.Errorf("%s: summary %q is not a whole sentence on the first line", name, summary)
		case len(summary) > maxSummary:
			t.Errorf("%s: summary %q is longer than %d characters", name, summary, maxSummary)
		}
		checkArgs(name, fn.Args)
	}
	checkArgs("constructor", mod.Constructor)
}

// The constructor's image defaults (shown by --help, used when a user
// passes nothing) are exactly the pins the rest of the module and the host
// suite use; Renovate rewrites both places in one update.
func TestConstructorDefaultsArePins(t *testing.T) {
	mod := loadModule(t)
	for flag, pin := range map[string]string{"golang-image": pins.GolangImage, "debian-image": pins.DebianImage} {
		arg, ok := mod.Constructor[flag]
		if !ok {
			t.Errorf("the constructor has no --%s", flag)
			continue
		}
		if want := `+default="` + pin + `"`; !strings.Contains(arg.Doc, want) {
			t.Errorf("--%s: its pragma is not %s:\n%s", flag, want, arg.Doc)
		}
	}
}
