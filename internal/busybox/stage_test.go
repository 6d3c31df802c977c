package busybox

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// recorder is a Runner that answers the scan (the synthetic one plus a
// bool definition of every symbol the recipe names but those in dropped)
// and the epoch, records every step, and fails the read of the .config (a
// lazy runner's deferred failure), so the order of the steps up to there
// is visible.
type recorder struct {
	steps   []string
	dropped []string
}

func (r *recorder) Output(argv []string) (string, error) {
	r.steps = append(r.steps, "output "+argv[0])
	switch {
	case slices.Equal(argv, SourceLinesArgs()):
		out := scan
		for _, sym := range recipeSymbols() {
			if !slices.Contains(r.dropped, sym) {
				out += "Config.in:config " + sym + "\nConfig.in:\tbool \"" + sym + "\"\n"
			}
		}
		return out, nil
	case slices.Equal(argv, EpochArgs()):
		return "1727386272\n", nil
	}
	return "", errors.New("unexpected command")
}

func (r *recorder) Run(argv []string) error {
	r.steps = append(r.steps, "run "+strings.Join(argv, " "))
	return nil
}

func (r *recorder) SetEnv(env []string) { r.steps = append(r.steps, "env "+strings.Join(env, " ")) }

func (r *recorder) WriteFile(rel, content string) error {
	r.steps = append(r.steps, "write "+rel)
	return nil
}

func (r *recorder) ReadFile(rel string) (string, error) {
	r.steps = append(r.steps, "read "+rel)
	return "", errors.New("make oldconfig failed")
}

// recipeSymbols are the symbols CheckFeatures wants defined.
func recipeSymbols() []string {
	out := slices.Concat(AllnoFeatures, LeftOutFeatures)
	for _, p := range Policy {
		out = append(out, p.Symbol)
	}
	return out
}

func TestConfigureSteps(t *testing.T) {
	list, err := ParseList("test\n[\ngrep\nsh\nash\n")
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	_, err = Configure(r, list, Chosen)
	if err == nil || err.Error() != "make oldconfig failed" {
		t.Fatalf("err %v, want the deferred failure", err)
	}
	want := []string{
		"output " + SourceLinesArgs()[0],
		"output " + EpochArgs()[0],
		"env " + strings.Join(Env(1727386272), " "),
		"write " + FragmentPath,
		"run " + strings.Join(BaseConfigArgs(), " "),
		"run " + strings.Join(OldconfigArgs(), " "),
		"read .config",
	}
	if !slices.Equal(r.steps, want) {
		t.Errorf("steps\n%s\nwant\n%s", strings.Join(r.steps, "\n"), strings.Join(want, "\n"))
	}
}

// An applet the source does not know stops the stage before anything is
// written.
func TestConfigureRefusesAnUnknownApplet(t *testing.T) {
	list, err := ParseList("test\nnosuchapplet\n")
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	if _, err := Configure(r, list, Chosen); err == nil || !strings.Contains(err.Error(), "nosuchapplet") {
		t.Fatalf("err %v", err)
	}
	if len(r.steps) != 1 {
		t.Errorf("steps after the refusal: %v", r.steps)
	}
}

// A symbol the recipe names that the source no longer defines stops the
// stage before anything is written, naming it and its list: a feature
// for allnoconfig-plus, a policy symbol for either strategy.
func TestConfigureRefusesAVanishedSymbol(t *testing.T) {
	list, err := ParseList("test\n")
	if err != nil {
		t.Fatal(err)
	}
	feature := AllnoFeatures[len(AllnoFeatures)-1]
	leftOut := LeftOutFeatures[0]
	policy := Policy[len(Policy)-1].Symbol
	for _, c := range []struct {
		s     Strategy
		gone  []string
		wants []string
	}{
		{AllnoconfigPlus, []string{feature, leftOut}, []string{"AllnoFeatures: not defined by this BusyBox source (renamed or removed upstream?): CONFIG_" + feature, "LeftOutFeatures: not defined by this BusyBox source (renamed or removed upstream?): CONFIG_" + leftOut}},
		{DefconfigMinus, []string{policy}, []string{"Policy: not defined by this BusyBox source (renamed or removed upstream?): CONFIG_" + policy}},
		// defconfig-minus does not use the feature lists.
		{DefconfigMinus, []string{feature}, nil},
	} {
		r := &recorder{dropped: c.gone}
		_, err := Configure(r, list, c.s)
		if c.wants == nil {
			if err == nil || err.Error() != "make oldconfig failed" {
				t.Errorf("%s without %v: err %v, want the deferred failure", c.s, c.gone, err)
			}
			continue
		}
		for _, want := range c.wants {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s without %v: err %v, want %q", c.s, c.gone, err, want)
			}
		}
		if len(r.steps) != 2 {
			t.Errorf("%s: steps after the refusal: %v", c.s, r.steps)
		}
	}
}
