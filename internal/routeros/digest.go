package routeros

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// DigestRules are parseDigest's rules, taken from the script's text.
type DigestRules struct {
	name, up, lo, trim, trimEnd, prefix, hex string
	seps                                     []string
	cr, keyed                                bool
	count, length, plen, from, to            int
}

var (
	digName  = regexp.MustCompile(`:if \(\$name = "([^"]*)"\) do=\{`)
	digCase  = regexp.MustCompile(`:local up "([^"]*)"\s*:local lo "([^"]*)"`)
	digLower = regexp.MustCompile(`:for i from=0 to=\(\$colon - 1\) do=\{\s*:local c \[:pick \$line \$i\]\s*:local k \[:find \$up \$c\]\s*:if \(\[:typeof \$k\] = "num"\) do=\{ :set c \[:pick \$lo \$k\] \}`)
	digColon = regexp.MustCompile(`:local colon \[:find \$line ":"\]`)
	digSeps  = regexp.MustCompile(`:if \(\(\$c = ("(?:[^"\\]|\\.)*")\) or \(\$c = ("(?:[^"\\]|\\.)*")\)\) do=\{ :set \(\$lines->\[:len \$lines\]\) \$cur; :set cur "" \}`)
	digCR    = regexp.MustCompile(`:if \(\[:pick \$line \(\[:len \$line\] - 1\)\] = "\\r"\) do=\{ :set line \[:pick \$line 0 \(\[:len \$line\] - 1\)\] \}`)
	digKeyed = regexp.MustCompile(`:if \(\[:typeof \$k\] = "str"\) do=\{ :set \(\$lines->\[:len \$lines\]\) \(\$k \. ": " \. \[:tostr \$v\]\) \}`)
	digTrim  = regexp.MustCompile(`:while \(\(\[:len \$v\] > 0\) and \(\[:typeof \[:find ("(?:[^"\\]|\\.)*") \[:pick \$v 0\]\]\] = "num"\)\) do=\{ :set v \[:pick \$v 1 \[:len \$v\]\] \}`)
	digTrimE = regexp.MustCompile(`:while \(\(\[:len \$v\] > 0\) and \(\[:typeof \[:find ("(?:[^"\\]|\\.)*") \[:pick \$v \(\[:len \$v\] - 1\)\]\]\] = "num"\)\) do=\{ :set v \[:pick \$v 0 \(\[:len \$v\] - 1\)\] \}`)
	digCount = regexp.MustCompile(`:set found \(\$found \+ 1\)`)
	digOK    = regexp.MustCompile(`:local ok \(\(\$found = (\d+)\) and \(\[:len \$value\] = (\d+)\) and \(\[:pick \$value 0 (\d+)\] = "([^"]*)"\)\)`)
	digHex   = regexp.MustCompile(`:for i from=(\d+) to=(\d+) do=\{\s*:if \(\[:typeof \[:find "([^"]*)" \[:pick \$value \$i\]\]\] != "num"\) do=\{ :set ok false \}`)
	digRet   = regexp.MustCompile(`:if \(\$ok\) do=\{ :return \$value \}\s*:return ""\s*$`)
)

// DigestRulesOf reads parseDigest's rules from the updater's text; each
// piece missing is a problem (the Go mirror would no longer be the script).
func DigestRulesOf(updaterText string) (DigestRules, []string) {
	var r DigestRules
	var probs []string
	body := Func(NoComments(updaterText), "parseDigest")
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
	lit := func(s, what string) string {
		v, err := unquoteAll(s)
		if err != nil {
			probs = append(probs, "parseDigest's "+what+": "+err.Error())
		}
		return v
	}
	if m := need(digName, "the header name test"); m != nil {
		r.name = m[1]
	}
	if m := need(digCase, "the case tables"); m != nil {
		r.up, r.lo = m[1], m[2]
	}
	need(digLower, "the lower-casing of the name before the first colon")
	need(digColon, "the first colon")
	if m := need(digSeps, "the line ends of a string"); m != nil {
		r.seps = []string{lit(m[1], "line end"), lit(m[2], "line end")}
	}
	r.cr = digCR.MatchString(body)
	r.keyed = digKeyed.MatchString(body)
	if m := need(digTrim, "the trim at the value's start"); m != nil {
		r.trim = lit(m[1], "trim at the value's start")
	}
	if m := need(digTrimE, "the trim at the value's end"); m != nil {
		r.trimEnd = lit(m[1], "trim at the value's end")
	}
	need(digCount, "the count of the header")
	if m := need(digOK, "the count, length and prefix test"); m != nil {
		r.count, _ = strconv.Atoi(m[1])
		r.length, _ = strconv.Atoi(m[2])
		r.plen, _ = strconv.Atoi(m[3])
		r.prefix = m[4]
	}
	if m := need(digHex, "the digit test"); m != nil {
		r.from, _ = strconv.Atoi(m[1])
		r.to, _ = strconv.Atoi(m[2])
		r.hex = m[3]
	}
	need(digRet, "`:if ($ok) do={ :return $value }` then `:return \"\"` at its end")
	return r, probs
}

// Parse is parseDigest in Go: the digest in headers, or "". headers is
// what /tool/fetch gives as http-headers: one string, a list of lines
// ([]string) or a list keyed by name (map[string]string).
func (r DigestRules) Parse(headers any) string {
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
