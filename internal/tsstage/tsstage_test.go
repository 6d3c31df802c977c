package tsstage

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"dagger/mikrotik-tailscale/internal/tsbuild"
)

// fake answers each command from a table and records what was asked.
type fake struct {
	answers map[string]string
	asked   []string
}

func (f *fake) run(argv []string) (string, error) {
	cmd := strings.Join(argv, " ")
	f.asked = append(f.asked, cmd)
	if out, ok := f.answers[cmd]; ok {
		return out, nil
	}
	return "", errors.New("no such command: " + cmd)
}

const gomod = "module tailscale.com\n\ngo 1.26.0\n"

func TestCheckSource(t *testing.T) {
	goVer := strings.Join(GoVersionArgs(), " ")
	for _, tc := range []struct {
		builder, want string
	}{
		{"go1.27.3\n", ""},
		{"go1.27.2\n", "pins and proves go1.27.3"},
		{"go1.25.0\n", "pins and proves go1.27.3"},
	} {
		f := &fake{answers: map[string]string{goVer: tc.builder}}
		err := CheckSource(f.run, []byte(gomod), "1.27.3", "v1.104.5")
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("builder %q: %v, want %q", tc.builder, err, tc.want)
		}
	}
	// go.mod asks for more than the pinned Go: named with both versions.
	f := &fake{answers: map[string]string{goVer: "go1.27.3"}}
	if err := CheckSource(f.run, []byte("module tailscale.com\n\ngo 1.28.0\n"), "1.27.3", "v1.104.5"); err == nil || !strings.Contains(err.Error(), "requires go1.28.0") {
		t.Errorf("a newer go.mod: %v", err)
	}
	if err := CheckSource((&fake{}).run, []byte(gomod), "1.27.3", "v1.104.5"); err == nil || !strings.Contains(err.Error(), "no such command") {
		t.Errorf("a failing command: %v", err)
	}
}

// Review asks featuretags for the list, refuses a catalogue upstream does
// not match before asking for tags, and passes command failures on.
func TestReview(t *testing.T) {
	list := strings.Join(tsbuild.FeatureListArgs(), " ")
	f := &fake{answers: map[string]string{list: "cli: embed the CLI\nnewthing: something else\n"}}
	if _, known, err := Review(f.run, nil); err == nil || len(known) != 2 {
		t.Errorf("a list lacking the catalogue's features: known %v, err %v", known, err)
	}
	if !slices.Equal(f.asked, []string{list}) {
		t.Errorf("asked %v, want only the list", f.asked)
	}
	if _, _, err := Review((&fake{}).run, nil); err == nil || !strings.Contains(err.Error(), "no such command") {
		t.Errorf("a failing command: %v", err)
	}
}
