package daemonlog

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestLevels(t *testing.T) {
	for _, c := range []struct {
		in    string
		level int
		out   string
	}{
		{"2026/12/07 10:00:00 magicsock: endpoints changed\n", 0, "2026/12/07 10:00:00 magicsock: endpoints changed\n"},
		{"2026/12/07 10:00:00 [v1] netcheck: report: udp=true\n", 1, "2026/12/07 10:00:00 netcheck: report: udp=true\n"},
		{"x [v2] wg: Received message\n", 2, "x wg: Received message\n"},
		{"x [v\x00JSON]1{\"Hostinfo\":{}}\n", 1, "x {\"Hostinfo\":{}}\n"},
		{"x [v\x00JSON]0{\"a\":1}\n", 0, "x {\"a\":1}\n"},
		// The rate limiter's notices quote the format: a verbose one keeps its level.
		{"x [RATELIMIT] format(\"control: [v\\x00JSON]%d%s\") (8 dropped)\n", 1, "x [RATELIMIT] format(\"control: [v\\x00JSON]%d%s\") (8 dropped)\n"},
		{"x [RATELIMIT] format(\"[v1] netcheck: %v\")\n", 1, "x [RATELIMIT] format(\"netcheck: %v\")\n"},
		{"x [RATELIMIT] format(\"magicsock: %v\")\n", 0, "x [RATELIMIT] format(\"magicsock: %v\")\n"},
		// Not markers: a "[v" alone, a JSON marker without a level digit.
		{"x [vX] y\n", 0, "x [vX] y\n"},
		{"x [v\x00JSON]\n", 0, "x [v\\x00JSON]\n"},
		{"{\"already\":\"json\"} [v1] \n", 0, "{\"already\":\"json\"} [v1] \n"},
	} {
		level, line := mikrotikLogLevel([]byte(c.in))
		if got := string(mikrotikPrintable(line)); level != c.level || got != c.out {
			t.Errorf("%q: level %d, %q; want %d, %q", c.in, level, got, c.level, c.out)
		}
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain\n":             "plain\n",
		"no newline":          "no newline\n",
		"tab\there\n":         "tab\\x09here\n",
		"esc \x1b[31mred\n":   "esc \\x1b[31mred\n",
		"two\nlines\n":        "two\\x0alines\n",
		"del \x7f and é ok\n": "del \\x7f and é ok\n",
	} {
		if got := string(mikrotikPrintable([]byte(in))); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

func TestFilterDropsAboveLevel(t *testing.T) {
	var buf bytes.Buffer
	level := 0
	f := &mikrotikLogFilter{out: &buf, level: func() int { return level }}
	in := []string{"a\n", "[v1] b\n", "[v2] c\n", "[v\x00JSON]1{}\n"}
	for _, l := range in {
		if n, err := f.Write([]byte(l)); n != len(l) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", l, n, err)
		}
	}
	level = 2
	for _, l := range in {
		f.Write([]byte(l))
	}
	if want := "a\na\nb\nc\n{}\n"; buf.String() != want {
		t.Errorf("wrote %q, want %q", buf.String(), want)
	}
}

// The generated file, compiled as tailscaled compiles it (package main,
// the Tag set) with a --verbose flag like tailscaled's: the default
// drops verbose lines, --verbose brings them back, and without Tag the
// file is not compiled at all.
func TestSourceBuildsIntoMain(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatal("go is needed to compile the generated file:", err)
	}
	dir := t.TempDir()
	main := `package main

import (
	"flag"
	"log"
)

func main() {
	log.Printf("before flags [v1] early")
	verbose := flag.Int("verbose", 0, "")
	flag.Parse()
	_ = verbose
	log.Printf("plain")
	log.Printf("[v1] one")
	log.Printf("[v2] two")
	log.Printf("[v\x00JSON]1{\"Hostinfo\":{}}")
	log.Printf("ctl \x1b]0;title\x07")
}
`
	for name, text := range map[string]string{
		"go.mod":            "module example.com/tsmain\n\ngo 1.22\n",
		"main.go":           main,
		filepath.Base(File): Source(),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(), "GOFLAGS=", "GOTOOLCHAIN=local", "GOWORK=off")
	exe := func(name string, env []string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		var msgs []string
		for _, l := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
			if len(l) > 20 { // the log package's date and time
				l = l[20:]
			}
			msgs = append(msgs, l)
		}
		return strings.Join(msgs, "|")
	}
	run := func(tags string, args ...string) string {
		t.Helper()
		return exe("go", env, append([]string{"run", "-tags=" + tags, "."}, args...)...)
	}
	if got, want := run(Tag), `plain|ctl \x1b]0;title\x07`; got != want {
		t.Errorf("default: %q, want %q", got, want)
	}
	if got, want := run(Tag, "--verbose=1"), `plain|one|{"Hostinfo":{}}|ctl \x1b]0;title\x07`; got != want {
		t.Errorf("--verbose=1: %q, want %q", got, want)
	}
	if got, want := run(Tag, "--verbose=2"), `plain|one|two|{"Hostinfo":{}}|ctl \x1b]0;title\x07`; got != want {
		t.Errorf("--verbose=2: %q, want %q", got, want)
	}
	if got := run("other"); !strings.Contains(got, "[v1] one") || !strings.Contains(got, "\x00") {
		t.Errorf("without %s the filter was compiled in: %q", Tag, got)
	}
	// The CLI, the same binary: named tailscale, or TS_BE_CLI set, it
	// prints as it would without the file.
	exe("go", env, "build", "-tags="+Tag, "-o", filepath.Join(dir, "tailscale"), ".")
	if got := exe(filepath.Join(dir, "tailscale"), env); !strings.Contains(got, "[v1] one") || !strings.Contains(got, "\x1b") {
		t.Errorf("as tailscale the CLI's lines were filtered: %q", got)
	}
	if got := exe("go", append(env, "TS_BE_CLI=1"), "run", "-tags="+Tag, "."); !strings.Contains(got, "[v1] one") {
		t.Errorf("with TS_BE_CLI=1 the CLI's lines were filtered: %q", got)
	}
}
