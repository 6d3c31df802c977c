package checkreport

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sample() Report {
	return Report{
		Title: "mikrotik-tailscale PR check",
		Checks: []Check{
			{Name: "single layer", Arch: "amd64", Passed: true, Detail: "usr/local/bin/tailscale.combined in layer 0"},
			{Name: "size budget", Arch: "arm/v7", Passed: false,
				Detail: "compressed size 4,126,760 B exceeds the budget of 4,000,000 B by 126,760 B (3.2 %)\nsecond line"},
			{Name: "routeros tarball", Passed: false, Detail: "layer 0: gzip-compressed (magic 1f 8b)"},
			{Name: "a|b", Arch: "arm64", Passed: true},
		},
	}
}

func TestFailedAndPassed(t *testing.T) {
	r := sample()
	f := r.Failed()
	if len(f) != 2 || f[0].Name != "size budget" || f[1].Name != "routeros tarball" {
		t.Fatalf("Failed = %+v", f)
	}
	if r.Passed() {
		t.Fatal("a report with failures passed")
	}
	green := Report{Checks: []Check{{Name: "x", Passed: true}}}
	if !green.Passed() || len(green.Failed()) != 0 {
		t.Fatal("an all-green report did not pass")
	}
	if (Report{}).Passed() {
		t.Fatal("a report with no checks passed")
	}
}

func TestMarkdown(t *testing.T) {
	md := sample().Markdown()
	for _, want := range []string{
		"## mikrotik-tailscale PR check\n",
		"**❌ 2 of 4 checks failed**",
		"| Check | Arch | Result |\n|---|---|---|\n",
		"| single layer | amd64 | ✅ |\n",
		"| size budget | arm/v7 | ❌ |\n",
		"| routeros tarball | – | ❌ |\n",
		"| a\\|b | arm64 | ✅ |\n",
		"### Failures\n",
		"#### ❌ size budget (arm/v7)\n\n```text\ncompressed size 4,126,760 B exceeds the budget of 4,000,000 B by 126,760 B (3.2 %)\nsecond line\n```\n",
		"#### ❌ routeros tarball\n\n```text\nlayer 0: gzip-compressed (magic 1f 8b)\n```\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "single layer (amd64)") {
		t.Errorf("passing check's details rendered:\n%s", md)
	}
	// The table comes before the failure details.
	if strings.Index(md, "| Check |") > strings.Index(md, "### Failures") {
		t.Errorf("failures before the table:\n%s", md)
	}
}

func TestMarkdownAllGreenAndEmpty(t *testing.T) {
	md := Report{Title: "t", Checks: []Check{{Name: "x", Passed: true}}}.Markdown()
	if !strings.Contains(md, "✅ all 1 checks passed") || strings.Contains(md, "Failures") || strings.Contains(md, "❌") {
		t.Errorf("all-green markdown:\n%s", md)
	}
	md = Report{Title: "t"}.Markdown()
	if !strings.Contains(md, "❌ no checks ran") || strings.Contains(md, "| Check |") {
		t.Errorf("empty markdown:\n%s", md)
	}
}

func TestMarkdownFenceSurvivesBackticks(t *testing.T) {
	md := Report{Checks: []Check{{Name: "x", Detail: "before\n```\nafter ````"}}}.Markdown()
	if !strings.Contains(md, "`````text\nbefore\n```\nafter ````\n`````\n") {
		t.Errorf("detail with backticks not fenced safely:\n%s", md)
	}
	md = Report{Checks: []Check{{Name: "x|y\nz", Arch: "arm64"}}}.Markdown()
	if !strings.Contains(md, "| x\\|y<br>z | arm64 | ❌ |") || !strings.Contains(md, "(no detail given)") {
		t.Errorf("cell escaping or empty detail:\n%s", md)
	}
}

func TestJSON(t *testing.T) {
	b, err := Report{Title: "t", Checks: []Check{
		{Name: "a", Arch: "amd64", Passed: true},
		{Name: "b", Passed: false, Detail: "d"},
	}}.JSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "title": "t",
  "passed": false,
  "total": 2,
  "failed": 1,
  "checks": [
    {
      "name": "a",
      "arch": "amd64",
      "passed": true
    },
    {
      "name": "b",
      "passed": false,
      "detail": "d"
    }
  ]
}
`
	if string(b) != want {
		t.Fatalf("JSON\n%s\nwant\n%s", b, want)
	}
	b, err = Report{Title: "empty"}.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if cs, ok := back["checks"].([]any); !ok || len(cs) != 0 || back["passed"] != false {
		t.Fatalf("empty report JSON %s: checks must be [] and passed false", b)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	b, err := sample().JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Title != sample().Title || len(back.Checks) != 4 || back.Checks[1] != sample().Checks[1] {
		t.Fatalf("round trip lost data: %+v", back)
	}
}

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestGitHubWithoutActionsEnvironment(t *testing.T) {
	var out bytes.Buffer
	if err := sample().GitHub(&out, envOf(nil)); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"::error title=size budget (arm/v7)::compressed size 4,126,760 B exceeds the budget of 4,000,000 B by 126,760 B (3.2 %25)%0Asecond line\n",
		"::error title=routeros tarball::layer 0: gzip-compressed (magic 1f 8b)\n",
		"mikrotik-tailscale PR check: ❌ 2 of 4 checks failed\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "::error"); n != 2 {
		t.Errorf("%d annotations for 2 failures:\n%s", n, got)
	}
}

func TestGitHubNilEnvUsesProcessEnvironment(t *testing.T) {
	summary := filepath.Join(t.TempDir(), "summary.md")
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	if err := (Report{Checks: []Check{{Name: "x", Passed: true}}}).GitHub(&bytes.Buffer{}, nil); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(summary); err != nil || !strings.Contains(string(b), "✅ all 1 checks passed") {
		t.Fatalf("summary %q, %v", b, err)
	}
}

func TestGitHubWritesStepSummary(t *testing.T) {
	summary := filepath.Join(t.TempDir(), "summary.md")
	if err := os.WriteFile(summary, []byte("earlier step\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	r := sample()
	if err := r.GitHub(&out, envOf(map[string]string{"GITHUB_STEP_SUMMARY": summary})); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "earlier step\n") || !strings.Contains(string(b), r.Markdown()) {
		t.Fatalf("summary not appended:\n%s", b)
	}
	if strings.Contains(out.String(), "| Check |") {
		t.Fatalf("markdown went to the log instead of only the summary:\n%s", out.String())
	}
}

func TestGitHubUnwritableSummaryIsAnError(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "no", "such", "dir", "summary.md")
	err := sample().GitHub(&bytes.Buffer{}, envOf(map[string]string{"GITHUB_STEP_SUMMARY": bad}))
	if err == nil || !strings.Contains(err.Error(), "github output") {
		t.Fatalf("error %v, want the library's failure as an error", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("stdout closed") }

func TestGitHubWriteFailureIsAnError(t *testing.T) {
	err := sample().GitHub(failingWriter{}, envOf(nil))
	if err == nil || !strings.Contains(err.Error(), "stdout closed") {
		t.Fatalf("error %v, want the write failure", err)
	}
}

func TestGitHubNoChecksIsAnError(t *testing.T) {
	var out bytes.Buffer
	if err := (Report{Title: "t"}).GitHub(&out, envOf(nil)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "::error::no checks ran") {
		t.Fatalf("an empty run produced no error annotation:\n%s", out.String())
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{
		"markdown": FormatMarkdown, "json": FormatJSON, "github": FormatGitHub,
		"JSON": FormatJSON, " GitHub ": FormatGitHub,
	} {
		got, err := ParseFormat(in)
		if err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "yaml", "md", "text"} {
		_, err := ParseFormat(in)
		if err == nil || !strings.Contains(err.Error(), "choose one of markdown, json, github") {
			t.Errorf("ParseFormat(%q) error %v, want the valid choices", in, err)
		}
	}
}

func TestRender(t *testing.T) {
	r := sample()
	var md, js, gh bytes.Buffer
	if err := r.Render(&md, FormatMarkdown, nil); err != nil || md.String() != r.Markdown() {
		t.Fatalf("markdown render: %v", err)
	}
	want, _ := r.JSON()
	if err := r.Render(&js, FormatJSON, nil); err != nil || js.String() != string(want) {
		t.Fatalf("json render: %v", err)
	}
	if err := r.Render(&gh, FormatGitHub, envOf(nil)); err != nil || !strings.Contains(gh.String(), "::error") {
		t.Fatalf("github render: %v\n%s", err, gh.String())
	}
	if err := r.Render(&bytes.Buffer{}, Format("xml"), nil); err == nil || !strings.Contains(err.Error(), "choose one of") {
		t.Fatalf("unknown format: %v", err)
	}
}
