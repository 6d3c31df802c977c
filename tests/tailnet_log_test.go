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
	// tailnetIdleWindow is how long the idle router's lines are counted,
	// once by default and once at --verbose=2.
	tailnetIdleWindow = 4 * time.Minute
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
// most tailnetIdleLinesPerHour lines an hour. The same window at
// --verbose=2 (restarted with it, then back) counts what the image
// printed before it filtered (every line; only the markers differ).
func (tn *tailnet) testLogIdle(t *testing.T) {
	quiet := tn.idleLines(t)
	rate := perHour(len(quiet), tailnetIdleWindow)
	from := len(tn.logLines(t))
	tn.restartRouter(t, "TS_TAILSCALED_EXTRA_ARGS=--verbose=2")
	loud := tn.idleLines(t)
	tn.restartRouter(t)
	tn.mu.Lock()
	tn.verbose = [2]int{from, len(tn.logLines(t))}
	tn.mu.Unlock()
	tn.measure("log_idle", map[string]any{"window_s": tailnetIdleWindow.Seconds(),
		"lines": len(quiet), "lines_per_hour": rate,
		"lines_verbose2": len(loud), "lines_per_hour_verbose2": perHour(len(loud), tailnetIdleWindow)})
	t.Logf("idle router: %d lines in %s (%.0f an hour); %d at --verbose=2 (%.0f an hour)",
		len(quiet), tailnetIdleWindow, rate, len(loud), perHour(len(loud), tailnetIdleWindow))
	if rate > tailnetIdleLinesPerHour {
		t.Errorf("idle router printed %d lines in %s (%.0f an hour, at most %d):\n%s", len(quiet), tailnetIdleWindow, rate, tailnetIdleLinesPerHour, strings.Join(quiet, "\n"))
	}
	if len(loud) <= len(quiet) {
		t.Errorf("--verbose=2 printed %d lines idle, no more than the default's %d", len(loud), len(quiet))
	}
}

// idleLines waits tailnetIdleSettle, then returns what the router prints
// in tailnetIdleWindow.
func (tn *tailnet) idleLines(t *testing.T) []string {
	time.Sleep(tailnetIdleSettle)
	before := len(tn.logLines(t))
	time.Sleep(tailnetIdleWindow)
	return tn.logLines(t)[before:]
}

// restartRouter restarts the router with its environment plus extra, and
// waits until it is back on the tailnet and routes again.
func (tn *tailnet) restartRouter(t *testing.T, extra ...string) {
	t.Helper()
	tn.router.Stop(t)
	tn.router.env = append(tn.routerEnv(""), extra...)
	tn.router.start(t)
	tn.wireRouter(t)
	tn.router.Go(t)
	tn.waitRunning(t, tn.router)
	expectHTTP(t, tn.client, lanHost, "lan", tn.snat(lanRouter), 90*time.Second)
}

// testLogQuiet: nothing the router printed in the whole run, but for the
// --verbose=2 run that testLogIdle asked for, is above --verbose=0 or has
// a control character; the line count goes to the report.
func (tn *tailnet) testLogQuiet(t *testing.T) {
	lines := tn.logLines(t)
	tn.measure("log_lines_total", len(lines))
	tn.mu.Lock()
	v := tn.verbose
	tn.mu.Unlock()
	if v[1] <= v[0] || v[1] > len(lines) {
		t.Fatalf("the --verbose=2 run's lines %v are not in the router's log of %d lines", v, len(lines))
	}
	checkQuietLog(t, "router", append(lines[:v[0]:v[0]], lines[v[1]:]...))
}
