// Package routeros reads the RouterOS scripts (routeros/*.rsc) as text and
// mirrors parts of them in Go: parseDigest's rules and the requests
// queryDigest makes. Everything is read from the script, so that the
// mirror follows the script or says where it no longer can.
package routeros

import (
	"fmt"
	"regexp"
	"strings"
)

// NoComments is text without its comment lines.
func NoComments(text string) string {
	var b strings.Builder
	for _, l := range strings.Split(text, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// BlockEnd is the index just past the "}" that closes the "{" at open, or
// -1: string literals and comment lines are skipped.
func BlockEnd(text string, open int) int {
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

// BlockAfter is the body of the first block whose opening line is head
// (ending in "{"), or "".
func BlockAfter(text, head string) string {
	at := strings.Index(text, head)
	if at < 0 {
		return ""
	}
	open := at + len(head) - 1
	end := BlockEnd(text, open)
	if end < 0 {
		return ""
	}
	return text[open+1 : end-1]
}

// Func is the body of the script function `:local name do={...}`, or "".
func Func(text, name string) string {
	return BlockAfter(text, ":local "+name+" do={")
}

// Unquote decodes the RouterOS string literal at the start of lit ("..."
// with its escapes) and returns it and the index just past its closing
// quote. Raw CR or LF, an unescaped $ (RouterOS substitutes variables in
// strings) or ? and an unknown escape are errors: text that is not one
// safe literal.
func Unquote(lit string) (string, int, error) {
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

// unquoteAll is Unquote for a literal that must be the whole of lit.
func unquoteAll(lit string) (string, error) {
	s, end, err := Unquote(lit)
	if err == nil && end != len(lit) {
		err = fmt.Errorf("%q is more than one literal", lit)
	}
	return s, err
}

// continuation is a backslash ending a line: RouterOS reads on in the next.
var continuation = regexp.MustCompile(`\\[ \t\r]*\n[ \t]*`)

// joinLines joins backslash-continued lines.
func joinLines(text string) string {
	return continuation.ReplaceAllString(text, " ")
}
