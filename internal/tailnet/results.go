package tailnet

import (
	"encoding/json"
	"fmt"
	"strings"
)

// A check of the lab, in the order the client runs them. Each becomes one
// row of the required check's report, per platform.
type Check struct {
	ID    string
	Title string
}

// Checks are the lab's assertions. A check the client never reached (an
// earlier step broke the lab) is reported failed, not left out.
var Checks = []Check{
	{"login", "tailnet: router logs in headlessly"},
	{"routes", "tailnet: LAN route and exit node approved"},
	{"lan", "tailnet: client reaches the LAN host through the router"},
	{"exit-node", "tailnet: client reaches the internet host through the exit node"},
	{"ping", "tailnet: tailscale ping both ways"},
	{"ping-tsmp", "tailnet: tailscale ping --tsmp both ways"},
	{"health", "tailnet: router's health probe"},
	{"policy-reject", "tailnet: SYNs the policy rejects are dropped, the router keeps running"},
	{"control-outage", "tailnet: tunnel holds through a control outage"},
	{"state-dir", "tailnet: router's state directory holds only what DESIGN names"},
}

// ResultPrefix marks the lab tool's result lines among its other output.
const ResultPrefix = "TAILNET-RESULT "

// Result is one check's outcome, as the lab tool prints it.
type Result struct {
	ID      string  `json:"id"`
	Passed  bool    `json:"passed"`
	Detail  string  `json:"detail"`
	Seconds float64 `json:"seconds"`
}

// Line is r as the lab tool prints it.
func (r Result) Line() string {
	b, _ := json.Marshal(r) // strings, a bool and a float: cannot fail
	return ResultPrefix + string(b)
}

// ParseResults reads the lab tool's output: one result per check ID, in
// Checks order; a check with no line failed with why ("not reached"), and
// a line for an unknown ID or a second line for one is an error (the tool
// and this list drifted).
func ParseResults(out string) ([]Result, error) {
	got := map[string]Result{}
	for _, line := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), ResultPrefix)
		if !ok {
			continue
		}
		var r Result
		if err := json.Unmarshal([]byte(rest), &r); err != nil {
			return nil, fmt.Errorf("tailnet lab result %q: %w", rest, err)
		}
		if !known(r.ID) {
			return nil, fmt.Errorf("tailnet lab reported an unknown check %q", r.ID)
		}
		if _, dup := got[r.ID]; dup {
			return nil, fmt.Errorf("tailnet lab reported check %q twice", r.ID)
		}
		got[r.ID] = r
	}
	res := make([]Result, 0, len(Checks))
	for _, c := range Checks {
		r, ok := got[c.ID]
		if !ok {
			r = Result{ID: c.ID, Detail: "not reached: an earlier step of the lab failed"}
		}
		res = append(res, r)
	}
	return res, nil
}

// Title is the report name of check id.
func Title(id string) string {
	for _, c := range Checks {
		if c.ID == id {
			return c.Title
		}
	}
	return "tailnet: " + id
}

func known(id string) bool {
	for _, c := range Checks {
		if c.ID == id {
			return true
		}
	}
	return false
}

// AllPassed reports whether every result passed.
func AllPassed(rs []Result) bool {
	for _, r := range rs {
		if !r.Passed {
			return false
		}
	}
	return true
}

// Diagnostics is the lab's output besides the result lines: statuses and
// log tails printed when a check failed.
func Diagnostics(out string) string {
	var b strings.Builder
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, ResultPrefix) && line != "" {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// LastLines is the last n lines of s.
func LastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
