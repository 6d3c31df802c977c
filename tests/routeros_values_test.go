package tests

// What reaches the updater from outside, checked on its text: the registry's
// digest (parseDigest's rules, mirrored in internal/routeros, run on hostile
// headers), copied values escaped (cli mirrored), nothing unchecked spliced
// into :parse, no setting's value in a log line. The checks are listed in
// routeros_test.go.

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"dagger/mikrotik-tailscale/internal/routeros"
)

// queryDigest hands parseDigest the manifest answer's headers alone.
var (
	rosDigCall = regexp.MustCompile(`:set digest \[\$parseDigest \(\$m->"http-headers"\)\]`)
	rosDigM    = regexp.MustCompile(`\$m\b[^\n]{0,20}`)
)

var rosDigestShape = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// (g) The digest: only from the Docker-Content-Digest header, only as
// "sha256:" and 64 lower-case hex digits. The script's rules, run in Go on
// good and hostile registry answers.
func rosCheckDigest(texts map[string]string) []string {
	r, probs := routeros.DigestRulesOf(texts[rosUpdater])
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
		if got := r.Parse(c.headers); got != c.want {
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
		if got := r.Parse(b.String()); got != "" && !rosDigestShape.MatchString(got) {
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
	// The array branch: each element, a keyed one as key=value (a
	// :foreach with one variable would drop the keys). What [/container/get]
	// returns for env, hosts, devices, mount and tmpfs is not documented
	// (docs/UPDATES.md, "What stays unknown").
	rosCliArray = ":foreach k,v in=$1 do={\n        :if ([:typeof $k] = \"str\") do={ :set s ($s . \",\" . $k . \"=\" . [:tostr $v]) } else={ :set s ($s . \",\" . [:tostr $v]) }\n      }\n      :set s [:pick $s 1 [:len $s]]"
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
	if !strings.Contains(body, rosCliArray) {
		probs = append(probs, "cli's array branch is not "+rosCliArray)
	}
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
	// dmOff is device-mode feature names the script spells itself.
	allowed := []string{"1", "digest", "tries", "maxTries", "ctName", "nextName", "registry", "ver", "why", "base", "h", "marker", "dmOff"}
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
