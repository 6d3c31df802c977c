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
// deployment only where none ever was; first-deploy.rsc safe to run again.
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

// rosNoComments is text without its comment lines.
func rosNoComments(text string) string {
	var b strings.Builder
	for _, l := range strings.Split(text, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
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

// rosBlockEnd is the index just past the "}" that closes the "{" at open,
// or -1: string literals and comment lines are skipped.
func rosBlockEnd(text string, open int) int {
	depth, in, lineStart := 0, false, false
	for i := open; i < len(text); i++ {
		c := text[i]
		switch {
		case in && c == '\\':
			i++
			continue
		case c == '"':
			in = !in
		case !in && lineStart && c == '#':
			for i < len(text) && text[i] != '\n' {
				i++
			}
		case !in && c == '{':
			depth++
		case !in && c == '}':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
		if i < len(text) && text[i] == '\n' {
			lineStart = true
		} else if c != ' ' && c != '\t' {
			lineStart = false
		}
	}
	return -1
}

// rosBlockAfter is the body of the first block whose opening line is head
// (ending in "{"), or "".
func rosBlockAfter(text, head string) string {
	at := strings.Index(text, head)
	if at < 0 {
		return ""
	}
	open := at + len(head) - 1
	end := rosBlockEnd(text, open)
	if end < 0 {
		return ""
	}
	return text[open+1 : end-1]
}

// rosFunc is the body of the script function `:local name do={...}`.
func rosFunc(text, name string) string {
	return rosBlockAfter(text, ":local "+name+" do={")
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

// rosUnquote decodes a RouterOS string literal ("..." with its escapes).
// Raw CR or LF, an unescaped $ (RouterOS substitutes variables in strings)
// or ? and an unknown escape are errors: text that is not one safe literal.
func rosUnquote(lit string) (string, int, error) {
	if !strings.HasPrefix(lit, `"`) {
		return "", 0, fmt.Errorf("%q does not start with a quote", lit)
	}
	var b strings.Builder
	for i := 1; i < len(lit); i++ {
		switch c := lit[i]; c {
		case '"':
			return b.String(), i + 1, nil
		case '\r', '\n':
			return "", 0, fmt.Errorf("raw CR or LF in %q", lit)
		case '$', '?':
			return "", 0, fmt.Errorf("unescaped %c in %q", c, lit)
		case '\\':
			if i+1 >= len(lit) {
				return "", 0, fmt.Errorf("%q ends in a backslash", lit)
			}
			i++
			switch e := lit[i]; e {
			case '\\', '"', '$', '?':
				b.WriteByte(e)
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case '_':
				b.WriteByte(' ')
			default:
				return "", 0, fmt.Errorf("unknown escape \\%c in %q", e, lit)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("%q is not closed", lit)
}

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

// rosDigestRules are parseDigest's rules, taken from the script's text.
type rosDigestRules struct {
	name, up, lo, trim, trimEnd, prefix, hex string
	seps                                     []string
	cr, keyed                                bool
	count, length, plen, from, to            int
}

var (
	rosDigName  = regexp.MustCompile(`:if \(\$name = "([^"]*)"\) do=\{`)
	rosDigCase  = regexp.MustCompile(`:local up "([^"]*)"\s*:local lo "([^"]*)"`)
	rosDigLower = regexp.MustCompile(`:for i from=0 to=\(\$colon - 1\) do=\{\s*:local c \[:pick \$line \$i\]\s*:local k \[:find \$up \$c\]\s*:if \(\[:typeof \$k\] = "num"\) do=\{ :set c \[:pick \$lo \$k\] \}`)
	rosDigColon = regexp.MustCompile(`:local colon \[:find \$line ":"\]`)
	rosDigSeps  = regexp.MustCompile(`:if \(\(\$c = ("(?:[^"\\]|\\.)*")\) or \(\$c = ("(?:[^"\\]|\\.)*")\)\) do=\{ :set \(\$lines->\[:len \$lines\]\) \$cur; :set cur "" \}`)
	rosDigCR    = regexp.MustCompile(`:if \(\[:pick \$line \(\[:len \$line\] - 1\)\] = "\\r"\) do=\{ :set line \[:pick \$line 0 \(\[:len \$line\] - 1\)\] \}`)
	rosDigKeyed = regexp.MustCompile(`:if \(\[:typeof \$k\] = "str"\) do=\{ :set \(\$lines->\[:len \$lines\]\) \(\$k \. ": " \. \[:tostr \$v\]\) \}`)
	rosDigTrim  = regexp.MustCompile(`:while \(\(\[:len \$v\] > 0\) and \(\[:typeof \[:find ("(?:[^"\\]|\\.)*") \[:pick \$v 0\]\]\] = "num"\)\) do=\{ :set v \[:pick \$v 1 \[:len \$v\]\] \}`)
	rosDigTrimE = regexp.MustCompile(`:while \(\(\[:len \$v\] > 0\) and \(\[:typeof \[:find ("(?:[^"\\]|\\.)*") \[:pick \$v \(\[:len \$v\] - 1\)\]\]\] = "num"\)\) do=\{ :set v \[:pick \$v 0 \(\[:len \$v\] - 1\)\] \}`)
	rosDigCount = regexp.MustCompile(`:set found \(\$found \+ 1\)`)
	rosDigOK    = regexp.MustCompile(`:local ok \(\(\$found = (\d+)\) and \(\[:len \$value\] = (\d+)\) and \(\[:pick \$value 0 (\d+)\] = "([^"]*)"\)\)`)
	rosDigHex   = regexp.MustCompile(`:for i from=(\d+) to=(\d+) do=\{\s*:if \(\[:typeof \[:find "([^"]*)" \[:pick \$value \$i\]\]\] != "num"\) do=\{ :set ok false \}`)
	rosDigRet   = regexp.MustCompile(`:if \(\$ok\) do=\{ :return \$value \}\s*:return ""\s*$`)
	rosDigCall  = regexp.MustCompile(`:set digest \[\$parseDigest \(\$m->"http-headers"\)\]`)
	rosDigM     = regexp.MustCompile(`\$m\b[^\n]{0,20}`)
)

// rosDigestRulesOf reads parseDigest's rules from the updater; each piece
// missing is a problem (the Go mirror would no longer be the script).
func rosDigestRulesOf(updater string) (rosDigestRules, []string) {
	var r rosDigestRules
	var probs []string
	body := rosFunc(rosNoComments(updater), "parseDigest")
	if body == "" {
		return r, []string{"no `:local parseDigest do={...}`"}
	}
	need := func(re *regexp.Regexp, what string) []string {
		m := re.FindStringSubmatch(body)
		if m == nil {
			probs = append(probs, "parseDigest lacks "+what)
		}
		return m
	}
	if m := need(rosDigName, "the header name test"); m != nil {
		r.name = m[1]
	}
	if m := need(rosDigCase, "the case tables"); m != nil {
		r.up, r.lo = m[1], m[2]
	}
	need(rosDigLower, "the lower-casing of the name before the first colon")
	need(rosDigColon, "the first colon")
	if m := need(rosDigSeps, "the line ends of a string"); m != nil {
		r.seps = []string{rosMustUnquote(m[1]), rosMustUnquote(m[2])}
	}
	r.cr = rosDigCR.MatchString(body)
	r.keyed = rosDigKeyed.MatchString(body)
	if m := need(rosDigTrim, "the trim at the value's start"); m != nil {
		r.trim = rosMustUnquote(m[1])
	}
	if m := need(rosDigTrimE, "the trim at the value's end"); m != nil {
		r.trimEnd = rosMustUnquote(m[1])
	}
	need(rosDigCount, "the count of the header")
	if m := need(rosDigOK, "the count, length and prefix test"); m != nil {
		r.count, _ = strconv.Atoi(m[1])
		r.length, _ = strconv.Atoi(m[2])
		r.plen, _ = strconv.Atoi(m[3])
		r.prefix = m[4]
	}
	if m := need(rosDigHex, "the digit test"); m != nil {
		r.from, _ = strconv.Atoi(m[1])
		r.to, _ = strconv.Atoi(m[2])
		r.hex = m[3]
	}
	need(rosDigRet, "`:if ($ok) do={ :return $value }` then `:return \"\"` at its end")
	return r, probs
}

// parse is parseDigest in Go. headers is what /tool/fetch gives as
// http-headers: one string, a list of lines, or a list keyed by name.
func (r rosDigestRules) parse(headers any) string {
	var lines []string
	switch h := headers.(type) {
	case []string:
		lines = h
	case map[string]string:
		for k, v := range h {
			if r.keyed {
				lines = append(lines, k+": "+v)
			} else {
				lines = append(lines, v)
			}
		}
	case string:
		cur := ""
		for i := 0; i < len(h); i++ {
			if c := h[i : i+1]; slices.Contains(r.seps, c) {
				lines, cur = append(lines, cur), ""
			} else {
				cur += c
			}
		}
		lines = append(lines, cur)
	}
	found, value := 0, ""
	for _, line := range lines {
		if r.cr && strings.HasSuffix(line, "\r") {
			line = line[:len(line)-1]
		}
		colon := strings.Index(line, ":")
		if colon < 0 {
			continue
		}
		name := []byte(line[:colon])
		for i, c := range name {
			if k := strings.IndexByte(r.up, c); k >= 0 && k < len(r.lo) {
				name[i] = r.lo[k]
			}
		}
		if string(name) != r.name {
			continue
		}
		found++
		value = strings.TrimRight(strings.TrimLeft(line[colon+1:], r.trim), r.trimEnd)
	}
	ok := found == r.count && len(value) == r.length && r.plen <= len(value) && value[:r.plen] == r.prefix
	for i := r.from; ok && i <= r.to; i++ {
		ok = i < len(value) && strings.IndexByte(r.hex, value[i]) >= 0
	}
	if ok {
		return value
	}
	return ""
}

var rosDigestShape = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// (g) The digest: only from the Docker-Content-Digest header, only as
// "sha256:" and 64 lower-case hex digits. The script's rules, run in Go on
// good and hostile registry answers.
func rosCheckDigest(texts map[string]string) []string {
	r, probs := rosDigestRulesOf(texts[rosUpdater])
	q := rosFunc(rosNoComments(texts[rosUpdater]), "queryDigest")
	if !rosDigCall.MatchString(q) {
		probs = append(probs, "queryDigest does not hand parseDigest ($m->\"http-headers\") alone")
	}
	for _, m := range rosDigM.FindAllString(q, -1) {
		if !strings.HasPrefix(m, `$m->"status"`) && !strings.HasPrefix(m, `$m->"http-headers"`) {
			probs = append(probs, "queryDigest reads more of the manifest answer than its status and headers: "+m)
		}
	}
	if len(probs) > 0 {
		return probs
	}
	hex := strings.Repeat("0123456789abcdef", 4)
	good := "sha256:" + hex
	hdr := "Docker-Content-Digest: "
	pad := func(s string) string { return s + strings.Repeat("0", max(0, 71-len(s))) }
	cases := []struct {
		name    string
		headers any
		want    string
	}{
		{"CRLF lines", "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.index.v1+json\r\n" + hdr + good + "\r\nContent-Length: 10\r\n", good},
		{"LF lines, lower-case name", "docker-content-digest: " + good + "\n", good},
		{"lines joined by ; (as :put prints them)", "Content-Length: 10;" + hdr + good + ";Date: Tue", good},
		{"a list, upper-case name, spaces and tabs around", []string{"Content-Length: 10", "DOCKER-CONTENT-DIGEST:\t " + good + " \t"}, good},
		{"a list keyed by name", map[string]string{"Docker-Content-Digest": good, "Content-Length": "10"}, good},
		{"; in the string form ends the line: the rest is another line", hdr + good + ";/system reboot", good},
		{"missing", "Content-Length: 10\r\n", ""},
		{"empty", "", ""},
		{"empty list", []string{}, ""},
		{"digest only in the body, not the headers", "Content-Type: application/json\r\n", ""},
		{"the name inside another header's value", "X-Note: docker-content-digest: " + good, ""},
		{"another header ending in the name", "X-" + hdr + good, ""},
		{"space before the colon", "Docker-Content-Digest : " + good, ""},
		{"63 hex digits", hdr + good[:70], ""},
		{"65 hex digits", hdr + good + "0", ""},
		{"upper-case hex", hdr + "sha256:" + strings.ToUpper(hex), ""},
		{"upper-case prefix", hdr + "SHA256:" + hex, ""},
		{"sha512", hdr + "sha512:" + hex, ""},
		{"a command after the prefix", hdr + pad(`sha256:"; /system reboot; "`), ""},
		{"a substitution after the prefix", []string{hdr + pad(`sha256:$[/system reboot]`)}, ""},
		{"a command after the digest, in a list", []string{hdr + good + ";/system reboot"}, ""},
		{"a CR inside the value", hdr + good + "\r\r\n", ""},
		{"first digit not hex", hdr + "sha256:g" + hex[1:], ""},
		{"last digit not hex", hdr + "sha256:" + hex[:63] + "g", ""},
		{"a lone CR is no line end", "Content-Length: 10\r" + hdr + good + "\r", ""},
		{"header twice, same value", hdr + good + "\r\n" + hdr + good + "\r\n", ""},
		{"header twice, other value", hdr + good + "\r\n" + hdr + "sha256:" + strings.Repeat("f", 64) + "\r\n", ""},
		{"header twice in a keyed list, other case", map[string]string{"Docker-Content-Digest": good, "docker-content-digest": good}, ""},
	}
	for _, c := range cases {
		if got := r.parse(c.headers); got != c.want {
			probs = append(probs, fmt.Sprintf("%s: parseDigest gives %q, want %q", c.name, got, c.want))
		}
	}
	// Whatever the registry sends, what passes has the digest's shape.
	pieces := []string{hdr, "docker-content-digest:", "sha256:", hex, "\r\n", "\n", ";", " ", "\t", "\"", "$", "[", "/system reboot", "A", "0"}
	seed := uint32(1)
	for n := 0; n < 3000; n++ {
		var b strings.Builder
		for k := 0; k < 12; k++ {
			seed = seed*1664525 + 1013904223
			b.WriteString(pieces[int(seed>>16)%len(pieces)])
		}
		if got := r.parse(b.String()); got != "" && !rosDigestShape.MatchString(got) {
			probs = append(probs, fmt.Sprintf("parseDigest lets %q through from %q", got, b.String()))
			break
		}
	}
	return probs
}

var (
	rosCliEsc = regexp.MustCompile(`:if \(\[:typeof \[:find ("(?:[^"\\]|\\.)*") \$c\]\] = "num"\) do=\{ :set c \("\\\\" \. \$c\) \}`)
	rosCliMap = regexp.MustCompile(`:if \(\$c = ("(?:[^"\\]|\\.)*")\) do=\{ :set c ("(?:[^"\\]|\\.)*") \}`)
	rosCliRet = regexp.MustCompile(`:return \("\\"" \. \$out \. "\\""\)`)
)

// rosCli is the updater's cli for a string, in Go, with its escapes taken
// from the script: the characters escaped with a backslash, then the ones
// written another way, in the script's order.
func rosCli(s, esc string, maps [][2]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i : i+1]
		if strings.Contains(esc, c) {
			c = `\` + c
		}
		for _, m := range maps {
			if c == m[0] {
				c = m[1]
			}
		}
		b.WriteString(c)
	}
	return `"` + b.String() + `"`
}

// (h) A value copied from the old container reaches :parse as one RouterOS
// string literal that decodes to the value: cli mirrored in Go.
func rosCheckCli(texts map[string]string) []string {
	body := rosFunc(rosNoComments(texts[rosUpdater]), "cli")
	esc := rosCliEsc.FindStringSubmatch(body)
	if esc == nil || !rosCliRet.MatchString(body) {
		return []string{"cli lacks its escape test or its quoting `:return (\"\\\"\" . $out . \"\\\"\")`"}
	}
	var maps [][2]string
	for _, m := range rosCliMap.FindAllStringSubmatch(body, -1) {
		maps = append(maps, [2]string{rosMustUnquote(m[1]), rosMustUnquote(m[2])})
	}
	var probs []string
	for _, v := range []string{"", "plain", `a"b`, `a\b`, `\"`, "$x", "$[/system reboot]", "a?b", "a\rb", "a\nb",
		"\r\n/system reboot", `"; /system reboot; "`, "tab\there", "\\\\\"\"$$??", "ünïcode", strings.Repeat("x\"$", 300)} {
		lit := rosCli(v, rosMustUnquote(esc[1]), maps)
		got, end, err := rosUnquote(lit)
		switch {
		case err != nil:
			probs = append(probs, fmt.Sprintf("cli(%q) = %s: %v", v, lit, err))
		case end != len(lit) || got != v:
			probs = append(probs, fmt.Sprintf("cli(%q) = %s, which RouterOS reads as %q and %q after it", v, lit, got, lit[end:]))
		}
	}
	return probs
}

var (
	rosParseCall = regexp.MustCompile(`\[:parse [^\]]*\]`)
	rosAddAssign = regexp.MustCompile(`^\s*:(?:local|set) add \((.*)\)\s*$`)
	rosCliArgVar = regexp.MustCompile(`\$([A-Za-z][A-Za-z0-9]*)`)
	rosDigestSet = regexp.MustCompile(`:set digest ([^\n]*)`)
)

// rosTerms splits a concatenation at its top-level " . ".
func rosTerms(expr string) []string {
	var terms []string
	depth, in, start := 0, false, 0
	for i := 0; i < len(expr); i++ {
		switch c := expr[i]; {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case !in && (c == '(' || c == '['):
			depth++
		case !in && (c == ')' || c == ']'):
			depth--
		case !in && depth == 0 && strings.HasPrefix(expr[i:], " . "):
			terms = append(terms, strings.TrimSpace(expr[start:i]))
			start = i + 3
			i += 2
		}
	}
	return append(terms, strings.TrimSpace(expr[start:]))
}

// (i) Nothing from the network reaches :parse unchecked: it runs only $add,
// and $add is built from literals, cli-quoted constants and the checked
// digest, and argText (cli-quoted values of copyKeys).
func rosCheckParseInputs(texts map[string]string) []string {
	u := rosNoComments(texts[rosUpdater])
	var probs []string
	calls := rosParseCall.FindAllString(rosCode(u), -1)
	if len(calls) == 0 {
		probs = append(probs, "no [:parse] at all")
	}
	for _, c := range calls {
		if c != "[:parse $add]" {
			probs = append(probs, "a :parse of something else than $add: "+c)
		}
	}
	allowed := []string{"ctName", "nextName", "repo", "tag", "cPrefix", "cUnknown", "cFailed", "cNext", "tries", "digest"}
	n := 0
	for _, l := range rosLogical(u, false) {
		m := rosAddAssign.FindStringSubmatch(l)
		if m == nil {
			if strings.Contains(l, ":set add ") || strings.Contains(l, ":local add ") {
				probs = append(probs, "$add set in another form: "+strings.TrimSpace(l))
			}
			continue
		}
		n++
		for _, t := range rosTerms(m[1]) {
			switch {
			case strings.HasPrefix(t, `"`) && strings.HasSuffix(t, `"`), t == "$add",
				t == "[$argText settings=$settings keys=$copyKeys cli=$cli]":
			case strings.HasPrefix(t, "[$cli ") && strings.HasSuffix(t, "]"):
				for _, v := range rosCliArgVar.FindAllStringSubmatch(t[len("[$cli "):], -1) {
					if !slices.Contains(allowed, v[1]) {
						probs = append(probs, fmt.Sprintf("$add takes $%s through cli: not one of %v", v[1], allowed))
					}
				}
			default:
				probs = append(probs, "$add takes a term that is not a literal or cli-quoted: "+t)
			}
		}
	}
	if n == 0 {
		probs = append(probs, "no `:local add (...)`")
	}
	arg := rosFunc(u, "argText")
	for _, want := range []string{`[:typeof [:find $keys $k]] = "num"`, `:set t ($t . " " . $k . "=" . [$cli $v])`} {
		if !strings.Contains(arg, want) {
			probs = append(probs, "argText lacks "+want)
		}
	}
	rec := rosSection(texts[rosUpdater], "recovery:")
	q := rosFunc(u, "queryDigest")
	for _, m := range rosDigestSet.FindAllStringSubmatch(u, -1) {
		switch {
		case strings.HasPrefix(m[1], "[$queryDigest "):
		case strings.Contains(q, m[0]) && (strings.HasPrefix(m[1], `[$parseDigest (`) || strings.HasPrefix(m[1], `"" }`)):
		case strings.HasPrefix(m[1], `($r->"digest")`) && strings.Contains(rec, m[0]):
		default:
			probs = append(probs, "digest set from something else than queryDigest (or, in recovery, a comment): "+m[0])
		}
	}
	return probs
}

// rosLogCall finds log calls; rosLogArg reads the argument after one.
var rosLogCall = regexp.MustCompile(`(?:\$log|\$warn|:log (?:info|warning|error)) `)

// rosLogArg is the expression starting at s[0]: a string literal, a
// parenthesised expression (strings and brackets respected) or a word.
func rosLogArg(s string) string {
	if s == "" {
		return ""
	}
	if s[0] == '"' {
		if _, end, err := rosUnquote(s); err == nil {
			return s[:end]
		}
		end := strings.IndexAny(s[1:], "\"\n")
		return s[:end+2]
	}
	if s[0] != '(' {
		end := strings.IndexAny(s, " ;}\n")
		if end < 0 {
			return s
		}
		return s[:end]
	}
	depth, in := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case !in && c == '(':
			depth++
		case !in && c == ')':
			depth--
			if depth == 0 {
				return s[:i+1]
			}
		}
	}
	return s
}

// (j) Log lines name no setting's value: every variable a log line uses is
// one of a short list (digests, counts, names, reasons).
func rosCheckLogs(texts map[string]string) []string {
	allowed := []string{"1", "digest", "tries", "maxTries", "ctName", "nextName", "registry", "ver", "why", "base", "h", "marker"}
	var probs []string
	n := 0
	for _, l := range rosLogical(rosNoComments(texts[rosUpdater]), false) {
		for _, loc := range rosLogCall.FindAllStringIndex(l, -1) {
			n++
			arg := rosLogArg(l[loc[1]:])
			if strings.Contains(arg, "->") {
				probs = append(probs, "a log line reads an array: "+arg)
			}
			for _, v := range rosCliArgVar.FindAllStringSubmatch(arg, -1) {
				if !slices.Contains(allowed, v[1]) {
					probs = append(probs, fmt.Sprintf("a log line prints $%s: %s", v[1], arg))
				}
			}
		}
	}
	if n < 10 {
		probs = append(probs, fmt.Sprintf("found only %d log calls", n))
	}
	return probs
}

// rosOp is one write the model follows.
type rosOp struct{ kind, who, val string }

var (
	rosOpRe = regexp.MustCompile(`^(?:/container/add name=" \. \[\$cli \$(ctName|nextName)\] \. " start-on-boot=(yes|no)` +
		`|/container/set \$(old|new) start-on-boot=(yes|no)` +
		`|/container/stop \$(old|new|ct)` +
		`|\$startCt \$(old|new|ct)` +
		`|\$removeCt \$(old|new|ct)` +
		`|/container/set \$new name=\$ctName)`)
	rosWriteRe   = regexp.MustCompile(`/container/(?:add|set|start|stop|remove)\b|\$(?:startCt|removeCt)\b`)
	rosCommentOK = regexp.MustCompile(`^/container/set \$(?:old|new|ct) comment=`)
)

// rosOps are the container writes of a part of the updater, in text order;
// a write the model does not know is a problem.
func rosOps(part, where string) ([]rosOp, []string) {
	var ops []rosOp
	var probs []string
	who := func(s string) string {
		if s == "new" || s == "nextName" {
			return "new"
		}
		return "old"
	}
	for _, loc := range rosWriteRe.FindAllStringIndex(part, -1) {
		rest := part[loc[0]:]
		m := rosOpRe.FindStringSubmatch(rest)
		switch {
		case m == nil && rosCommentOK.MatchString(rest):
		case m == nil:
			line, _, _ := strings.Cut(rest, "\n")
			probs = append(probs, where+": a container write the model does not know: "+line)
		case m[1] != "":
			ops = append(ops, rosOp{"add", who(m[1]), m[2]})
		case m[3] != "":
			ops = append(ops, rosOp{"sob", who(m[3]), m[4]})
		case m[5] != "":
			ops = append(ops, rosOp{"stop", who(m[5]), ""})
		case m[6] != "":
			ops = append(ops, rosOp{"start", who(m[6]), ""})
		case m[7] != "":
			ops = append(ops, rosOp{"remove", who(m[7]), ""})
		default:
			ops = append(ops, rosOp{"rename", "new", ""})
		}
	}
	return ops, probs
}

// rosCt and rosWorld: the containers as the model sees them.
type rosCt struct{ exists, sob, running, named bool }

type rosWorld struct {
	c      map[string]rosCt
	proven bool // the new container passed its health check
}

func (w rosWorld) clone() rosWorld {
	c := map[string]rosCt{}
	for k, v := range w.c {
		c[k] = v
	}
	return rosWorld{c, w.proven}
}

func (w rosWorld) count(f func(rosCt) bool) int {
	n := 0
	for _, c := range w.c {
		if c.exists && f(c) {
			n++
		}
	}
	return n
}

func (w rosWorld) String() string {
	var s []string
	for _, k := range []string{"old", "new"} {
		if c := w.c[k]; c.exists {
			s = append(s, fmt.Sprintf("%s(sob=%v run=%v named=%v)", k, c.sob, c.running, c.named))
		}
	}
	return strings.Join(s, " ")
}

// apply makes one write; a violation of the swap's rules is returned.
func (w *rosWorld) apply(op rosOp) string {
	c := w.c[op.who]
	other := w.c[map[string]string{"old": "new", "new": "old"}[op.who]]
	switch op.kind {
	case "add":
		c = rosCt{exists: true, sob: op.val == "yes", named: op.who == "old"}
	case "sob":
		c.sob = c.exists && op.val == "yes"
	case "stop":
		c.running = false
	case "start":
		if c.exists && !c.running && other.exists && other.running {
			return "starts " + op.who + " while the other runs (one veth, one network namespace)"
		}
		c.running = c.exists
	case "remove":
		if op.who == "old" && c.exists && !w.proven {
			return "removes the old container before the new one passed its health check"
		}
		c = rosCt{}
	case "rename":
		if !w.c["old"].exists {
			c.named = true
		}
	}
	w.c[op.who] = c
	return ""
}

// rosModel is the updater's swap as the model runs it.
type rosModel struct {
	update, undo, finish, first []rosOp
	ruleNeg                     bool   // the rule tests !sob
	ruleThen, ruleElse          string // the actions of its two branches
}

// isGap: ops[i] takes start-on-boot from the old container and the very
// next write gives it to the new one.
func isGap(ops []rosOp, i int) bool {
	return ops[i] == rosOp{"sob", "old", "no"} && i+1 < len(ops) && ops[i+1] == rosOp{"sob", "new", "yes"}
}

// run makes ops from w, checking after each write that at most one
// container starts on boot (exactly one, but in the gap) and, if boot is
// set, what a reboot there leads to.
func (m rosModel) run(w rosWorld, ops []rosOp, where string, boot bool) (rosWorld, []string) {
	w = w.clone()
	var probs []string
	for i, op := range ops {
		at := fmt.Sprintf("%s, after %s %s %s", where, op.kind, op.who, op.val)
		if v := w.apply(op); v != "" {
			probs = append(probs, at+": "+v)
		}
		switch n := w.count(func(c rosCt) bool { return c.sob }); {
		case n > 1:
			probs = append(probs, at+": two containers start on boot: "+w.String())
		case n == 0 && !isGap(ops, i) && w.count(func(rosCt) bool { return true }) > 0:
			probs = append(probs, at+": no container starts on boot: "+w.String())
		}
		if boot {
			probs = append(probs, m.reboot(w, isGap(ops, i), at)...)
		}
	}
	return w, probs
}

// reboot: what starts at boot, then the recovery run, must end with one
// container named $ctName that starts on boot and runs.
func (m rosModel) reboot(w rosWorld, gap bool, where string) []string {
	w = w.clone()
	where += ", reboot"
	for k, c := range w.c {
		c.running = c.exists && c.sob
		w.c[k] = c
	}
	var probs []string
	if n := w.count(func(c rosCt) bool { return c.running }); n > 1 || n == 0 && !gap {
		probs = append(probs, fmt.Sprintf("%s: %d containers start: %s", where, n, w))
	}
	w, p := m.recover(w, where)
	return append(append(probs, p...), rosSettled(w, where)...)
}

// recover is the recovery block: the rule picks undo or finish.
func (m rosModel) recover(w rosWorld, where string) (rosWorld, []string) {
	if !w.c["new"].exists {
		return w, nil
	}
	action := m.ruleElse
	if w.c["old"].exists && w.c["new"].sob != m.ruleNeg {
		action = m.ruleThen
	}
	ops := map[string][]rosOp{"undo": m.undo, "finish": m.finish}[action]
	return m.run(w, ops, where+", recovery "+action, false)
}

func rosSettled(w rosWorld, where string) []string {
	if w.count(func(rosCt) bool { return true }) != 1 || w.count(func(c rosCt) bool { return c.sob && c.running && c.named }) != 1 {
		return []string{where + ": does not end with one container named $ctName that starts on boot and runs: " + w.String()}
	}
	return nil
}

var rosRule = regexp.MustCompile(`:if \(\(\[:typeof \$old\] = "id"\) and (!?)\(\[\$ctState \$new\]->"sob"\)\) do=\{`)

type rosPart struct{ name, text string }

// rosModelParts are the parts of the updater that write to containers.
func rosModelParts(raw string) []rosPart {
	return []rosPart{
		{"first deployment", rosNoComments(rosSection(raw, "first deployment:"))},
		{"update", rosNoComments(rosSection(raw, "update:"))},
		{"undo", rosBlockAfter(rosNoComments(raw), `:if ($action = "undo") do={`)},
		{"finish", rosBlockAfter(rosNoComments(raw), `:if ($action = "finish") do={`)},
	}
}

// rosModelOf reads the model from the updater.
func rosModelOf(raw string) (rosModel, []string) {
	var m rosModel
	var probs []string
	parts := rosModelParts(raw)
	for i, ops := range []*[]rosOp{&m.first, &m.update, &m.undo, &m.finish} {
		p := parts[i]
		if p.text == "" {
			probs = append(probs, "cannot find the "+p.name+" part")
			continue
		}
		var pp []string
		*ops, pp = rosOps(p.text, p.name)
		probs = append(probs, pp...)
	}
	rec := rosNoComments(rosSection(raw, "recovery:"))
	if ops, _ := rosOps(rec, "recovery"); len(ops) > 0 {
		probs = append(probs, "recovery writes to containers itself; it should only choose undo or finish")
	}
	loc := rosRule.FindStringSubmatchIndex(rec)
	if loc == nil {
		return m, append(probs, "recovery: no `:if (([:typeof $old] = \"id\") and !([$ctState $new]->\"sob\")) do={`")
	}
	m.ruleNeg = loc[3] > loc[2]
	open := loc[1] - 1
	end := rosBlockEnd(rec, open)
	action := regexp.MustCompile(`:set action "(undo|finish)"`)
	if end < 0 || !strings.HasPrefix(rec[end:], " else={") {
		return m, append(probs, "recovery: the rule has no else branch")
	}
	then, other := action.FindStringSubmatch(rec[open:end]), action.FindStringSubmatch(rec[end:rosBlockEnd(rec, end+len(" else="))])
	if then == nil || other == nil {
		return m, append(probs, "recovery: a branch of the rule sets no action")
	}
	m.ruleThen, m.ruleElse = then[1], other[1]
	return m, probs
}

// (k) The reboot invariant: the model runs the first deployment, and the
// update with an undo after every write of it, and the finish; after
// every write at most one container starts on boot, exactly one but for
// the handover between two adjacent commands; the two never run at once;
// the old one goes only after the new one passed; and a reboot after any
// write, then the run at boot, ends with one container that starts on
// boot, runs and has the name.
func rosCheckReboot(texts map[string]string) []string {
	m, probs := rosModelOf(texts[rosUpdater])
	if len(probs) > 0 {
		return probs
	}
	for _, p := range []struct {
		ops  []rosOp
		name string
	}{{m.first, "first deployment"}, {m.update, "update"}} {
		if !slices.ContainsFunc(p.ops, func(o rosOp) bool { return o.kind == "add" }) {
			probs = append(probs, p.name+": no container add")
		}
	}
	// Every container write is in a part the model runs, or in startCt and
	// removeCt (whose calls it follows).
	raw := texts[rosUpdater]
	u := rosNoComments(raw)
	writes := func(s string) int { return len(rosWriteRe.FindAllString(s, -1)) }
	in := writes(rosFunc(u, "startCt")) + writes(rosFunc(u, "removeCt"))
	for _, p := range rosModelParts(raw) {
		in += writes(p.text)
	}
	if n := writes(u); n != in {
		probs = append(probs, fmt.Sprintf("%d container writes, %d of them where the model follows them", n, in))
	}
	empty := rosWorld{c: map[string]rosCt{}}
	w, p := m.run(empty, m.first, "first deployment", true)
	probs = append(append(probs, p...), rosSettled(w, "first deployment")...)

	start := rosWorld{c: map[string]rosCt{"old": {exists: true, sob: true, running: true, named: true}}}
	w = start.clone()
	for i := 0; i <= len(m.update); i++ {
		where := "update, undo before any write"
		if i > 0 {
			op := m.update[i-1]
			where = fmt.Sprintf("update, undo after %s %s %s", op.kind, op.who, op.val)
			var p []string
			w, p = m.run(w, m.update[i-1:i], "update", true)
			probs = append(probs, p...)
		}
		undone, p := m.run(w, m.undo, where, true)
		probs = append(append(probs, p...), rosSettled(undone, where)...)
	}
	w.proven = true
	w, p = m.run(w, m.finish, "finish", true)
	probs = append(append(probs, p...), rosSettled(w, "finish")...)
	sort.Strings(probs)
	return slices.Compact(probs)
}

// (l) The order of the swap as text: the old container is removed only in
// the finish block; finish is chosen in the update only inside the
// `:if ($healthy)` after the health wait; an error on the way ends in
// undo; starts and removes go through startCt and removeCt.
func rosCheckSwapOrder(texts map[string]string) []string {
	u := rosNoComments(texts[rosUpdater])
	code := rosCode(u)
	var probs []string
	finish := rosBlockAfter(u, `:if ($action = "finish") do={`)
	for _, c := range []struct{ what, inside, where string }{
		{"/container/remove", rosFunc(u, "removeCt"), "removeCt"},
		{"/container/start", rosFunc(u, "startCt"), "startCt"},
		{"$removeCt $old", finish, "the finish block"},
	} {
		if n, in := strings.Count(code, c.what), strings.Count(rosCode(c.inside), c.what); n == 0 || n != in {
			probs = append(probs, fmt.Sprintf("%s appears %d times, %d of them in %s: want all there", c.what, n, in, c.where))
		}
	}
	up := rosNoComments(rosSection(texts[rosUpdater], "update:"))
	fin := `:set action "finish"`
	wait := strings.Index(up, ":while ((!$healthy)")
	switch at := strings.Index(up, fin); {
	case strings.Count(up, fin) != 1 || at < 0:
		probs = append(probs, fmt.Sprintf("the update chooses finish %d times, want once", strings.Count(up, fin)))
	case wait < 0 || at < wait:
		probs = append(probs, "the update chooses finish before its health wait")
	case rosInnermost(up, at) != ":if ($healthy) do={":
		probs = append(probs, "the update chooses finish inside "+rosInnermost(up, at)+", not `:if ($healthy) do={`")
	}
	if n := strings.Count(u, fin); n != 2 {
		probs = append(probs, fmt.Sprintf("finish is chosen %d times: want the update and the recovery only", n))
	}
	// An error between stopping the old container and the end of the
	// health wait must end in undo, not in a router left without one.
	guarded := false
	stop, at := strings.Index(up, "/container/stop $old"), strings.Index(up, fin)
	for i := strings.Index(up, ":do {"); i >= 0 && stop >= 0; {
		end := rosBlockEnd(up, i+len(":do "))
		if i < stop && end > at && strings.HasPrefix(up[max(end, 0):], ` on-error={ :set action "undo";`) {
			guarded = true
		}
		next := strings.Index(up[i+1:], ":do {")
		if next < 0 {
			break
		}
		i += next + 1
	}
	if !guarded {
		probs = append(probs, "the update's stop, start and health wait are not inside `:do {...} on-error={ :set action \"undo\"; ...}`")
	}
	return probs
}

// (m) The first deployment only where none ever was: a marker file, written
// once a container exists, stops a run that finds no container.
func rosCheckMarker(texts map[string]string) []string {
	raw := texts[rosUpdater]
	u := rosNoComments(raw)
	var probs []string
	mark := rosNoComments(rosSection(raw, "marker:"))
	first := rosNoComments(rosSection(raw, "first deployment:"))
	stop := rosBlockAfter(mark, `:if ($go and ([:typeof $old] != "id") and ([:len [/file/find where name=$marker]] > 0)) do={`)
	if !strings.Contains(stop, ":set go false") || !strings.Contains(stop, "$warn ") {
		probs = append(probs, "no marker check that warns and stops when the container is missing")
	}
	if !strings.Contains(rosBlockAfter(mark, `:if ($go and ([:typeof $old] = "id") and ([:len [/file/find where name=$marker]] = 0)) do={`), "/file/add name=$marker") {
		probs = append(probs, "the marker is not written on a router that has the container")
	}
	if !strings.HasPrefix(strings.TrimSpace(first), `:if ($go and ([:typeof $old] != "id")) do={`) {
		probs = append(probs, "the first deployment does not start with `:if ($go and ([:typeof $old] != \"id\")) do={`")
	}
	if !strings.Contains(rosBlockAfter(first, ":if ([$runAdd add=$add]) do={"), "/file/add name=$marker") {
		probs = append(probs, "the first deployment does not write the marker once it added the container")
	}
	if mi, fi := strings.Index(raw, "\n# --- marker:"), strings.Index(raw, "\n# --- first deployment:"); mi < 0 || fi < mi {
		probs = append(probs, "the marker check does not come before the first deployment")
	}
	if n, in := strings.Count(u, "$first"), strings.Count(first, "$first"); strings.Count(u, ":set ($first->")+in != n {
		probs = append(probs, "the first-deployment settings are used outside the first deployment")
	}
	return probs
}

var rosAddCmd = regexp.MustCompile(`(/[a-z][a-z/-]*?)[ /]add `)

// (n) first-deploy.rsc can run again: each add is skipped when its object
// exists (and says so), or, for the updater's script and scheduler,
// replaces the one before.
func rosCheckRerun(texts map[string]string) []string {
	f := rosNoComments(texts[rosFirst])
	var probs []string
	for _, loc := range rosAddCmd.FindAllStringSubmatchIndex(f, -1) {
		menu := f[loc[2]:loc[3]]
		before, after := f[max(0, loc[0]-250):loc[0]], f[loc[1]:min(len(f), loc[1]+250)]
		switch {
		case menu == "/system/script" || menu == "/system/scheduler":
			if !strings.Contains(f[:loc[0]], menu+" remove [find where name=") {
				probs = append(probs, menu+" add without removing the one before")
			}
		case !strings.Contains(before, "[:len ["+menu+" find where "), !strings.Contains(before, "] = 0) do={"):
			probs = append(probs, menu+" add not skipped when it exists")
		case !strings.HasPrefix(strings.TrimLeft(after[strings.Index(after+"\n", "\n")+1:], " \t\""), "} else={"):
			probs = append(probs, menu+" add does not say it kept what exists")
		}
	}
	if len(rosAddCmd.FindAllString(f, -1)) < 9 {
		probs = append(probs, "found fewer adds than first-deploy.rsc makes")
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
		{"SettingsCopied", rosFirst, "#     start-on-boot=yes", "#     start-on-boot=yes cpu-set=1"},
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
		{"RebootInvariant", rosUpdater, `:do { /container/stop $new } on-error={}`, `:do { :delay 1s } on-error={}`},
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
