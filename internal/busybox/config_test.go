package busybox

import (
	"slices"
	"strings"
	"testing"
)

func mustSelect(t *testing.T, names ...string) (*Index, Selection) {
	t.Helper()
	ix := mustIndex(t)
	var list []Entry
	for i, n := range names {
		list = append(list, Entry{n, i + 1})
	}
	sel, err := ix.Resolve(list)
	if err != nil {
		t.Fatal(err)
	}
	return ix, sel
}

func lines(s string) map[string]bool {
	out := map[string]bool{}
	for _, l := range strings.Split(s, "\n") {
		out[l] = true
	}
	return out
}

func TestPolicyHoldsTheInvariants(t *testing.T) {
	want := map[string]string{
		"STATIC": "y", "LFS": "y", "FEATURE_IPV6": "y", "BUSYBOX": "y",
		"FEATURE_SH_STANDALONE": "", "FEATURE_SH_NOFORK": "", "FEATURE_PREFER_APPLETS": "",
	}
	for _, p := range Policy {
		if v, ok := want[p.Symbol]; ok {
			if v != p.Value {
				t.Errorf("Policy %s = %q, want %q", p.Symbol, p.Value, v)
			}
			delete(want, p.Symbol)
		}
		if p.Why == "" {
			t.Errorf("Policy %s has no reason", p.Symbol)
		}
	}
	if len(want) > 0 {
		t.Errorf("Policy lacks %v", want)
	}
}

func TestFragmentDefconfigMinus(t *testing.T) {
	ix, sel := mustSelect(t, "sh", "ash", "[", "sysctl")
	frag, err := Fragment(DefconfigMinus, ix, sel)
	if err != nil {
		t.Fatal(err)
	}
	l := lines(frag)
	for _, want := range []string{
		"CONFIG_SH_IS_ASH=y", "CONFIG_ASH=y", "CONFIG_TEST1=y", "CONFIG_BB_SYSCTL=y",
		"# CONFIG_SH_IS_HUSH is not set", "# CONFIG_HUSH is not set", "# CONFIG_TEST is not set",
		"# CONFIG_TEST2 is not set", "# CONFIG_EGREP is not set", "# CONFIG_TFTP is not set",
		"CONFIG_STATIC=y", "CONFIG_LFS=y", "CONFIG_FEATURE_IPV6=y", "CONFIG_BUSYBOX=y",
		"# CONFIG_FEATURE_SH_STANDALONE is not set", "# CONFIG_FEATURE_PREFER_APPLETS is not set",
	} {
		if !l[want] {
			t.Errorf("fragment lacks %q:\n%s", want, frag)
		}
	}
	// BUSYBOX guards the (unlisted) busybox applet too; policy wins.
	if l["# CONFIG_BUSYBOX is not set"] {
		t.Error("fragment switches off BUSYBOX")
	}
	// Non-applet symbols keep upstream's default: not mentioned.
	if strings.Contains(frag, "CONFIG_FEATURE_FANCY") {
		t.Errorf("defconfig-minus touches features:\n%s", frag)
	}
}

func TestFragmentAllnoconfigPlus(t *testing.T) {
	ix, sel := mustSelect(t, "grep")
	frag, err := Fragment(AllnoconfigPlus, ix, sel)
	if err != nil {
		t.Fatal(err)
	}
	l := lines(frag)
	for _, want := range []string{"CONFIG_GREP=y", "# CONFIG_EGREP is not set", "CONFIG_STATIC=y",
		"CONFIG_" + AllnoFeatures[0] + "=y", "CONFIG_FEATURE_FANCY_ECHO=y"} {
		if !l[want] {
			t.Errorf("fragment lacks %q", want)
		}
	}
}

func TestFragmentRejectsPolicyConflicts(t *testing.T) {
	ix, err := ParseSource("a/x.c://config:config FEATURE_PREFER_APPLETS\na/x.c://applet:IF_FEATURE_PREFER_APPLETS(APPLET(x, BB_DIR_BIN, BB_SUID_DROP))\n")
	if err != nil {
		t.Fatal(err)
	}
	sel, err := ix.Resolve([]Entry{{"x", 1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Fragment(DefconfigMinus, ix, sel); err == nil || !strings.Contains(err.Error(), "CONFIG_FEATURE_PREFER_APPLETS") {
		t.Errorf("conflict not reported: %v", err)
	}
	if _, err := Fragment("menuconfig", ix, sel); err == nil {
		t.Error("unknown strategy accepted")
	}
}

// final builds a .config as kconfig writes it.
func final(on []string, off []string) string {
	var b strings.Builder
	b.WriteString("#\n# Automatically generated make config: don't edit\n#\nCONFIG_EXTRA_CFLAGS=\"\"\nCONFIG_FEATURE_EDITING_HISTORY=255\n")
	for _, s := range on {
		b.WriteString("CONFIG_" + s + "=y\n")
	}
	for _, s := range off {
		b.WriteString("# CONFIG_" + s + " is not set\n")
	}
	return b.String()
}

func policyOK() (on, off []string) {
	for _, p := range Policy {
		if p.Value == "y" {
			on = append(on, p.Symbol)
		} else {
			off = append(off, p.Symbol)
		}
	}
	return on, off
}

func TestParseConfig(t *testing.T) {
	cfg := ParseConfig(final([]string{"LS"}, []string{"CAT"}))
	if cfg["LS"] != "y" || cfg["EXTRA_CFLAGS"] != `""` || cfg["FEATURE_EDITING_HISTORY"] != "255" {
		t.Errorf("ParseConfig = %v", cfg)
	}
	if v, ok := cfg["CAT"]; !ok || v != "" {
		t.Errorf("not-set symbol: %q %v", v, ok)
	}
}

func TestCheckConfig(t *testing.T) {
	ix, sel := mustSelect(t, "sh", "ash", "[", "sysctl")
	on, off := policyOK()
	good := final(append(on, "SH_IS_ASH", "ASH", "TEST1", "BB_SYSCTL"), append(off, "TEST", "TEST2", "HUSH"))
	if err := CheckConfig(good, DefconfigMinus, ix, sel); err != nil {
		t.Fatalf("good config rejected: %v", err)
	}

	// A listed applet kconfig dropped, an unlisted one that crept in.
	bad := final(append(on, "SH_IS_ASH", "ASH", "BB_SYSCTL", "EGREP"), append(off, "TEST1"))
	err := CheckConfig(bad, DefconfigMinus, ix, sel)
	if err == nil {
		t.Fatal("dropped applet accepted")
	}
	for _, want := range []string{"dropped by kconfig", "[ (CONFIG_TEST1)", "enabled but not listed: CONFIG_EGREP"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}

	// Policy: static off, standalone on.
	broken := strings.Replace(good, "CONFIG_STATIC=y", "# CONFIG_STATIC is not set", 1) +
		"CONFIG_FEATURE_SH_STANDALONE=y\n"
	err = CheckConfig(broken, DefconfigMinus, ix, sel)
	if err == nil || !strings.Contains(err.Error(), "CONFIG_STATIC must be=y") || !strings.Contains(err.Error(), "CONFIG_FEATURE_SH_STANDALONE must be off") {
		t.Errorf("policy violations not reported: %v", err)
	}

	// allnoconfig-plus also demands its feature list.
	err = CheckConfig(good, AllnoconfigPlus, ix, sel)
	if err == nil || !strings.Contains(err.Error(), "listed features dropped") || !strings.Contains(err.Error(), "CONFIG_"+AllnoFeatures[0]) {
		t.Errorf("dropped features not reported: %v", err)
	}
}

// A feature is either on the list or left out on purpose, not both.
func TestFeatureListsAreDisjoint(t *testing.T) {
	for _, sym := range LeftOutFeatures {
		if slices.Contains(AllnoFeatures, sym) {
			t.Errorf("%s is in AllnoFeatures and LeftOutFeatures", sym)
		}
	}
}
