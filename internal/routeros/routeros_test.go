package routeros

import (
	"os"
	"strings"
	"testing"
)

// updater is the real script: the tests check the mirror against it.
func updater(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../routeros/update-tailscale.rsc")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// mutate is text with old replaced by new once; old must be in it, so that
// a mutation does not silently stop applying when the script changes.
func mutate(t *testing.T, text, old, new string) string {
	t.Helper()
	if !strings.Contains(text, old) {
		t.Fatalf("the script no longer contains %q: update this mutation", old)
	}
	return strings.Replace(text, old, new, 1)
}

func TestUnquote(t *testing.T) {
	for _, c := range []struct {
		lit, want string
		end       int
		bad       bool
	}{
		{`"plain"`, "plain", 7, false},
		{`"a\?b\$c\"d\\e" rest`, `a?b$c"d\e`, 15, false},
		{`"\r\n\t\_"`, "\r\n\t ", 10, false},
		{`"a?b"`, "", 0, true},
		{`"$x"`, "", 0, true},
		{`"\q"`, "", 0, true},
		{"\"a\nb\"", "", 0, true},
		{`"open`, "", 0, true},
		{`plain`, "", 0, true},
		{`"ends\`, "", 0, true},
	} {
		got, end, err := Unquote(c.lit)
		if (err != nil) != c.bad || got != c.want || end != c.end {
			t.Errorf("Unquote(%q) = %q, %d, %v; want %q, %d, error %v", c.lit, got, end, err, c.want, c.end, c.bad)
		}
	}
}

func TestFunc(t *testing.T) {
	text := "# :local f do={ commented }\n" +
		":local f do={\n  :local s \"}\"\n  # a } in a comment\n  :if (x) do={ :return 1 }\n}\n:local g do={ :return 2 }\n"
	if got, want := Func(NoComments(text), "f"), "\n  :local s \"}\"\n  :if (x) do={ :return 1 }\n"; got != want {
		t.Errorf("Func(f) = %q, want %q", got, want)
	}
	if got, want := Func(text, "g"), " :return 2 "; got != want {
		t.Errorf("Func(g) = %q, want %q", got, want)
	}
	if got := Func(text, "h"); got != "" {
		t.Errorf("Func(h) = %q, want \"\"", got)
	}
	if got := Func(":local f do={ :if (x) do={ }", "f"); got != "" {
		t.Errorf("Func of an unclosed block = %q, want \"\"", got)
	}
	if got, want := NoComments("a\n  # b\nc"), "a\nc\n"; got != want {
		t.Errorf("NoComments = %q, want %q", got, want)
	}
}
