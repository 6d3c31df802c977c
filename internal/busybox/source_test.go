package busybox

import (
	"slices"
	"strings"
	"testing"
)

// A synthetic SourceLinesArgs output with the shapes the real source has.
const scan = `Config.in:config BUSYBOX
Config.in:	bool "Include busybox applet"
Config.in:config STATIC
Config.in:	bool "Build static binary (no shared libs)"
Config.in:menuconfig FEATURE_IPV6
Config.in:	bool "Enable IPv6 support"
Config.in:config FEATURE_EDITING_HISTORY
Config.in:	int "History size"
Config.in:	  bool flags in help text are not a type
shell/Config.src:config SH_IS_ASH
shell/Config.src:config SH_IS_HUSH
coreutils/test.c://config:config TEST
coreutils/test.c://config:	bool "test (4.1 kb)"
coreutils/test.c://config:config TEST1
coreutils/test.c://config:config TEST2
coreutils/test.c://applet:IF_TEST(APPLET_NOFORK(test, test, BB_DIR_USR_BIN, BB_SUID_DROP, test))
coreutils/test.c://applet:IF_TEST1(APPLET_NOFORK([,   test, BB_DIR_USR_BIN, BB_SUID_DROP, test))
coreutils/test.c://applet:IF_TEST2(APPLET_NOFORK([[,  test, BB_DIR_USR_BIN, BB_SUID_DROP, test))
shell/ash.c://config:config ASH
shell/ash.c://applet:IF_ASH(APPLET(ash, BB_DIR_BIN, BB_SUID_DROP))
shell/ash.c://applet:IF_SH_IS_ASH(  APPLET_ODDNAME(sh,   ash, BB_DIR_BIN, BB_SUID_DROP, ash))
shell/hush.c://config:config HUSH
shell/hush.c://applet:IF_HUSH(APPLET(hush, BB_DIR_BIN, BB_SUID_DROP))
shell/hush.c://applet:IF_SH_IS_HUSH(  APPLET_ODDNAME(sh,   hush, BB_DIR_BIN, BB_SUID_DROP, hush))
procps/sysctl.c://config:config BB_SYSCTL
procps/sysctl.c://applet:IF_BB_SYSCTL(APPLET_NOEXEC(sysctl, sysctl, BB_DIR_SBIN, BB_SUID_DROP, sysctl))
findutils/grep.c://config:config GREP
findutils/grep.c://config:config EGREP
findutils/grep.c://applet:IF_GREP(APPLET(grep, BB_DIR_BIN, BB_SUID_DROP))
findutils/grep.c://applet:IF_EGREP(APPLET_ODDNAME(egrep, grep, BB_DIR_BIN, BB_SUID_DROP, egrep))
libbb/appletlib.c://applet:IF_BUSYBOX(IF_FEATURE_SH_STANDALONE(IF_FEATURE_TAB_COMPLETION(APPLET(busybox, BB_DIR_BIN, BB_SUID_MAYBE))))
loginutils/su.c://applet:/* Needs to be run by root or be suid root - needs to change uid and gid: */
networking/tftp.c://applet:#if ENABLE_FEATURE_TFTP_GET || ENABLE_FEATURE_TFTP_PUT
networking/tftp.c://config:config TFTP
networking/tftp.c://applet:IF_TFTP(APPLET(tftp, BB_DIR_USR_BIN, BB_SUID_DROP))
networking/tftp.c://applet:#endif
`

func mustIndex(t *testing.T) *Index {
	t.Helper()
	ix, err := ParseSource(scan)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func TestParseSourceDerivesSymbols(t *testing.T) {
	ix := mustIndex(t)
	for applet, want := range map[string]string{
		"[": "TEST1", "[[": "TEST2", "test": "TEST", "sysctl": "BB_SYSCTL",
		"egrep": "EGREP", "grep": "GREP", "ash": "ASH", "busybox": "BUSYBOX", "tftp": "TFTP",
	} {
		ps := ix.Providers(applet)
		if len(ps) != 1 || ps[0].Symbol != want {
			t.Errorf("%s: providers %+v, want symbol %s", applet, ps, want)
		}
	}
	var syms []string
	for _, p := range ix.Providers("sh") {
		syms = append(syms, p.Symbol+"/"+p.Main)
	}
	if !slices.Equal(syms, []string{"SH_IS_ASH/ash", "SH_IS_HUSH/hush"}) {
		t.Errorf("sh providers: %v", syms)
	}
	if p := ix.Providers("egrep")[0]; p.Main != "grep" || p.File != "findutils/grep.c" {
		t.Errorf("egrep provider: %+v", p)
	}
	if !ix.Defines("FEATURE_IPV6") || !ix.Defines("STATIC") || ix.Defines("NOPE") {
		t.Error("config symbols (config, menuconfig, //config:config) not all indexed")
	}
	if slices.Contains(ix.Symbols(), "STATIC") || !slices.Contains(ix.Symbols(), "TEST1") {
		t.Errorf("applet symbols: %v", ix.Symbols())
	}
}

func TestParseSourceReadsTypes(t *testing.T) {
	ix := mustIndex(t)
	for sym, want := range map[string]string{
		"BUSYBOX": "bool", "FEATURE_IPV6": "bool", "TEST": "bool",
		// the help line after the int is not a second type
		"FEATURE_EDITING_HISTORY": "int",
		// defined, but the scan has no type line for it
		"TEST1": "", "NOPE": "",
	} {
		if got := ix.Type(sym); got != want {
			t.Errorf("Type(%s) = %q, want %q", sym, got, want)
		}
	}
}

func TestCheckBools(t *testing.T) {
	ix := mustIndex(t)
	if err := checkBools(ix, []string{"STATIC", "FEATURE_IPV6"}); err != nil {
		t.Errorf("bools rejected: %v", err)
	}
	err := checkBools(ix, []string{"STATIC", "FEATURE_GONE", "FEATURE_EDITING_HISTORY", "TEST1"})
	if err == nil {
		t.Fatal("a missing and a retyped symbol accepted")
	}
	for _, want := range []string{
		"not defined by this BusyBox source (renamed or removed upstream?): CONFIG_FEATURE_GONE;",
		"not a bool any more: CONFIG_FEATURE_EDITING_HISTORY (int), CONFIG_TEST1 (no type)",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "CONFIG_STATIC") {
		t.Errorf("error names a good symbol: %v", err)
	}
}

func TestParseSourceRejectsWhatItCannotRead(t *testing.T) {
	for in, want := range map[string]string{
		"a/b.c://applet:APPLET(foo, BB_DIR_BIN, BB_SUID_DROP)\n": "a/b.c: cannot parse",
		"a/b.c://applet:IF_FOO(APPLET(foo, BB_DIR_BIN))\n":       "FOO has no `config FOO` definition",
		"garbage\n":                     "unexpected line",
		"a/b.c://config:config FOO\n":   "no //applet: lines",
		"a/Config.src:config FOO bar\n": "unexpected line",
	} {
		_, err := ParseSource(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSource(%q) = %v, want error containing %q", in, err, want)
		}
	}
}

func TestResolvePicksTheShellThatIsListed(t *testing.T) {
	ix := mustIndex(t)
	for shell, want := range map[string]string{"ash": "SH_IS_ASH", "hush": "SH_IS_HUSH"} {
		sel, err := ix.Resolve([]Entry{{"sh", 1}, {shell, 2}})
		if err != nil {
			t.Fatal(err)
		}
		if sel.Symbol["sh"] != want || sel.Symbol[shell] != strings.ToUpper(shell) {
			t.Errorf("sh with %s: %v", shell, sel.Symbol)
		}
	}
	for _, list := range [][]Entry{{{"sh", 3}}, {{"sh", 3}, {"ash", 4}, {"hush", 5}}} {
		_, err := ix.Resolve(list)
		if err == nil || !strings.Contains(err.Error(), ListFile+`:3: "sh" is provided by SH_IS_ASH (ash) or SH_IS_HUSH (hush)`) {
			t.Errorf("Resolve(%v) = %v, want the ambiguity named", list, err)
		}
	}
}

func TestResolveNamesEveryUnknownApplet(t *testing.T) {
	_, err := mustIndex(t).Resolve([]Entry{{"grep", 1}, {"nosuch", 7}, {"[", 8}, {"ifconfig", 9}})
	if err == nil {
		t.Fatal("unknown applets accepted")
	}
	for _, want := range []string{ListFile + `:7: BusyBox has no applet "nosuch"`, ListFile + `:9: BusyBox has no applet "ifconfig"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestResolveKeepsListOrder(t *testing.T) {
	sel, err := mustIndex(t).Resolve([]Entry{{"test", 1}, {"[", 2}, {"egrep", 3}, {"sysctl", 4}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sel.Applets, []string{"test", "[", "egrep", "sysctl"}) {
		t.Errorf("Applets = %v", sel.Applets)
	}
	if !slices.Equal(sel.Symbols(), []string{"BB_SYSCTL", "EGREP", "TEST", "TEST1"}) {
		t.Errorf("Symbols = %v", sel.Symbols())
	}
}
