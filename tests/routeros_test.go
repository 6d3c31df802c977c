package tests

// The RouterOS scripts (routeros/*.rsc) cannot run here: no router, no
// RouterOS. These tests check, on their text and on docs/USAGE.md, what
// can be checked mechanically: every container setting the docs or the
// first deployment set is one the updater copies when it recreates the
// container; the updater copies no read-only property; the comment it
// writes is the one it reads back; the RouterOS 7.21 check; certificate
// checks on every fetch; version-specific commands only through :parse.
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
// copy (file and copy-from would bypass the registry).
var rosNotCopied = []string{"name", "remote-image", "file", "copy-from", "comment"}

// rosReadOnly are properties RouterOS reports but that no add accepts.
var rosReadOnly = []string{".id", "arch", "os", "repo", "tag", "status", "running",
	"stopped", "starting", "stopping", "extracting", "passed-devs", "config-json"}

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
	rosCopyKeys     = regexp.MustCompile(`(?s):local copyKeys \[:toarray \((.*?)\)\]`)
	rosLiteral      = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`)
)

// rosSetProps are the container properties the first deployment and the
// docs set: arguments of `/container add|set` in first-deploy.rsc (its
// commented alternative included) and USAGE.md, and the updater's
// first-deployment settings.
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

var (
	rosCommentWrite = regexp.MustCompile(`comment=(?:" \. \[\$cli )?(""|\([^()]*\))`)
	rosLocalString  = `:local %s "([^"]*)"`
	// The reading code, piece by piece (see the updater).
	rosReadPieces = []string{
		`[:pick $comment 0 [:len $cPrefix]] = $cPrefix`,
		`:local rest [:pick $comment [:len $cPrefix] [:len $comment]]`,
		`:if ($rest = $digest)`,
		`[:pick $rest 0 [:len $cFailed]] = $cFailed`,
		`:if ([:pick $rest ($sp + 1) [:len $rest]] = $digest)`,
		`:set tries ([:tonum [:pick $rest [:len $cFailed] $sp]] + 1)`,
	}
	rosReadSep = regexp.MustCompile(`:local sp \[:find \$rest "([^"]*)" \[:len \$cFailed\]\]`)
)

// rosParseComment is the updater's reading code in Go, with the pieces
// taken from the script: kind "good", "failed" or "" (not ours).
func rosParseComment(c, prefix, failed, sep, digest string) (kind string, n int) {
	if !strings.HasPrefix(c, prefix) {
		return "", 0
	}
	rest := c[len(prefix):]
	if rest == digest {
		return "good", 0
	}
	i := strings.Index(rest[min(len(failed), len(rest)):], sep)
	if !strings.HasPrefix(rest, failed) || i < 0 {
		return "", 0
	}
	sp := len(failed) + i
	if rest[sp+len(sep):] != digest {
		return "", 0
	}
	n, err := strconv.Atoi(rest[len(failed):sp])
	if err != nil {
		return "", 0
	}
	return "failed", n
}

// (c) The comment: prefix defined once, written in the two forms the
// reading code parses.
func rosCheckComment(texts map[string]string) []string {
	u := rosNoComments(texts[rosUpdater])
	code := rosCode(u)
	var probs []string
	vars := map[string]string{"digest": "sha256:" + strings.Repeat("0123456789abcdef", 4), "tries": "2"}
	for _, name := range []string{"cPrefix", "cFailed"} {
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
	sep := rosReadSep.FindStringSubmatch(u)
	if sep == nil {
		probs = append(probs, "the reading code lacks `:local sp [:find $rest \"…\" [:len $cFailed]]`")
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
		kind, n := rosParseComment(s, vars["cPrefix"], vars["cFailed"], sep[1], vars["digest"])
		want := "good"
		switch {
		case w[1] == `""`:
			want = ""
		case strings.Contains(w[1], "$cFailed"):
			want = "failed"
		}
		if kind != want || (kind == "failed" && strconv.Itoa(n) != vars["tries"]) {
			probs = append(probs, fmt.Sprintf("comment=%s writes %q, which reads back as %q %d, want %q", w[1], s, kind, n, want))
		}
		kinds[want]++
	}
	if kinds["good"] == 0 || kinds["failed"] == 0 {
		probs = append(probs, fmt.Sprintf("want a good and a failed comment write, got %v", kinds))
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
		// (b) read-only, forbidden or unknown keys in the allow-list
		{"AllowList", rosUpdater, `"root-dir,shell,`, `"root-dir,running,shell,`},
		{"AllowList", rosUpdater, `"root-dir,shell,`, `"root-dir,remote-image,shell,`},
		{"AllowList", rosUpdater, `"root-dir,shell,`, `"root-dir,arch,shell,`},
		{"AllowList", rosUpdater, `"swap-max,tmpfs,user,workdir"`, `"swap-max,tmpfs,user"`},
		// (c) the comment written differs from the one read, or the prefix is spelt twice
		{"Comment", rosUpdater, `$tries . " " . $digest`, `$tries . ":" . $digest`},
		{"Comment", rosUpdater, `comment=($cPrefix . $digest)`, `comment=("mikrotik-tailscale " . $digest)`},
		{"Comment", rosUpdater, `comment=($cPrefix . $digest)`, `comment=($cPrefix . $cFailed . $digest)`},
		{"Comment", rosUpdater, `:local sp [:find $rest " "`, `:local sp [:find $rest "-"`},
		{"Comment", rosUpdater, `:if ($rest = $digest)`, `:if ($comment = $digest)`},
		{"Comment", rosUpdater, `comment=($cPrefix . $digest)`, `comment=$digest`},
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
}
