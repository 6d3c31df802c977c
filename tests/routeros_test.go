package tests

// The RouterOS scripts (routeros/*.rsc) cannot run here: no router, no
// RouterOS. These tests check, on their text and on docs/USAGE.md, what
// can be checked mechanically: every container setting the docs or the
// first deployment set is one the updater copies; it copies only settable
// properties; the comment it writes is the one it reads back; the RouterOS
// 7.21 check; certificate checks on every fetch; version-specific commands
// only through :parse; the digest rules, mirrored in Go and fed hostile
// registry answers; the escaping of copied values, mirrored likewise; no
// log line with a setting's value; the order of the swap (the old
// container removed only once the new one passed), modelled over the
// writes the script makes, with a reboot after every one of them; the first
// deployment only where none ever was; first-deploy.rsc safe to run again
// (the last ones in routeros_values_test.go and routeros_swap_test.go).
// Each check is a function returning problems, and TestRouterOSChecksCanFail
// feeds each one a mutated copy of the text that it must reject.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"dagger/mikrotik-tailscale/internal/routeros"
)

const (
	rosUpdater = "routeros/update-tailscale.rsc"
	rosFirst   = "routeros/first-deploy.rsc"
	rosUsage   = "docs/USAGE.md"
)

// rosAddArgs is the union of the `/container add` arguments of RouterOS
// 7.21, 7.21.5, 7.22, 7.23 and 7.24 (tikoci/restraml docs/<ver>/extra/
// inspect.json, /console/inspect dumps of real RouterOS).
var rosAddArgs = strings.Fields(`auto-restart-interval check-certificate cmd comment
	copy-from cpu-list default-dns devices dns domain-name entrypoint env envlists file
	healthcheck-cmd healthcheck-interval healthcheck-retries healthcheck-start-interval
	healthcheck-start-period healthcheck-status healthcheck-timeout hostname hosts
	ignore-remote-image-change interface layer-dir logging memory-high memory-max mount
	mountlists name privileged remote-image restart-interval restart-max-count
	restart-policy root-dir shell shm-size start-on-boot stop-on-unhealthy stop-signal
	stop-time swap-max tmpfs user workdir`)

// rosNotCopied are the add arguments the updater sets itself or must not
// copy: file and copy-from would bypass the registry; healthcheck-status is
// an add argument in /console/inspect, but MikroTik's manual calls it the
// current health status, which a new container must not inherit.
var rosNotCopied = []string{"name", "remote-image", "file", "copy-from", "comment", "healthcheck-status"}

// rosReadOnly are properties RouterOS reports but that no add accepts: the
// flags of RouterOS 7.20+ and the "Read-only Argument" table of MikroTik's
// CLI reference for /container (docs/UPDATES.md, sources).
var rosReadOnly = []string{".id", "arch", "os", "repo", "tag", "status", "running",
	"stopped", "starting", "stopping", "extracting", "passed-devs", "config-json",
	"healthy", "unhealthy", "starting-with-healthcheck", "downloading/extracting",
	"download/extract failed", "deleting", "env-current", "default-entrypoint", "default-cmd",
	"default-shell", "default-stop-signal", "default-workdir", "default-user", "restart-count",
	"memory-current", "swap-current", "cpu-usage", "container-size", "data-size", "image-id",
	"layers", "default-healthcheck-cmd", "default-healthcheck-interval",
	"default-healthcheck-timeout", "default-healthcheck-start-period",
	"default-healthcheck-start-interval", "default-healthcheck-retries"}

func rosRead(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The script-text helpers live in internal/routeros, beside the digest
// mirror that uses them.
var (
	rosNoComments = routeros.NoComments
	rosBlockEnd   = routeros.BlockEnd
	rosBlockAfter = routeros.BlockAfter
	rosFunc       = routeros.Func
	rosUnquote    = routeros.Unquote
)

func rosTexts(t *testing.T) map[string]string {
	return map[string]string{
		rosUpdater: rosRead(t, rosUpdater),
		rosFirst:   rosRead(t, rosFirst),
		rosUsage:   rosRead(t, rosUsage),
	}
}

// rosLogical joins backslash-continued lines. With uncomment, a leading
// "#" is dropped first, so commented-out commands count too.
func rosLogical(text string, uncomment bool) []string {
	var out []string
	cur := ""
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimRight(l, " \t\r")
		if uncomment {
			l = strings.TrimPrefix(strings.TrimLeft(l, " \t"), "#")
		}
		if strings.HasSuffix(l, `\`) {
			cur += strings.TrimSuffix(l, `\`) + " "
			continue
		}
		out = append(out, cur+l)
		cur = ""
	}
	return out
}

// rosCode is text without comment lines and with every string literal
// replaced by "": what RouterOS parses as commands.
func rosCode(text string) string {
	var b strings.Builder
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		in := false
		for i := 0; i < len(l); i++ {
			switch c := l[i]; {
			case in && c == '\\':
				i++
			case c == '"':
				in = !in
				b.WriteByte(c)
			case !in:
				b.WriteByte(c)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

var (
	rosContainerCmd = regexp.MustCompile(`/container[ /](add|set)\s`)
	rosBrackets     = regexp.MustCompile(`\[[^\]]*\]`)
	rosArg          = regexp.MustCompile(`(?:^|\s)([a-z][a-z0-9-]*)=`)
	rosFirstKey     = regexp.MustCompile(`:set \(\$first->"([a-z0-9-]+)"\)`)
	rosHealthKey    = regexp.MustCompile(`:set \(\$s->"([a-z0-9-]+)"\)`)
	rosCopyKeys     = regexp.MustCompile(`(?s):local copyKeys \[:toarray \((.*?)\)\]`)
	rosLiteral      = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`)
)

// rosSetProps are the container properties the first deployment and the
// docs set: arguments of `/container add|set` in first-deploy.rsc (its
// commented alternative included) and USAGE.md, the updater's
// first-deployment settings and the healthcheck it adds (withHealth).
func rosSetProps(texts map[string]string) map[string]string {
	props := map[string]string{}
	for _, rel := range []string{rosFirst, rosUsage} {
		for _, l := range rosLogical(texts[rel], true) {
			loc := rosContainerCmd.FindStringIndex(l)
			if loc == nil {
				continue
			}
			rest := rosBrackets.ReplaceAllString(l[loc[1]:], "")
			for _, m := range rosArg.FindAllStringSubmatch(rest, -1) {
				props[m[1]] = rel
			}
		}
	}
	for _, m := range rosFirstKey.FindAllStringSubmatch(texts[rosUpdater], -1) {
		props[m[1]] = rosUpdater + " (first deployment)"
	}
	for _, m := range rosHealthKey.FindAllStringSubmatch(rosFunc(texts[rosUpdater], "withHealth"), -1) {
		props[m[1]] = rosUpdater + " (withHealth)"
	}
	return props
}

// rosAllowList is the updater's copyKeys.
func rosAllowList(updater string) ([]string, error) {
	m := rosCopyKeys.FindStringSubmatch(updater)
	if m == nil {
		return nil, fmt.Errorf("%s: no `:local copyKeys [:toarray (...)]`", rosUpdater)
	}
	s := ""
	for _, lit := range rosLiteral.FindAllStringSubmatch(m[1], -1) {
		s += lit[1]
	}
	return strings.Split(s, ","), nil
}

// (a) Everything the first deployment or the docs set survives a recreate.
func rosCheckSettingsCopied(texts map[string]string) []string {
	keys, err := rosAllowList(texts[rosUpdater])
	if err != nil {
		return []string{err.Error()}
	}
	props := rosSetProps(texts)
	var probs []string
	if len(props) == 0 {
		probs = append(probs, "found no /container add|set argument at all")
	}
	for p, where := range props {
		if !slices.Contains(keys, p) && !slices.Contains([]string{"name", "remote-image", "file", "comment"}, p) {
			probs = append(probs, fmt.Sprintf("%s sets %s=, which the updater does not copy", where, p))
		}
	}
	sort.Strings(probs)
	return probs
}

// (b) The allow-list is exactly the settable properties.
func rosCheckAllowList(texts map[string]string) []string {
	keys, err := rosAllowList(texts[rosUpdater])
	if err != nil {
		return []string{err.Error()}
	}
	var probs []string
	seen := map[string]bool{}
	for _, k := range keys {
		switch {
		case seen[k]:
			probs = append(probs, "copyKeys lists "+k+" twice")
		case slices.Contains(rosReadOnly, k):
			probs = append(probs, "copyKeys lists the read-only property "+k)
		case slices.Contains(rosNotCopied, k):
			probs = append(probs, "copyKeys lists "+k+", which the updater must not copy")
		case !slices.Contains(rosAddArgs, k):
			probs = append(probs, "copyKeys lists "+k+", no /container add argument of 7.21-7.24")
		}
		seen[k] = true
	}
	for _, a := range rosAddArgs {
		if !seen[a] && !slices.Contains(rosNotCopied, a) {
			probs = append(probs, "copyKeys misses the add argument "+a)
		}
	}
	return probs
}

// rosEval evaluates a RouterOS concatenation `(a . "b" . $c)`.
func rosEval(expr string, vars map[string]string) (string, error) {
	expr = strings.TrimSpace(expr)
	expr = strings.TrimSuffix(strings.TrimPrefix(expr, "("), ")")
	out := ""
	for _, part := range strings.Split(expr, " . ") {
		part = strings.TrimSpace(part)
		switch {
		case strings.HasPrefix(part, "$"):
			v, ok := vars[part[1:]]
			if !ok {
				return "", fmt.Errorf("unknown variable %s in %s", part, expr)
			}
			out += v
		case strings.HasPrefix(part, `"`):
			s, err := strconv.Unquote(part)
			if err != nil {
				return "", fmt.Errorf("literal %s in %s: %v", part, expr, err)
			}
			out += s
		default:
			return "", fmt.Errorf("cannot evaluate %q in %s", part, expr)
		}
	}
	return out, nil
}

// rosSection is the text from the line "# --- name" to the next "# --- ".
func rosSection(text, name string) string {
	at := strings.Index(text, "\n# --- "+name)
	if at < 0 {
		return ""
	}
	rest := text[at+1:]
	if end := strings.Index(rest[1:], "\n# --- "); end >= 0 {
		return rest[:end+1]
	}
	return rest
}

// rosInnermost is the opening line of the innermost `do={`/`else={` block
// of text that contains position p, or "".
func rosInnermost(text string, p int) string {
	best, line := -1, ""
	for i := 0; i < p; i++ {
		if text[i] != '{' || i == 0 || text[i-1] != '=' {
			continue
		}
		if end := rosBlockEnd(text, i); end > p && i > best {
			best = i
			ls := strings.LastIndex(text[:i], "\n") + 1
			line = strings.TrimSpace(text[ls : i+1])
		}
	}
	return line
}

// rosMustUnquote is the literal's value, or NUL and the error: a value no
// check accepts.
func rosMustUnquote(lit string) string {
	s, _, err := rosUnquote(lit)
	if err != nil {
		return "\x00" + err.Error()
	}
	return s
}

var (
	rosCommentWrite = regexp.MustCompile(`comment=(?:" \. \[\$cli )?(""|\([^()]*\))`)
	rosLocalString  = `:local %s "([^"]*)"`
	// The reading code (readComment and the record), piece by piece.
	rosReadPieces = []string{
		`[:pick $c 0 [:len $p]] = $p`,
		`:local rest [:pick $c [:len $p] [:len $c]]`,
		`[:pick $rest 0 [:len $x]] = $x`,
		`:set tail [:pick $rest [:len $x] [:len $rest]]`,
		`:set ($r->"deployed") [:pick $rest 0 $sp]`,
		`:local t [:pick $rest ($sp + 1) [:len $rest]]`,
		`[:pick $t 0 [:len $f]] = $f`,
		`:set tail [:pick $t [:len $f] [:len $t]]`,
		`:if ([:typeof $sq] = "num") do={ :set n [:tonum [:pick $tail 0 $sq]] }`,
		`:set ($r->"digest") [:pick $tail ($sq + 1) [:len $tail]]`,
		`:if ($deployed = $digest)`,
		`:if ($go and (($r->"kind") = "failed") and (($r->"digest") = $digest)) do={`,
		`:set tries (($r->"n") + 1)`,
		`:if (($r->"kind") = "next") do={ :set digest ($r->"digest"); :set tries ($r->"n") }`,
	}
	rosReadSep  = regexp.MustCompile(`:local sp \[:find \$rest "([^"]*)"\]`)
	rosReadSep2 = regexp.MustCompile(`:local sq \[:find \$tail "([^"]*)"\]`)
	rosReadCall = regexp.MustCompile(`\[\$readComment [^\n]*`)
)

// rosComment is what readComment makes of a comment.
type rosComment struct {
	ours           bool
	deployed, kind string
	n              int
	digest         string
}

// rosReadComment is the updater's readComment in Go, with the prefixes and
// separators taken from the script.
func rosReadComment(c, p, f, x, sep, sep2 string) rosComment {
	var r rosComment
	if !strings.HasPrefix(c, p) {
		return r
	}
	r.ours = true
	rest := c[len(p):]
	tail := ""
	if strings.HasPrefix(rest, x) {
		r.kind, tail = "next", rest[len(x):]
	} else if sp := strings.Index(rest, sep); sp >= 0 {
		r.deployed = rest[:sp]
		t := rest[min(sp+1, len(rest)):]
		if strings.HasPrefix(t, f) {
			r.kind, tail = "failed", t[len(f):]
		}
	} else {
		r.deployed = rest
	}
	sq := strings.Index(tail, sep2)
	n, err := -1, fmt.Errorf("no separator")
	if sq >= 0 {
		n, err = strconv.Atoi(tail[:sq])
	}
	if r.kind != "" && err == nil {
		r.n, r.digest = n, tail[sq+1:]
	} else {
		r.kind = ""
	}
	return r
}

// (c) The comment: each constant defined once, every comment written reads
// back as what it means, and every reader passes the same constants.
func rosCheckComment(texts map[string]string) []string {
	u := rosNoComments(texts[rosUpdater])
	code := rosCode(u)
	var probs []string
	vars := map[string]string{
		"digest":   "sha256:" + strings.Repeat("0123456789abcdef", 4),
		"deployed": "sha256:" + strings.Repeat("fedcba9876543210", 4),
		"tries":    "2",
	}
	for _, name := range []string{"cPrefix", "cFailed", "cNext", "cUnknown"} {
		defs := regexp.MustCompile(fmt.Sprintf(rosLocalString, name)).FindAllStringSubmatch(u, -1)
		if len(defs) != 1 {
			probs = append(probs, fmt.Sprintf("%s is defined %d times, want once", name, len(defs)))
			continue
		}
		vars[name] = defs[0][1]
		if n := strings.Count(u, `"`+defs[0][1]); n != 1 {
			probs = append(probs, fmt.Sprintf("the literal %q appears %d times: use $%s", defs[0][1], n, name))
		}
	}
	for _, p := range rosReadPieces {
		if !strings.Contains(code, strings.TrimSpace(rosCode(p))) {
			probs = append(probs, "the reading code lacks "+p)
		}
	}
	sep, sep2 := rosReadSep.FindStringSubmatch(u), rosReadSep2.FindStringSubmatch(u)
	if sep == nil || sep2 == nil {
		probs = append(probs, "readComment lacks `:local sp [:find $rest \"…\"]` or `:local sq [:find $tail \"…\"]`")
	}
	calls := rosReadCall.FindAllString(u, -1)
	if len(calls) == 0 {
		probs = append(probs, "readComment is never called")
	}
	for _, c := range calls {
		if !strings.Contains(c, " p=$cPrefix f=$cFailed x=$cNext]") {
			probs = append(probs, "readComment called with other constants: "+c)
		}
	}
	if len(probs) > 0 {
		return probs
	}
	writes := rosCommentWrite.FindAllStringSubmatch(u, -1)
	if n := strings.Count(u, "comment="); n != len(writes) {
		probs = append(probs, fmt.Sprintf("%d comment= writes, %d of a known form", n, len(writes)))
	}
	kinds := map[string]int{}
	for _, w := range writes {
		s, err := rosEval(w[1], vars)
		if err != nil {
			probs = append(probs, err.Error())
			continue
		}
		got := rosReadComment(s, vars["cPrefix"], vars["cFailed"], vars["cNext"], sep[1], sep2[1])
		want, kind := rosComment{ours: true}, ""
		switch {
		case w[1] == `""`:
			want, kind = rosComment{}, "cleared"
		case strings.Contains(w[1], "$cNext"):
			want.kind, want.n, want.digest, kind = "next", 2, vars["digest"], "next"
		case strings.Contains(w[1], "$cFailed"):
			want.kind, want.n, want.digest, want.deployed, kind = "failed", 2, vars["digest"], vars["cUnknown"], "failed"
			if strings.Contains(w[1], "$deployed") {
				want.deployed = vars["deployed"]
			}
		case strings.Contains(w[1], "$digest"):
			want.deployed, kind = vars["digest"], "passed"
		default:
			want.deployed, kind = vars["cUnknown"], "unknown"
		}
		if got != want {
			probs = append(probs, fmt.Sprintf("comment=%s writes %q, which reads back as %+v, want %+v", w[1], s, got, want))
		}
		kinds[kind]++
	}
	for _, k := range []string{"next", "failed", "passed", "unknown"} {
		if kinds[k] == 0 {
			probs = append(probs, fmt.Sprintf("want a %s comment write, got %v", k, kinds))
		}
	}
	return probs
}

var (
	rosVersionRead  = regexp.MustCompile(`:local ver \[/system/resource get version\]`)
	rosVersionCheck = regexp.MustCompile(`:local minor \[:tonum \[:pick \$ver \(\$dot \+ 1\) \(\$dot \+ (\d)\)\]\]` +
		`(?s:.*?)\(\[:tonum \[:pick \$ver 0 \$dot\]\] \* 100 \+ \$minor\) < (\d+)\) do=\{\s*` +
		`((?::log error [^\n]*\n\s*)?):error \("([^"]*)`)
	rosOrLater = regexp.MustCompile(`(?:RouterOS )?(\d+\.\d+)(?:\.\d+)? or later`)
)

// rosVersionOK is the scripts' version check in Go, with its constants:
// the minor version is [:pick $ver ($dot + 1) ($dot + end)], 0 unless a
// number (RouterOS :tonum gives nil then).
func rosVersionOK(ver string, end, limit int) bool {
	dot := strings.Index(ver, ".")
	major, _ := strconv.Atoi(ver[:dot])
	minor, err := strconv.Atoi(ver[dot+1 : min(dot+end, len(ver))])
	if err != nil {
		minor = 0
	}
	return major*100+minor >= limit
}

// (d) Both scripts stop below RouterOS 7.21, before they change anything,
// and every "or later" in them and in USAGE.md says 7.21.
func rosCheckVersion(texts map[string]string) []string {
	var probs []string
	cases := map[string]bool{"7.20.8 (stable)": false, "7.9.2 (stable)": false, "7.13.5 (long-term)": false,
		"7.2rc1 (testing)": false, "7.21 (stable)": true, "7.21.3 (stable)": true, "7.22beta3 (testing)": true,
		"7.24 (stable)": true, "8.0 (stable)": true}
	for _, rel := range []string{rosUpdater, rosFirst} {
		text := texts[rel]
		m := rosVersionCheck.FindStringSubmatch(text)
		if !rosVersionRead.MatchString(text) || m == nil {
			probs = append(probs, rel+": no RouterOS version check")
			continue
		}
		end, _ := strconv.Atoi(m[1])
		limit, _ := strconv.Atoi(m[2])
		for v, want := range cases {
			if got := rosVersionOK(v, end, limit); got != want {
				probs = append(probs, fmt.Sprintf("%s: version %q passes=%v, want %v", rel, v, got, want))
			}
		}
		if !strings.Contains(m[4], "7.21") {
			probs = append(probs, rel+": the version message does not name 7.21")
		}
		if rel == rosUpdater && !strings.Contains(m[3], "7.21") {
			probs = append(probs, rel+": no `:log error` naming 7.21 before it stops")
		}
		// Before any top-level command (first-deploy: any change at all).
		at := strings.Index(text, m[0])
		for _, l := range rosLogical(rosCode(text[:at]), false) {
			if strings.HasPrefix(l, "/") {
				probs = append(probs, rel+": runs "+l+" before the version check")
			}
		}
	}
	for rel, text := range texts {
		for _, m := range rosOrLater.FindAllStringSubmatch(text, -1) {
			if m[1] != "7.21" {
				probs = append(probs, fmt.Sprintf("%s says %q", rel, m[0]))
			}
		}
	}
	if !strings.Contains(texts[rosUsage], "RouterOS 7.21 or later") {
		probs = append(probs, rosUsage+" does not state RouterOS 7.21 or later")
	}
	return probs
}

// (e) Every fetch checks the server's certificate.
func rosCheckFetch(texts map[string]string) []string {
	var probs []string
	n := 0
	for _, rel := range []string{rosUpdater, rosFirst} {
		code := rosCode(texts[rel])
		for _, l := range rosLogical(code, false) {
			for _, part := range regexp.MustCompile(`/tool[ /]fetch`).Split(l, -1)[1:] {
				n++
				cmd, _, _ := strings.Cut(part, "]")
				if !regexp.MustCompile(`\scheck-certificate=yes(\s|$)`).MatchString(cmd) {
					probs = append(probs, rel+": /tool/fetch without check-certificate=yes:"+cmd)
				}
			}
		}
	}
	if n == 0 {
		probs = append(probs, "found no /tool/fetch at all")
	}
	return probs
}

// (f) Commands newer than RouterOS 7.13 only as text run through :parse,
// so that older routers parse the scripts and reach the version check.
func rosCheckParse(texts map[string]string) []string {
	var probs []string
	newer := regexp.MustCompile(`/container[ /]add|mountlists=|mounts add list=`)
	for _, rel := range []string{rosUpdater, rosFirst} {
		code := rosCode(texts[rel])
		if m := newer.FindString(code); m != "" {
			probs = append(probs, fmt.Sprintf("%s: %q outside a string run through :parse", rel, m))
		}
		// Each string holding one is assigned to a local that goes to :parse.
		for _, l := range rosLogical(texts[rel], false) {
			if strings.HasPrefix(strings.TrimSpace(l), "#") || !newer.MatchString(l) {
				continue
			}
			m := regexp.MustCompile(`^\s*:local (\w+) (\[:parse )?\(`).FindStringSubmatch(l)
			switch {
			case m == nil:
				probs = append(probs, rel+": not a `:local x (...)` to parse: "+strings.TrimSpace(l))
			case m[2] == "" && !strings.Contains(texts[rel], "[:parse $"+m[1]+"]"):
				probs = append(probs, rel+": $"+m[1]+" never goes through [:parse]")
			}
		}
	}
	if !strings.Contains(texts[rosUpdater], `:local add ("/container/add `) {
		probs = append(probs, rosUpdater+": no `:local add (\"/container/add ...\")`")
	}
	return probs
}

var rosChecks = []struct {
	name  string
	check func(map[string]string) []string
}{
	{"SettingsCopied", rosCheckSettingsCopied},
	{"AllowList", rosCheckAllowList},
	{"Comment", rosCheckComment},
	{"Version", rosCheckVersion},
	{"FetchChecksCertificate", rosCheckFetch},
	{"VersionSpecificThroughParse", rosCheckParse},
	{"DigestFromHeaderChecked", rosCheckDigest},
	{"CopiedValuesEscaped", rosCheckCli},
	{"NothingUncheckedToParse", rosCheckParseInputs},
	{"NoValuesInLogs", rosCheckLogs},
	{"SwapOrder", rosCheckSwapOrder},
	{"RebootInvariant", rosCheckReboot},
	{"FirstDeploymentOnce", rosCheckMarker},
	{"FirstDeployRerun", rosCheckRerun},
	{"DeviceMode", rosCheckDeviceMode},
	{"Entrypoint", rosCheckEntrypoint},
	{"RouterWideSettings", rosCheckRouterWide},
	{"FirstRunAfterScheduler", rosCheckFirstRun},
	{"ProbeBounded", rosCheckProbeBounded},
	{"ExtractedProven", rosCheckExtracted},
	{"DarkPathsRetry", rosCheckDarkRetry},
}

func TestRouterOSScripts(t *testing.T) {
	texts := rosTexts(t)
	for _, c := range rosChecks {
		t.Run(c.name, func(t *testing.T) {
			for _, p := range c.check(texts) {
				t.Error(p)
			}
		})
	}
}

// TestRouterOSChecksCanFail: each check rejects a copy of the files with
// one thing broken.
func TestRouterOSChecksCanFail(t *testing.T) {
	mutations := []struct {
		check, file, old, new string
	}{
		// (a) a setting the docs show that the updater would drop
		{"SettingsCopied", rosUsage, "start-on-boot=yes logging=yes", "start-on-boot=yes logging=yes dns-servers=1.1.1.1"},
		{"SettingsCopied", rosFirst, "#     envlists=ts-env", "#     cpu-set=1 envlists=ts-env"},
		{"SettingsCopied", rosUpdater, `:set ($first->"hostname") ""`, `:set ($first->"hostname") ""` + "\n" + `:set ($first->"ports") ""`},
		{"SettingsCopied", rosUpdater, `"root-dir,shell,`, `"shell,`},
		{"SettingsCopied", rosUpdater, `:set ($s->"healthcheck-interval") "5m"`, `:set ($s->"healthcheck-every") "5m"`},
		// (b) read-only, forbidden or unknown keys in the allow-list
		{"AllowList", rosUpdater, `"root-dir,shell,`, `"root-dir,running,shell,`},
		{"AllowList", rosUpdater, `"root-dir,shell,`, `"root-dir,remote-image,shell,`},
		{"AllowList", rosUpdater, `"root-dir,shell,`, `"root-dir,arch,shell,`},
		{"AllowList", rosUpdater, `"root-dir,shell,`, `"root-dir,healthcheck-status,shell,`},
		{"AllowList", rosUpdater, `"root-dir,shell,`, `"root-dir,healthy,shell,`},
		{"AllowList", rosUpdater, `"swap-max,tmpfs,user,workdir"`, `"swap-max,tmpfs,user"`},
		// (c) the comment written differs from the one read, or a prefix is spelt twice
		{"Comment", rosUpdater, `$cFailed . $tries . " " . $digest)]`, `$cFailed . $tries . ":" . $digest)]`},
		{"Comment", rosUpdater, `/container/set $new comment=($cPrefix . $digest)`, `/container/set $new comment=("mikrotik-tailscale " . $digest)`},
		{"Comment", rosUpdater, `/container/set $new comment=($cPrefix . $digest)`, `/container/set $new comment=($cPrefix . $cFailed . $digest)`},
		{"Comment", rosUpdater, `:local sp [:find $rest " "]`, `:local sp [:find $rest "-"]`},
		{"Comment", rosUpdater, `:if ($deployed = $digest)`, `:if ($deployed = $tries)`},
		{"Comment", rosUpdater, `/container/set $ct comment=($cPrefix . $digest)`, `/container/set $ct comment=$digest`},
		{"Comment", rosUpdater, `$cPrefix . $cNext . $tries . " " . $digest`, `$cPrefix . $cNext . $digest`},
		{"Comment", rosUpdater, `[$readComment ([/container/get $new]->"comment") p=$cPrefix f=$cFailed x=$cNext]`, `[$readComment ([/container/get $new]->"comment") p=$cPrefix f=$cNext x=$cFailed]`},
		// (d) version check missing, wrong or late; docs naming another minimum
		{"Version", rosUpdater, "< 721)", "< 720)"},
		{"Version", rosFirst, "< 721)", "< 7210)"},
		{"Version", rosUpdater, `:log error ("tailscale-update: needs RouterOS 7.21`, `:log info ("tailscale-update: needs RouterOS`},
		{"Version", rosFirst, "# 0. RouterOS 7.21", "/ip/address print\n# 0. RouterOS 7.21"},
		{"Version", rosUsage, "RouterOS 7.21 or later", "RouterOS 7.13 or later"},
		// (e) a fetch without certificate check
		{"FetchChecksCertificate", rosUpdater, "check-certificate=yes output=user as-value", "output=user as-value"},
		{"FetchChecksCertificate", rosUpdater, "check-certificate=yes output=user-with-headers", "check-certificate=no output=user-with-headers"},
		// (f) the add or a 7.21 mount command written as a plain command
		{"VersionSpecificThroughParse", rosUpdater, `:local f [:parse $add]; $f;`, `/container/add name=tailscale mountlists=ts-state;`},
		{"VersionSpecificThroughParse", rosUpdater, `[:parse $add]`, `[:toarray $add]`},
		{"VersionSpecificThroughParse", rosFirst, "/disk add type=tmpfs", "/container/mounts add list=x src=/x dst=/x\n/disk add type=tmpfs"},
		// (g) the digest from the whole answer, or checked less strictly
		{"DigestFromHeaderChecked", rosUpdater, `[$parseDigest ($m->"http-headers")]`, `[$parseDigest [:tostr $m]]`},
		{"DigestFromHeaderChecked", rosUpdater, `[$parseDigest ($m->"http-headers")]`, `[$parseDigest ($m->"data")]`},
		{"DigestFromHeaderChecked", rosUpdater, `:if ($name = "docker-content-digest") do={`, `:if ($name = "docker-content") do={`},
		{"DigestFromHeaderChecked", rosUpdater, `[:find "0123456789abcdef" [:pick $value $i]]`, `[:find "0123456789abcdefABCDEF" [:pick $value $i]]`},
		{"DigestFromHeaderChecked", rosUpdater, `:for i from=7 to=70 do={`, `:for i from=8 to=70 do={`},
		{"DigestFromHeaderChecked", rosUpdater, `($found = 1)`, `($found = 2)`},
		{"DigestFromHeaderChecked", rosUpdater, `([:len $value] = 71)`, `([:len $value] = 72)`},
		{"DigestFromHeaderChecked", rosUpdater, `:if (($c = "\n") or ($c = ";"))`, `:if (($c = "\n") or ($c = "\r"))`},
		{"DigestFromHeaderChecked", rosUpdater, `:if ($ok) do={ :return $value }`, `:if ($found > 0) do={ :return $value }`},
		// (h) a copied value that could end the string
		{"CopiedValuesEscaped", rosUpdater, `[:find "\\\"\$\?" $c]`, `[:find "\\\"\?" $c]`},
		{"CopiedValuesEscaped", rosUpdater, `[:find "\\\"\$\?" $c]`, `[:find "\"\$\?" $c]`},
		{"CopiedValuesEscaped", rosUpdater, `:if ($c = "\n") do={ :set c "\\n" }`, ``},
		{"CopiedValuesEscaped", rosUpdater, `:if ([:typeof $k] = "str") do={ :set s ($s . "," . $k . "=" . [:tostr $v]) } else={`, `:if (false) do={ :set s ($s . "," . $k . "=" . [:tostr $v]) } else={`},
		{"CopiedValuesEscaped", rosUpdater, `:if ($c = "\r") do={ :set c "\\r" }`, `:if ($c = "\r") do={ :set c "\\_" }`},
		// (i) something unchecked on its way to :parse
		{"NothingUncheckedToParse", rosUpdater, `[$cli ($repo . ":" . $tag)] . " comment=" . [$cli ($cPrefix . $cNext`, `($repo . ":" . $tag) . " comment=" . [$cli ($cPrefix . $cNext`},
		{"NothingUncheckedToParse", rosUpdater, `:set t ($t . " " . $k . "=" . [$cli $v])`, `:set t ($t . " " . $k . "=" . [:tostr $v])`},
		{"NothingUncheckedToParse", rosUpdater, `:local f [:parse $add]`, `:local f [:parse ($add . $why)]`},
		{"NothingUncheckedToParse", rosUpdater, `[$cli ($cPrefix . $cNext . $tries`, `[$cli ($cPrefix . $cNext . $settings`},
		{"NothingUncheckedToParse", rosUpdater, `:set digest [$queryDigest registry=$registry repo=$repo tag=$tag parseDigest=$parseDigest]`, `:set digest [/tool/fetch url=$registry as-value]`},
		// (j) a log line with a setting's value or the add command
		{"NoValuesInLogs", rosUpdater, `$warn "RouterOS did not accept the container (see /log); nothing else changed"`, `$warn ("could not add the container: " . $add)`},
		{"NoValuesInLogs", rosUpdater, `$log ("new image " . $digest . " (try "`, `$log ("new image " . [:tostr $settings] . " (try "`},
		{"NoValuesInLogs", rosUpdater, `$log ("running " . $digest)`, `$log ("running " . ($settings->"env"))`},
		// (k) the swap's order of writes broken
		{"RebootInvariant", rosUpdater, `" start-on-boot=no remote-image="`, `" start-on-boot=yes remote-image="`},
		{"RebootInvariant", rosUpdater, `" start-on-boot=yes remote-image="`, `" start-on-boot=no remote-image="`},
		{"RebootInvariant", rosUpdater, ":if ([:typeof $old] = \"id\") do={ /container/set $old start-on-boot=no }\n  /container/set $new start-on-boot=yes",
			"/container/set $new start-on-boot=yes\n  :if ([:typeof $old] = \"id\") do={ /container/set $old start-on-boot=no }"},
		{"RebootInvariant", rosUpdater, `:if ([:typeof $old] = "id") do={ /container/set $old start-on-boot=yes }`, `:if ([:typeof $old] = "id") do={ :delay 1s }`},
		{"RebootInvariant", rosUpdater, `and !([$ctState $new]->"sob")) do={`, `and ([$ctState $new]->"sob")) do={`},
		{"RebootInvariant", rosUpdater, ":do { /container/stop $new } on-error={}\n    :set clear [$waitStopped $new 60 st=$ctState]\n    # Not stopped by the stop signal: SIGKILL (the dumps' value form; the\n    # default signal if refused), 30 s more.\n    :if (!$clear) do={\n      :do { /container/kill $new signal=9-SIGKILL } on-error={ :do { /container/kill $new } on-error={} }",
			":set clear true\n    :if (false) do={"},
		{"RebootInvariant", rosUpdater, `:if ([$startCt $ct st=$ctState]) do={ $log ($ctName . " runs again") }`, `:if (true) do={ $log ($ctName . " runs again") }`},
		{"RebootInvariant", rosUpdater, "      :do { /container/stop $old } on-error={}\n      :if (![$waitStopped $old 60", "      :if (![$waitStopped $old 60"},
		{"RebootInvariant", rosUpdater, `:do { /container/set $new name=$ctName }`, `:do { /container/set $new comment=$ctName }`},
		{"RebootInvariant", rosUpdater, `  /file/add name=$marker contents=$markerText` + "\n}", `  /file/add name=$marker contents=$markerText` + "\n  /container/remove $old\n}"},
		// (l) the old container removed before the new one passed
		{"SwapOrder", rosUpdater, `![$removeCt $new st=$ctState]`, `![$removeCt $old st=$ctState]`},
		{"SwapOrder", rosUpdater, ":set action \"undo\"\n  :set why \"RouterOS did not accept the new", ":set action \"finish\"\n  :set why \"RouterOS did not accept the new"},
		{"SwapOrder", rosUpdater, "          $warn \"healthy, but :stable could not be confirmed; digest not recorded\"\n        }\n        :set action \"finish\"",
			"          $warn \"healthy, but :stable could not be confirmed; digest not recorded\"\n        }\n      }\n      :if (true) do={\n        :set action \"finish\""},
		{"SwapOrder", rosUpdater, `:if (!([$ctState $old]->"live") and ![$startCt $old st=$ctState]) do={`, `:if (!([$ctState $old]->"live")) do={ /container/start $old }` + "\n      :if (false) do={"},
		{"SwapOrder", rosUpdater, `} on-error={ :set action "undo"; :set why "the update stopped on an error" }`, `} on-error={}`},
		// (m) the first-deployment settings used where a container existed
		{"FirstDeploymentOnce", rosUpdater, "deploy a new one\")\n  :set go false", "deploy a new one\")"},
		{"FirstDeploymentOnce", rosUpdater, ":if ($go and ([:typeof $old] != \"id\")) do={\n  :set go false\n  $log", ":if ([:typeof $old] != \"id\") do={\n  :set go false\n  $log"},
		{"FirstDeploymentOnce", rosUpdater, "  :if ([$runAdd add=$add]) do={\n    /file/add name=$marker contents=$markerText", "  :if ([$runAdd add=$add]) do={"},
		{"FirstDeploymentOnce", rosUpdater, `:local settings [/container/get $old]`, `:local settings $first`},
		// (n) first-deploy.rsc adding what exists
		{"FirstDeployRerun", rosFirst, `:if ([:len [/interface/veth find where name=veth-ts]] = 0) do={`, `:if (true) do={`},
		{"FirstDeployRerun", rosFirst, `:if ([:len [/container/mounts find where list=ts-run]] = 0) do={`, `:if (true) do={`},
		{"FirstDeployRerun", rosFirst, "/system/scheduler remove [find where name=update-tailscale]\n", ""},
		{"FirstDeployRerun", rosFirst, "} else={ $kept \"route to 100.64.0.0/10\" }", "}"},
		// (o) device mode: a feature unread, a wrong command, a late check
		{"DeviceMode", rosFirst, `:if (![$on [/system/device-mode get fetch]]) do={ :set dmOff ($dmOff . " fetch=yes") }` + "\n", ""},
		{"DeviceMode", rosUpdater, `:set dmOff ($dmOff . " scheduler=yes")`, `:set dmOff ($dmOff . " fetch=yes")`},
		{"DeviceMode", rosFirst, `/system/device-mode/update" . \`, `/system/device-mode/set" . \`},
		{"DeviceMode", rosUpdater, ":local go ([:len $dmOff] = 0)", ":local go true"},
		{"DeviceMode", rosFirst, "    $dmOff . \"  then, within 5 minutes", "    $dmOff . \"  then, within 5 minutes\")\n  :put (\""},
		{"DeviceMode", rosFirst, "# 0b. Device mode", "/ip/address add address=10.0.0.1/24 interface=ether1\n# 0b. Device mode"},
		{"DeviceMode", rosUsage, "/system/device-mode/update container=yes fetch=yes scheduler=yes", "/system/device-mode/update container=yes"},
		{"DeviceMode", rosFirst, `(($1 = true) or ($1 = "yes") or ($1 = "true"))`, `($1 = "yes")`},
		// (p) a container without the entrypoint
		{"Entrypoint", rosUsage, "remote-image=<owner>/mikrotik-tailscale:stable entrypoint=/usr/local/bin/start", "remote-image=<owner>/mikrotik-tailscale:stable"},
		{"Entrypoint", rosFirst, "#     entrypoint=/usr/local/bin/start ", "#     "},
		{"Entrypoint", rosUpdater, `:set ($first->"entrypoint") "/usr/local/bin/start"`, `:set ($first->"entrypoint") ""`},
		{"Entrypoint", rosUpdater, `:if ([:len [:tostr ($settings->"entrypoint")]] = 0) do={ :set ($settings->"entrypoint") $entry }`, ``},
		{"Entrypoint", rosUpdater, `"default-dns,devices,dns,domain-name,entrypoint,env,`, `"default-dns,devices,dns,domain-name,env,`},
		// (q) router-wide settings overwritten
		{"RouterWideSettings", rosFirst, `:local setUrl (([:len $curUrl] = 0) or ($others = 0))`, `:local setUrl true`},
		{"RouterWideSettings", rosFirst, `:if ([:len $curTmp] = 0) do={ /container/config set tmpdir=$tmpDir }`, `:if (true) do={ /container/config set tmpdir=$tmpDir }`},
		{"RouterWideSettings", rosFirst, `:if (($n != "tailscale") and ($n != "tailscale-next")) do={ :set others ($others + 1) }`, `:set others 0`},
		{"RouterWideSettings", rosFirst, `:local curTmp [/container/config get tmpdir]`, `/container/config set registry-url=$registryUrl` + "\n" + `:local curTmp [/container/config get tmpdir]`},
		// (r) the first run before the scheduler, in the foreground, unbounded; a re-run during a job
		{"FirstRunAfterScheduler", rosFirst, `:execute script="/system/script run update-tailscale"`, `/system/script run update-tailscale`},
		{"FirstRunAfterScheduler", rosFirst, "/system/scheduler add name=update-tailscale interval=6h start-time=startup \\\n    on-event=\"/system/script run update-tailscale\" policy=read,write,policy,test\n:execute script=\"/system/script run update-tailscale\"",
			":execute script=\"/system/script run update-tailscale\"\n/system/scheduler add name=update-tailscale interval=6h start-time=startup \\\n    on-event=\"/system/script run update-tailscale\" policy=read,write,policy,test"},
		{"FirstRunAfterScheduler", rosFirst, `and ($waited < 1200)) do={`, `and ($waited < 12000)) do={`},
		{"FirstRunAfterScheduler", rosFirst, "  :set waited ($waited + 10)\n", ""},
		{"FirstRunAfterScheduler", rosFirst, `:if ([:len [/system/script/job find where script=update-tailscale]] > 0) do={` + "\n  :error ", `:if (false) do={` + "\n  :error "},
		// (s) a shell without timeout, an answer polled too briefly, a health wait that forgets the probe's time
		{"ProbeBounded", rosUpdater, `/container/shell $1 timeout=20 cmd=`, `/container/shell $1 cmd=`},
		{"ProbeBounded", rosUpdater, `/container/shell $1 timeout=20 cmd=`, `/container/shell $1 timeout=300 cmd=`},
		{"ProbeBounded", rosUpdater, `[:find $text "tshealth-rc="]] != "num") and ($n < 40)) do={`, `[:find $text "tshealth-rc="]] != "num") and ($n < 10)) do={`},
		{"ProbeBounded", rosUpdater, `[:pick $why 0 10] = "no answer ")) do={ :set n ($n + 4) }`, `[:pick $why 0 10] = "no answer ")) do={ :set n ($n + 0) }`},
		// (t) extracted guessed from "stopped"
		{"ExtractedProven", rosUpdater, `($seen or ($s->"image")) and`, `(true) and`},
		{"ExtractedProven", rosUpdater, `:if ($s->"extracting") do={ :set seen true }`, `:set seen true`},
		{"ExtractedProven", rosUpdater, `(([:len [:tostr ($a->"image-id")]] > 0) or ([:len [:tostr ($a->"layers")]] > 0))`, `true`},
		// (u) a dark path that waits for the 6-h run, a candidate never killed
		{"DarkPathsRetry", rosUpdater, "        $warn (\"could not start \" . $ctName . \" again: see /container/print\")\n        :set dark true", "        $warn (\"could not start \" . $ctName . \" again: see /container/print\")"},
		{"DarkPathsRetry", rosUpdater, `/system/scheduler add name=$retryName interval=5m`, `/system/scheduler add name=$retryName interval=6h`},
		{"DarkPathsRetry", rosUpdater, `:do { /container/kill $new signal=9-SIGKILL }`, `:do { :delay 1s }`},
		{"DarkPathsRetry", rosUpdater, `:if ($retry and ($action = "")) do={`, `:if ($action = "") do={`},
		{"DarkPathsRetry", rosUpdater, `:if ($go and ([:len [/system/scheduler find where name=$retryName]] > 0)) do={ :set retry true }`, ``},
		{"DarkPathsRetry", rosUpdater, `:local retryMax 12`, `:local retryMax 1000`},
		{"DarkPathsRetry", rosUpdater, `:if (!([$ctState $new]->"live") and !([$ctState $old]->"live") and ![$startCt $new st=$ctState]) do={`, `:if (!([$ctState $new]->"live") and ![$startCt $new st=$ctState]) do={`},
		{"DarkPathsRetry", rosUpdater, `:do { /container/kill $old signal=9-SIGKILL }`, `:do { :delay 1s }`},
		{"DarkPathsRetry", rosUpdater, "  :if ($retry and ([:len $rs] > 0)) do={ /system/scheduler remove $rs }\n", ""},
		{"DarkPathsRetry", rosUpdater, "    $warn \"RouterOS did not accept the container (see /log); nothing else changed\"\n    :set dark true", "    $warn \"RouterOS did not accept the container (see /log); nothing else changed\""},
	}
	orig := rosTexts(t)
	for _, m := range mutations {
		t.Run(m.check+"/"+m.new, func(t *testing.T) {
			if !strings.Contains(orig[m.file], m.old) {
				t.Fatalf("%s no longer contains %q: update this mutation", m.file, m.old)
			}
			texts := map[string]string{}
			for k, v := range orig {
				texts[k] = v
			}
			texts[m.file] = strings.Replace(orig[m.file], m.old, m.new, 1)
			for _, c := range rosChecks {
				if c.name == m.check {
					if probs := c.check(texts); len(probs) == 0 {
						t.Errorf("%s accepts %s with %q replaced by %q", c.name, m.file, m.old, m.new)
					} else {
						t.Logf("rejected: %s", probs[0])
					}
					return
				}
			}
			t.Fatalf("no check %s", m.check)
		})
	}
	// Every check has at least one mutation it must reject.
	for _, c := range rosChecks {
		if !slices.ContainsFunc(mutations, func(m struct{ check, file, old, new string }) bool { return m.check == c.name }) {
			t.Errorf("no mutation for the check %s", c.name)
		}
	}
}
