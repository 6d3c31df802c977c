// Package checkreport is the PR check's verdict and its three renderings:
// Markdown for people (and the GitHub step summary), JSON for tools, and
// GitHub workflow commands so each failure is an annotation on the run.
package checkreport

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sethvargo/go-githubactions"
)

// Check is the outcome of one check, for one arch or for the whole image.
type Check struct {
	Name string `json:"name"`
	// Arch is the platform the check ran for ("arm/v7"); empty when the
	// check is not per-arch.
	Arch   string `json:"arch,omitempty"`
	Passed bool   `json:"passed"`
	// Detail is what was measured, or why it failed; may span lines.
	Detail string `json:"detail,omitempty"`
}

// label is the check's name with its arch, as used in headings and titles.
func (c Check) label() string {
	if c.Arch == "" {
		return c.Name
	}
	return c.Name + " (" + c.Arch + ")"
}

// Report is the full result of a PR check run.
type Report struct {
	Title  string  `json:"title"`
	Checks []Check `json:"checks"`
}

// Failed returns the checks that did not pass, in report order.
func (r Report) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if !c.Passed {
			out = append(out, c)
		}
	}
	return out
}

// Passed reports whether the run is green: at least one check ran and
// none failed. A report with no checks is not a pass, since a check that
// verified nothing must not turn a PR green.
func (r Report) Passed() bool { return len(r.Checks) > 0 && len(r.Failed()) == 0 }

// verdict is the one-line summary shared by all renderings.
func (r Report) verdict() string {
	switch failed := len(r.Failed()); {
	case len(r.Checks) == 0:
		return "❌ no checks ran"
	case failed == 0:
		return fmt.Sprintf("✅ all %d checks passed", len(r.Checks))
	default:
		return fmt.Sprintf("❌ %d of %d checks failed", failed, len(r.Checks))
	}
}

// Markdown renders a table with ✅/❌ per check, then the detail of each
// failure in a code block (details are tool output: sizes, paths, digests).
func (r Report) Markdown() string {
	var b strings.Builder
	if r.Title != "" {
		fmt.Fprintf(&b, "## %s\n\n", r.Title)
	}
	fmt.Fprintf(&b, "**%s**\n\n", r.verdict())
	if len(r.Checks) > 0 {
		b.WriteString("| Check | Arch | Result |\n|---|---|---|\n")
		for _, c := range r.Checks {
			mark := "✅"
			if !c.Passed {
				mark = "❌"
			}
			arch := c.Arch
			if arch == "" {
				arch = "–"
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", cell(c.Name), cell(arch), mark)
		}
	}
	if failed := r.Failed(); len(failed) > 0 {
		b.WriteString("\n### Failures\n")
		for _, c := range failed {
			fmt.Fprintf(&b, "\n#### ❌ %s\n\n", c.label())
			detail := strings.TrimRight(c.Detail, "\n")
			if detail == "" {
				detail = "(no detail given)"
			}
			fence := fenceFor(detail)
			fmt.Fprintf(&b, "%stext\n%s\n%s\n", fence, detail, fence)
		}
	}
	return b.String()
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\n", "<br>")
}

// fenceFor returns a backtick fence longer than any backtick run in s, so
// a detail containing ``` cannot close its own code block.
func fenceFor(s string) string {
	longest, run := 0, 0
	for _, c := range s {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// jsonReport fixes the JSON field names; they are an interface for tools.
type jsonReport struct {
	Title  string  `json:"title"`
	Passed bool    `json:"passed"`
	Total  int     `json:"total"`
	Failed int     `json:"failed"`
	Checks []Check `json:"checks"`
}

// JSON renders the report, indented, with stable field names: title,
// passed, total, failed, checks[] {name, arch, passed, detail}.
func (r Report) JSON() ([]byte, error) {
	checks := r.Checks
	if checks == nil {
		checks = []Check{}
	}
	b, err := json.MarshalIndent(jsonReport{
		Title: r.Title, Passed: r.Passed(), Total: len(r.Checks), Failed: len(r.Failed()), Checks: checks,
	}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// GitHub writes one ::error annotation per failed check to w (the step's
// stdout), then a one-line verdict, and appends the Markdown to the job
// summary when GITHUB_STEP_SUMMARY is set. Outside Actions (the variable
// unset) the summary is skipped rather than failing: go-githubactions
// would try to open an empty path and panic. env is the environment
// lookup; nil means os.Getenv. Any panic from the library becomes an error.
func (r Report) GitHub(w io.Writer, env func(string) string) (err error) {
	if env == nil {
		env = os.Getenv
	}
	defer func() {
		if p := recover(); p != nil {
			if e, ok := p.(error); ok {
				err = fmt.Errorf("github output: %w", e)
			} else {
				err = fmt.Errorf("github output: %v", p)
			}
		}
	}()
	a := githubactions.New(githubactions.WithWriter(w), githubactions.WithGetenv(env))
	for _, c := range r.Failed() {
		detail := c.Detail
		if detail == "" {
			detail = "check failed"
		}
		a.WithFieldsMap(map[string]string{"title": c.label()}).Errorf("%s", detail)
	}
	if len(r.Checks) == 0 {
		a.Errorf("%s", "no checks ran")
	}
	title := r.Title
	if title == "" {
		title = "checks"
	}
	a.Infof("%s: %s", title, r.verdict())
	if env("GITHUB_STEP_SUMMARY") != "" {
		a.AddStepSummary(r.Markdown())
	}
	return nil
}

// Format is an output format of the PR check.
type Format string

// The formats ParseFormat accepts.
const (
	FormatMarkdown Format = "markdown"
	FormatJSON     Format = "json"
	FormatGitHub   Format = "github"
)

// Formats lists the valid format names.
func Formats() []string {
	return []string{string(FormatMarkdown), string(FormatJSON), string(FormatGitHub)}
}

// ParseFormat reads a --format value, case-insensitively.
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	switch f {
	case FormatMarkdown, FormatJSON, FormatGitHub:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q: choose one of %s", s, strings.Join(Formats(), ", "))
}

// Render writes the report to w in format f; env is used by FormatGitHub
// only (see GitHub).
func (r Report) Render(w io.Writer, f Format, env func(string) string) error {
	switch f {
	case FormatMarkdown:
		_, err := io.WriteString(w, r.Markdown())
		return err
	case FormatJSON:
		b, err := r.JSON()
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	case FormatGitHub:
		return r.GitHub(w, env)
	}
	return fmt.Errorf("unknown format %q: choose one of %s", string(f), strings.Join(Formats(), ", "))
}
