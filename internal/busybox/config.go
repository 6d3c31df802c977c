package busybox

import (
	"fmt"
	"sort"
	"strings"
)

// Strategy is how the .config is produced from the applet list.
type Strategy string

const (
	// DefconfigMinus starts from BusyBox's defconfig and switches off every
	// applet that is not listed; each listed applet keeps upstream's
	// default features (what its documentation and users expect).
	DefconfigMinus Strategy = "defconfig-minus"
	// AllnoconfigPlus starts from allnoconfig and switches on the listed
	// applets plus an explicit, hand-kept feature list (AllnoFeatures).
	AllnoconfigPlus Strategy = "allnoconfig-plus"
)

// Chosen is the strategy the image is built with: allnoconfig-plus, about
// 56 kB (25 %, UPX'd, arm64) smaller than defconfig-minus for the same
// applets. docs/BUSYBOX.md has the measurements and what each feature
// costs.
const Chosen = AllnoconfigPlus

// Strategies lists every strategy (the host suite measures them all).
var Strategies = []Strategy{DefconfigMinus, AllnoconfigPlus}

// Setting is one required .config value. Value "y" means =y, "" means
// "is not set".
type Setting struct {
	Symbol string
	Value  string
	Why    string
}

// Policy holds regardless of strategy; CheckConfig enforces it on the
// final .config.
var Policy = []Setting{
	{"STATIC", "y", "the image is FROM scratch: no libc to link against"},
	{"LFS", "y", "large files; musl on 32-bit arm does not build without it"},
	{"FEATURE_IPV6", "y", "ping6, traceroute6 and IPv6 in ip, nslookup, wget, nc"},
	{"BUSYBOX", "y", "`busybox --list` and `busybox <applet>`"},
	{"SHOW_USAGE", "y", "`<applet> --help`"},
	{"FEATURE_SH_STANDALONE", "", "would re-exec /proc/self/exe, which UPX breaks (upx#248); the symlink farm resolves commands"},
	{"FEATURE_SH_NOFORK", "", "runs applets inside the shell process; off with standalone"},
	{"FEATURE_PREFER_APPLETS", "", "would re-exec /proc/self/exe, which UPX breaks and needs /proc"},
	{"FEATURE_INSTALLER", "", "`busybox --install`: the image ships its symlinks"},
	{"SHA1_HWACCEL", "", "1.37.0 does not compile it on arm (sha1_process_block64_shaNI undeclared); off on every arch so all run the same code"},
	{"SHA256_HWACCEL", "", "x86-only SHA-NI code, off with SHA1_HWACCEL"},
}

// AllnoFeatures is the feature list AllnoconfigPlus adds to allnoconfig:
// the behaviour a debug session on a router uses from the listed applets
// (tests/busybox_test.go checks it, and checks that what is left out is
// really absent). docs/BUSYBOX.md has what each feature costs and what was
// left out. Every symbol must be a bool the pinned source defines
// (CheckFeatures) and be =y after oldconfig (CheckConfig), so a BusyBox
// upgrade that renames or retypes one fails the build naming it instead
// of losing the behaviour.
var AllnoFeatures = []string{
	// shell: ash with arithmetic, line editing, history search
	"ASH_OPTIMIZE_FOR_SIZE", "ASH_INTERNAL_GLOB", "ASH_BASH_COMPAT",
	"ASH_ALIAS", "ASH_ECHO", "ASH_PRINTF", "ASH_TEST",
	"ASH_GETOPTS", "ASH_CMDCMD", "FEATURE_SH_MATH", "FEATURE_SH_MATH_64",
	"FEATURE_EDITING", "FEATURE_TAB_COMPLETION", "FEATURE_REVERSE_SEARCH",
	"FEATURE_SH_READ_FRAC",
	// DESKTOP: `free -m/-h`, `ps -o` (it replaces ps -w/-l), `find
	// -and/-or/-not`, chmod -v, more date formats
	"DESKTOP",
	// coreutils behaviour people rely on
	"FEATURE_FANCY_ECHO", "FEATURE_FANCY_SLEEP", "FLOAT_DURATION", "FEATURE_FANCY_HEAD",
	"FEATURE_FANCY_TAIL", "FEATURE_HUMAN_READABLE", "FEATURE_DF_FANCY",
	"FEATURE_CATN", "FEATURE_TR_CLASSES", "FEATURE_MD5_SHA1_SUM_CHECK",
	"FEATURE_LS_FILETYPES", "FEATURE_LS_FOLLOWLINKS", "FEATURE_LS_RECURSIVE",
	"FEATURE_LS_WIDTH", "FEATURE_LS_SORTFILES", "FEATURE_LS_TIMESTAMPS",
	"FEATURE_LS_USERNAME", "FEATURE_SORT_BIG", "FEATURE_CP_LONG_OPTIONS",
	// find, grep, xargs
	"FEATURE_FIND_MAXDEPTH", "FEATURE_FIND_NEWER", "FEATURE_FIND_PERM", "FEATURE_FIND_TYPE",
	"FEATURE_FIND_MTIME", "FEATURE_FIND_MMIN", "FEATURE_FIND_SIZE", "FEATURE_FIND_NOT",
	"FEATURE_FIND_PATH", "FEATURE_FIND_REGEX", "FEATURE_FIND_EXEC", "FEATURE_FIND_EXEC_PLUS",
	"FEATURE_FIND_PRINT0", "FEATURE_FIND_PAREN", "FEATURE_FIND_DEPTH", "FEATURE_FIND_PRUNE",
	"FEATURE_FIND_DELETE", "FEATURE_FIND_XDEV", "FEATURE_GREP_CONTEXT",
	"FEATURE_XARGS_SUPPORT_ZERO_TERM", "FEATURE_XARGS_SUPPORT_QUOTES",
	"FEATURE_XARGS_SUPPORT_PARALLEL", "FEATURE_XARGS_SUPPORT_REPL_STR",
	// vi: search, yank/put, ex commands, undo
	"FEATURE_VI_COLON", "FEATURE_VI_SEARCH", "FEATURE_VI_YANKMARK", "FEATURE_VI_WIN_RESIZE",
	"FEATURE_VI_UNDO",
	// archives: gzip'd tar both ways
	"FEATURE_SEAMLESS_GZ", "FEATURE_TAR_CREATE", "FEATURE_TAR_AUTODETECT", "FEATURE_TAR_FROM",
	"FEATURE_TAR_LONG_OPTIONS", "FEATURE_TAR_GNU_EXTENSIONS", "FEATURE_TAR_OLDGNU_COMPATIBILITY",
	"FEATURE_GZIP_LONG_OPTIONS", "FEATURE_GZIP_DECOMPRESS",
	// processes
	"FEATURE_TOP_CPU_USAGE_PERCENTAGE",
	"FEATURE_TOP_CPU_GLOBAL_PERCENTS", "FEATURE_TOP_INTERACTIVE", "FEATURE_SHOW_THREADS",
	"FEATURE_PIDOF_SINGLE", "FEATURE_DU_DEFAULT_BLOCKSIZE_1K",
	// network diagnostics: ip (not its tunnels), DNS queries to a chosen
	// server, netcat 1.10's options, who listens where
	"FEATURE_IP_ADDRESS", "FEATURE_IP_LINK", "FEATURE_IP_ROUTE",
	"FEATURE_IP_RULE", "FEATURE_IP_NEIGH",
	"FEATURE_FANCY_PING", "FEATURE_TRACEROUTE_VERBOSE", "FEATURE_NSLOOKUP_BIG",
	"FEATURE_NSLOOKUP_LONG_OPTIONS", "NC_SERVER", "NC_EXTRA", "NC_110_COMPAT",
	"FEATURE_WGET_LONG_OPTIONS", "FEATURE_WGET_TIMEOUT",
	"FEATURE_NETSTAT_WIDE", "FEATURE_NETSTAT_PRG",
	// libbb
	"LONG_OPTS",
	"FEATURE_PREFER_IPV4_ADDRESS", "FEATURE_USE_SENDFILE",
	"FEATURE_NON_POSIX_CP", "FEATURE_VERBOSE_CP_MESSAGE",
	"MONOTONIC_SYSCALL", "IOCTL_HEX2STR_ERROR", "FEATURE_SKIP_ROOTFS",
}

// LeftOutFeatures are features upstream's defaults have that the list
// leaves out on purpose, the biggest first: docs/BUSYBOX.md gives each
// one's cost and reason, tests/busybox_test.go checks the behaviours are
// absent, and tests/perf/busybox-costs.sh measures what each would add.
var LeftOutFeatures = []string{
	"FEATURE_AWK_LIBM", "FEATURE_WGET_HTTPS", "FEATURE_VERBOSE_USAGE",
	"FEATURE_SEAMLESS_XZ", "FEATURE_SEAMLESS_BZ2", "ASH_JOB_CONTROL",
	"FEATURE_IP_TUNNEL", "FEATURE_WGET_STATUSBAR", "FEATURE_LS_COLOR",
}

// CheckFeatures fails unless every symbol the recipe names (Policy, and
// for AllnoconfigPlus AllnoFeatures and LeftOutFeatures) is a bool the
// source defines, naming each one that is not: an upgrade that renames,
// removes or retypes one must fail the build, not silently lose a
// behaviour or a rule.
func CheckFeatures(ix *Index, s Strategy) error {
	policy := make([]string, len(Policy))
	for i, p := range Policy {
		policy[i] = p.Symbol
	}
	type list struct {
		name string
		syms []string
	}
	lists := []list{{"Policy", policy}}
	if s == AllnoconfigPlus {
		lists = append(lists, list{"AllnoFeatures", AllnoFeatures}, list{"LeftOutFeatures", LeftOutFeatures})
	}
	var msgs []string
	for _, l := range lists {
		if err := checkBools(ix, l.syms); err != nil {
			msgs = append(msgs, fmt.Sprintf("internal/busybox %s: %v", l.name, err))
		}
	}
	if len(msgs) > 0 {
		return fmt.Errorf("busybox: %s", strings.Join(msgs, "; "))
	}
	return nil
}

// checkBools names every symbol of syms that is not a bool the source
// defines.
func checkBools(ix *Index, syms []string) error {
	var missing, retyped []string
	for _, sym := range syms {
		switch t := ix.Type(sym); {
		case !ix.Defines(sym):
			missing = append(missing, "CONFIG_"+sym)
		case t != "bool":
			retyped = append(retyped, fmt.Sprintf("CONFIG_%s (%s)", sym, orNone(t)))
		}
	}
	msgs := problem(nil, "not defined by this BusyBox source (renamed or removed upstream?)", missing)
	msgs = problem(msgs, "not a bool any more", retyped)
	if len(msgs) > 0 {
		return fmt.Errorf("%s", strings.Join(msgs, "; "))
	}
	return nil
}

// problem adds "what: item, item" to msgs when there are items.
func problem(msgs []string, what string, items []string) []string {
	if len(items) == 0 {
		return msgs
	}
	return append(msgs, what+": "+strings.Join(items, ", "))
}

func orNone(t string) string {
	if t == "" {
		return "no type"
	}
	return t
}

// FragmentPath is where the config fragment is written, relative to the
// source tree: BusyBox's `make <name>_defconfig` reads configs/<name>_defconfig.
const FragmentPath = "configs/mikrotik_defconfig"

// BaseConfigArgs turns the fragment into a complete .config: every symbol
// the fragment sets keeps its value, every other one gets upstream's
// default. (BusyBox's allnoconfig ignores KCONFIG_ALLCONFIG/allno.config:
// its conf resets every bool to "n", so AllnoconfigPlus is expressed as a
// defconfig whose fragment switches off every symbol it does not want.)
func BaseConfigArgs() []string { return []string{"make", "mikrotik_defconfig"} }

// OldconfigArgs re-resolves the .config. Run it with empty stdin: the
// .config is complete, so a question means the recipe is wrong and `conf`
// exits non-zero at end of input instead of guessing (no `yes ” |`, which
// dies of SIGPIPE under pipefail).
func OldconfigArgs() []string { return []string{"make", "oldconfig"} }

// Fragment is the config fragment for the strategy. DefconfigMinus: the
// listed applets on, every other applet the source knows off, Policy;
// everything else stays upstream's default. AllnoconfigPlus: the listed
// applets, AllnoFeatures and Policy on, every other symbol the source
// defines off (what allnoconfig does).
func Fragment(s Strategy, ix *Index, sel Selection) (string, error) {
	policy := policySymbols()
	want := map[string]string{} // symbol → "y" or "" (off)
	for _, sym := range sel.Symbols() {
		want[sym] = "y"
	}
	switch s {
	case DefconfigMinus:
		for _, sym := range ix.Symbols() {
			if _, ok := want[sym]; !ok && !policy[sym] {
				want[sym] = ""
			}
		}
	case AllnoconfigPlus:
		for _, sym := range AllnoFeatures {
			want[sym] = "y"
		}
		for _, sym := range ix.AllSymbols() {
			if _, ok := want[sym]; !ok && !policy[sym] {
				want[sym] = ""
			}
		}
	default:
		return "", fmt.Errorf("unknown config strategy %q (choose %s or %s)", s, DefconfigMinus, AllnoconfigPlus)
	}
	for _, p := range Policy {
		if v, ok := want[p.Symbol]; ok && v != p.Value {
			return "", fmt.Errorf("CONFIG_%s: the applet list or feature list conflicts with the policy (%s)", p.Symbol, p.Why)
		}
		want[p.Symbol] = p.Value
	}
	syms := make([]string, 0, len(want))
	for sym := range want {
		syms = append(syms, sym)
	}
	sort.Strings(syms)
	var b strings.Builder
	fmt.Fprintf(&b, "# %s fragment generated from %s (internal/busybox)\n", s, ListFile)
	for _, sym := range syms {
		b.WriteString(line(sym, want[sym]))
	}
	return b.String(), nil
}

// policySymbols are the symbols Policy decides. One is an applet symbol
// too: BUSYBOX also guards the `busybox` applet name (standalone shells
// only), so the unlisted-applet rules must not touch it.
func policySymbols() map[string]bool {
	out := map[string]bool{}
	for _, p := range Policy {
		out[p.Symbol] = true
	}
	return out
}

func line(sym, value string) string {
	if value == "" {
		return fmt.Sprintf("# CONFIG_%s is not set\n", sym)
	}
	return fmt.Sprintf("CONFIG_%s=%s\n", sym, value)
}

// ParseConfig reads a .config into symbol → value ("y", a quoted string,
// a number, or "" for "is not set"); the CONFIG_ prefix is dropped.
func ParseConfig(text string) map[string]string {
	out := map[string]string{}
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if rest, ok := strings.CutPrefix(l, "# CONFIG_"); ok {
			if sym, ok := strings.CutSuffix(rest, " is not set"); ok {
				out[sym] = ""
			}
			continue
		}
		if rest, ok := strings.CutPrefix(l, "CONFIG_"); ok {
			if sym, v, ok := strings.Cut(rest, "="); ok {
				out[sym] = v
			}
		}
	}
	return out
}

// CheckConfig verifies the final .config (after OldconfigArgs): every
// listed applet is =y, no other applet is, Policy holds and, for
// AllnoconfigPlus, every listed feature is =y. Kconfig silently drops a
// symbol whose dependencies are unmet (or that does not exist), so without
// this a listed applet could vanish from the image unnoticed.
func CheckConfig(final string, s Strategy, ix *Index, sel Selection) error {
	cfg := ParseConfig(final)
	var dropped, extra, policy, features []string
	on := map[string]bool{}
	for _, name := range sel.Applets {
		sym := sel.Symbol[name]
		on[sym] = true
		if cfg[sym] != "y" {
			dropped = append(dropped, fmt.Sprintf("%s (CONFIG_%s)", name, sym))
		}
	}
	policySyms := policySymbols()
	for _, sym := range ix.Symbols() {
		if !on[sym] && !policySyms[sym] && cfg[sym] == "y" {
			extra = append(extra, "CONFIG_"+sym)
		}
	}
	for _, p := range Policy {
		v := cfg[p.Symbol]
		if v != p.Value {
			want := "=" + p.Value
			if p.Value == "" {
				want = " off"
			}
			policy = append(policy, fmt.Sprintf("CONFIG_%s must be%s (%s), is %q", p.Symbol, want, p.Why, v))
		}
	}
	if s == AllnoconfigPlus {
		for _, sym := range AllnoFeatures {
			if cfg[sym] != "y" {
				features = append(features, "CONFIG_"+sym)
			}
		}
	}
	sort.Strings(extra)
	msgs := problem(nil, "listed applets dropped by kconfig (unmet dependencies?)", dropped)
	msgs = problem(msgs, "applets enabled but not listed", extra)
	msgs = problem(msgs, "listed features dropped by kconfig (unknown or unmet dependencies)", features)
	msgs = append(msgs, policy...)
	if len(msgs) > 0 {
		return fmt.Errorf("busybox .config: %s", strings.Join(msgs, "; "))
	}
	return nil
}
