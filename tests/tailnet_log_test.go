package tests

import (
	"os"
	"strings"
	"testing"
	"time"
)

// The router's log, as RouterOS copies it with logging=yes into a RAM log
// of 1,000 lines by default (docs/USAGE.md, "The container's log").
const (
	// tailnetIdleSettle lets the restart and login tests' lines pass.
	tailnetIdleSettle = 30 * time.Second
	// tailnetIdleWindow is how long the idle router's lines are counted.
	tailnetIdleWindow = 5 * time.Minute
	// tailnetIdleLinesPerHour is the most an idle, logged-in router with
	// peers may print an hour.
	tailnetIdleLinesPerHour = 60
)

// logLines is the router's log so far, a line each.
func (tn *tailnet) logLines(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(tn.router.log)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// perHour is n lines in d, as lines an hour.
func perHour(n int, d time.Duration) float64 { return float64(n) * float64(time.Hour) / float64(d) }

// testLogIdle: the logged-in router with its peers, left alone, prints at
// most tailnetIdleLinesPerHour lines an hour.
func (tn *tailnet) testLogIdle(t *testing.T) {
	time.Sleep(tailnetIdleSettle)
	before := len(tn.logLines(t))
	start := time.Now()
	time.Sleep(tailnetIdleWindow)
	window := time.Since(start)
	lines := tn.logLines(t)[before:]
	rate := perHour(len(lines), window)
	tn.measure("log_idle", map[string]any{"window_s": window.Seconds(), "lines": len(lines), "lines_per_hour": rate})
	t.Logf("idle router: %d lines in %s, %.0f an hour", len(lines), window.Round(time.Second), rate)
	if rate > tailnetIdleLinesPerHour {
		t.Errorf("idle router printed %d lines in %s (%.0f an hour, at most %d):\n%s", len(lines), window.Round(time.Second), rate, tailnetIdleLinesPerHour, strings.Join(lines, "\n"))
	}
}

// testLogQuiet: nothing the router printed in the whole run is above
// --verbose=0 or has a control character; the line count goes to the
// report.
func (tn *tailnet) testLogQuiet(t *testing.T) {
	lines := tn.logLines(t)
	tn.measure("log_lines_total", len(lines))
	checkQuietLog(t, "router", lines)
}
