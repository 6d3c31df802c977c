package routeros

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Header is one header field of a request, as /tool/fetch sends it.
type Header struct {
	Name, Value string
}

// DigestQuery is what queryDigest asks the registry: a pull token (GET
// TokenURL, no headers; the token is the TokenKey of the JSON answer),
// then the manifest (GET ManifestURL with Headers), whose response headers
// go to parseDigest.
type DigestQuery struct {
	// TokenKey is the JSON key of the token in the token answer.
	TokenKey string
	// CheckCertificate is true if both fetches pass check-certificate=yes.
	CheckCertificate bool

	tokenURL, manifestURL, header concat
	tokenVar                      string
}

// The function's parameters, as the updater calls it:
// [$queryDigest registry=$registry repo=$repo tag=$tag ...].
const (
	varRegistry = "registry"
	varRepo     = "repo"
	varTag      = "tag"
)

var (
	qFetch    = regexp.MustCompile(`/tool[ /]fetch\b`)
	qLocal    = regexp.MustCompile(`:local ([A-Za-z][A-Za-z0-9]*) \[/tool[ /]fetch\b`)
	qToken    = regexp.MustCompile(`:local ([A-Za-z][A-Za-z0-9]*) \(\[:deserialize from=json value=\(\$([A-Za-z][A-Za-z0-9]*)->"data"\)\]->("(?:[^"\\]|\\.)*")\)`)
	qHeaders  = regexp.MustCompile(`\[\$parseDigest \(\$([A-Za-z][A-Za-z0-9]*)->"http-headers"\)\]`)
	qArgName  = regexp.MustCompile(`^[a-z][a-z0-9-]*`)
	qVarName  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*`)
	qHdrField = regexp.MustCompile(`^[A-Za-z0-9-]+$`)
)

// DigestQueryOf reads queryDigest's requests from the updater's text. The
// error names what it could not find: the script changed its shape.
func DigestQueryOf(updaterText string) (DigestQuery, error) {
	var q DigestQuery
	body := Func(NoComments(updaterText), "queryDigest")
	if body == "" {
		return q, fmt.Errorf("no `:local queryDigest do={...}`")
	}
	code := joinLines(body)
	fetches := map[string]map[string]string{}
	for _, m := range qLocal.FindAllStringSubmatchIndex(code, -1) {
		name := code[m[2]:m[3]]
		open := strings.IndexByte(code[m[0]:], '[') + m[0]
		end := balanced(code, open)
		if end < 0 {
			return q, fmt.Errorf("queryDigest: the fetch into $%s has no closing ]", name)
		}
		args, err := fetchArgs(code[m[1] : end-1])
		if err != nil {
			return q, fmt.Errorf("queryDigest: the fetch into $%s: %v", name, err)
		}
		if _, dup := fetches[name]; dup {
			return q, fmt.Errorf("queryDigest: two fetches into $%s", name)
		}
		fetches[name] = args
	}
	if n := len(qFetch.FindAllString(code, -1)); n != 2 || len(fetches) != 2 {
		return q, fmt.Errorf("queryDigest: want two fetches, each `:local x [/tool/fetch ...]`; found %d fetches, %d of that form", n, len(fetches))
	}

	tm := qToken.FindAllStringSubmatch(code, -1)
	if len(tm) != 1 {
		return q, fmt.Errorf("queryDigest: want one `:local token ([:deserialize from=json value=($t->\"data\")]->\"key\")`, found %d", len(tm))
	}
	q.tokenVar = tm[0][1]
	key, err := unquoteAll(tm[0][3])
	if err != nil {
		return q, fmt.Errorf("queryDigest: the token's key: %v", err)
	}
	q.TokenKey = key
	tok, ok := fetches[tm[0][2]]
	if !ok {
		return q, fmt.Errorf("queryDigest: the token is read from $%s, which no fetch sets", tm[0][2])
	}
	hm := qHeaders.FindAllStringSubmatch(code, -1)
	if len(hm) != 1 {
		return q, fmt.Errorf("queryDigest: want one `[$parseDigest ($m->\"http-headers\")]`, found %d", len(hm))
	}
	man, ok := fetches[hm[0][1]]
	if !ok {
		return q, fmt.Errorf("queryDigest: parseDigest reads the headers of $%s, which no fetch sets", hm[0][1])
	}
	if tm[0][2] == hm[0][1] {
		return q, fmt.Errorf("queryDigest: the token and the manifest come from the same fetch $%s", hm[0][1])
	}

	if err := checkArgs(tok, "user", "url"); err != nil {
		return q, fmt.Errorf("queryDigest: the token fetch: %v", err)
	}
	if err := checkArgs(man, "user-with-headers", "url", "http-header-field"); err != nil {
		return q, fmt.Errorf("queryDigest: the manifest fetch: %v", err)
	}
	q.CheckCertificate = tok["check-certificate"] == "yes" && man["check-certificate"] == "yes"
	for _, p := range []struct {
		what, raw string
		to        *concat
		vars      []string
	}{
		{"the token url", tok["url"], &q.tokenURL, []string{varRegistry, varRepo}},
		{"the manifest url", man["url"], &q.manifestURL, []string{varRegistry, varRepo, varTag}},
		{"the manifest's http-header-field", man["http-header-field"], &q.header, []string{q.tokenVar}},
	} {
		c, err := parseConcat(p.raw)
		if err != nil {
			return q, fmt.Errorf("queryDigest: %s: %v", p.what, err)
		}
		for _, t := range c {
			if t.isVar && !slices.Contains(p.vars, t.s) {
				return q, fmt.Errorf("queryDigest: %s uses $%s, not one of %v", p.what, t.s, p.vars)
			}
		}
		*p.to = c
	}
	for _, f := range strings.Split(q.header.expand(map[string]string{q.tokenVar: "TOKEN"}), ",") {
		name, value, ok := strings.Cut(f, ": ")
		if !ok || !qHdrField.MatchString(name) || value == "" {
			return q, fmt.Errorf("queryDigest: the manifest's http-header-field has %q, not \"Name: value\"", f)
		}
	}
	return q, nil
}

// TokenURL is the URL of the token request for repo on registry.
func (q DigestQuery) TokenURL(registry, repo string) string {
	return q.tokenURL.expand(map[string]string{varRegistry: registry, varRepo: repo})
}

// ManifestURL is the URL of the manifest request for repo:tag on registry.
func (q DigestQuery) ManifestURL(registry, repo, tag string) string {
	return q.manifestURL.expand(map[string]string{varRegistry: registry, varRepo: repo, varTag: tag})
}

// Headers are the manifest request's header fields, in order: the
// http-header-field string split at "," as /tool/fetch splits it, each
// field at its first ": " (a field without one is all Name).
func (q DigestQuery) Headers(token string) []Header {
	s := q.header.expand(map[string]string{q.tokenVar: token})
	if s == "" {
		return nil
	}
	var hs []Header
	for _, f := range strings.Split(s, ",") {
		name, value, _ := strings.Cut(f, ": ")
		hs = append(hs, Header{Name: name, Value: value})
	}
	return hs
}

// checkArgs: the fetch takes only arguments the mirror knows, with
// output=output, as-value and each of need.
func checkArgs(args map[string]string, output string, need ...string) error {
	known := append([]string{"check-certificate", "output", "as-value"}, need...)
	for k := range args {
		if !slices.Contains(known, k) {
			return fmt.Errorf("argument %s=, which the Go mirror does not know", k)
		}
	}
	if args["output"] != output {
		return fmt.Errorf("output=%s, want output=%s", args["output"], output)
	}
	if _, ok := args["as-value"]; !ok {
		return fmt.Errorf("no as-value")
	}
	for _, k := range need {
		if args[k] == "" {
			return fmt.Errorf("no %s=", k)
		}
	}
	return nil
}

// fetchArgs splits a command's arguments: words and name=value, the value
// a literal, a (...) or [...] expression or a word.
func fetchArgs(s string) (map[string]string, error) {
	args := map[string]string{}
	for i := 0; ; {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
		if i == len(s) {
			return args, nil
		}
		name := qArgName.FindString(s[i:])
		if name == "" {
			return nil, fmt.Errorf("cannot read the arguments at %q", s[i:])
		}
		i += len(name)
		value := ""
		if i < len(s) && s[i] == '=' {
			i++
			start := i
			switch {
			case i < len(s) && (s[i] == '(' || s[i] == '['):
				i = balanced(s, i)
			case i < len(s) && s[i] == '"':
				_, end, err := Unquote(s[i:])
				if err != nil {
					return nil, fmt.Errorf("%s=: %v", name, err)
				}
				i += end
			default:
				for i < len(s) && !strings.ContainsRune(" \t\r\n", rune(s[i])) {
					i++
				}
			}
			if i < 0 {
				return nil, fmt.Errorf("%s= is not closed", name)
			}
			value = s[start:i]
		}
		if _, dup := args[name]; dup {
			return nil, fmt.Errorf("%s= twice", name)
		}
		args[name] = value
	}
}

// balanced is the index just past the bracket that closes the one at
// s[open], or -1; string literals are skipped.
func balanced(s string, open int) int {
	var stack []byte
	in := false
	for i := open; i < len(s); i++ {
		switch c := s[i]; {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case in:
		case c == '(':
			stack = append(stack, ')')
		case c == '[':
			stack = append(stack, ']')
		case c == '{':
			stack = append(stack, '}')
		case c == ')' || c == ']' || c == '}':
			if len(stack) == 0 || stack[len(stack)-1] != c {
				return -1
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return i + 1
			}
		}
	}
	return -1
}

// term is a piece of a concatenation: a literal or a variable's name.
type term struct {
	s     string
	isVar bool
}

// concat is a RouterOS concatenation `("lit" . $var . "lit")`.
type concat []term

// parseConcat reads a literal, a $variable, or a parenthesised
// concatenation of them.
func parseConcat(expr string) (concat, error) {
	e := strings.TrimSpace(expr)
	if strings.HasPrefix(e, "(") {
		if balanced(e, 0) != len(e) {
			return nil, fmt.Errorf("%s is not one (...)", expr)
		}
		e = e[1 : len(e)-1]
	}
	var c concat
	for i := 0; ; {
		for i < len(e) && (e[i] == ' ' || e[i] == '\t') {
			i++
		}
		switch {
		case i < len(e) && e[i] == '"':
			s, end, err := Unquote(e[i:])
			if err != nil {
				return nil, err
			}
			c = append(c, term{s: s})
			i += end
		case i < len(e) && e[i] == '$' && qVarName.MatchString(e[i+1:]):
			name := qVarName.FindString(e[i+1:])
			c = append(c, term{s: name, isVar: true})
			i += 1 + len(name)
		default:
			return nil, fmt.Errorf("cannot read %q in %s: only \"literals\" and $variables joined by \" . \"", e[i:], expr)
		}
		for i < len(e) && (e[i] == ' ' || e[i] == '\t') {
			i++
		}
		if i == len(e) {
			return c, nil
		}
		if e[i] != '.' {
			return nil, fmt.Errorf("cannot read %q in %s: want \" . \"", e[i:], expr)
		}
		i++
	}
}

// expand is the concatenation's value; every variable is in vars
// (DigestQueryOf checks that).
func (c concat) expand(vars map[string]string) string {
	var b strings.Builder
	for _, t := range c {
		if t.isVar {
			b.WriteString(vars[t.s])
		} else {
			b.WriteString(t.s)
		}
	}
	return b.String()
}
