package routeros

import (
	"strings"
	"testing"
)

var (
	good = "sha256:" + strings.Repeat("0123456789abcdef", 4)
	hdr  = "Docker-Content-Digest: "
)

// The script's rules on a few answers; tests/routeros_values_test.go feeds
// them the hostile ones.
func TestDigestRulesParse(t *testing.T) {
	r, probs := DigestRulesOf(updater(t))
	for _, p := range probs {
		t.Error(p)
	}
	for _, c := range []struct {
		name    string
		headers any
		want    string
	}{
		{"CRLF lines", "HTTP/1.1 200 OK\r\nContent-Type: x\r\n" + hdr + good + "\r\n", good},
		{"lines joined by ;", "Content-Length: 10;" + hdr + good + ";Date: Tue", good},
		{"a list, upper-case name, padded", []string{"DOCKER-CONTENT-DIGEST:\t " + good + " \t"}, good},
		{"a list keyed by name", map[string]string{"Docker-Content-Digest": good}, good},
		{"missing", "Content-Length: 10\r\n", ""},
		{"another type", []byte(hdr + good), ""},
		{"twice", hdr + good + "\n" + hdr + good, ""},
		{"upper-case hex", hdr + strings.ToUpper(good), ""},
		{"a lone CR", hdr + good + "\r\r", ""},
	} {
		if got := r.Parse(c.headers); got != c.want {
			t.Errorf("%s: Parse gives %q, want %q", c.name, got, c.want)
		}
	}
}

// A changed parseDigest is a problem, or parses differently.
func TestDigestRulesFollowTheScript(t *testing.T) {
	text := updater(t)
	for _, m := range []struct{ old, new string }{
		{`:local parseDigest do={`, `:local parseDigests do={`},
		{`:if ($name = "docker-content-digest") do={`, `:if ($name != "docker-content-digest") do={`},
		{`:if (($c = "\n") or ($c = ";"))`, `:if (($c = "\n") or ($c = "\q"))`},
		{`[:find " \t" [:pick $v 0]]`, `[:find "$x" [:pick $v 0]]`},
		{`:set found ($found + 1)`, `:set found 1`},
		{`:if ($ok) do={ :return $value }`, `:if ($ok or true) do={ :return $value }`},
	} {
		if _, probs := DigestRulesOf(mutate(t, text, m.old, m.new)); len(probs) == 0 {
			t.Errorf("%q replaced by %q: no problem", m.old, m.new)
		}
	}
	for _, m := range []struct {
		old, new string
		headers  any
	}{
		{`:local up "ABCDEFGHIJKLMNOPQRSTUVWXYZ"`, `:local up "ABCdEFGHIJKLMNOPQRSTUVWXYZ"`, "DOCKER-CONTENT-DIGEST: " + good},
		{`:local up "ABCDEFGHIJKLMNOPQRSTUVWXYZ"`, `:local up ""`, "DOCKER-CONTENT-DIGEST: " + good},
		{`:if (($c = "\n") or ($c = ";"))`, `:if (($c = "\n") or ($c = ","))`, hdr + good + ";x"},
		{`[:find " \t" [:pick $v 0]]`, `[:find " " [:pick $v 0]]`, hdr + "\t" + good},
		{`[:find "0123456789abcdef" [:pick $value $i]]`, `[:find "0123456789abcde" [:pick $value $i]]`, hdr + good},
		{`($found = 1)`, `($found = 2)`, hdr + good},
		{`($k . ": " . [:tostr $v])`, `[:tostr $v]`, map[string]string{"Docker-Content-Digest": good}},
		{`:if ([:pick $line ([:len $line] - 1)] = "\r") do={`, `:if (false) do={`, hdr + good + "\r\n"},
	} {
		r, probs := DigestRulesOf(mutate(t, text, m.old, m.new))
		if got := r.Parse(m.headers); len(probs) == 0 && got == good {
			t.Errorf("%q replaced by %q: still parses %q as %q", m.old, m.new, m.headers, got)
		}
	}
}
