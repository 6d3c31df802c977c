package tests

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"dagger/mikrotik-tailscale/internal/layout"
)

// The image's health probe (layout.HealthCheck, the tshealth applet)
// against a real tailscaled: what RouterOS's healthcheck-cmd and the
// updater (routeros/update-tailscale.rsc) rely on.

// probeTimeout is the probe's own -t for the frozen-daemon check.
const probeTimeout = 2

// expectHealth polls (bounded) until the probe's verdict inside n is
// healthy, with its output containing want.
func expectHealth(t *testing.T, n *node, healthy bool, want string, timeout time.Duration) {
	t.Helper()
	expectProbe(t, n, []string{layout.HealthCheck}, healthy, want, timeout)
}

// expectHealthBeforeGo is expectHealth for a node whose tailscaled has
// not started: its first process is still the host's shell, outside the
// chroot, so the probe runs through chroot into the node's root (its
// socket tmpfs is mounted there).
func expectHealthBeforeGo(t *testing.T, n *node, want string, timeout time.Duration) {
	t.Helper()
	chroot, err := exec.LookPath("chroot") // the node's PATH is the image's
	if err != nil {
		t.Fatal(err)
	}
	expectProbe(t, n, []string{chroot, n.root, layout.HealthCheck}, false, want, timeout)
}

func expectProbe(t *testing.T, n *node, argv []string, healthy bool, want string, timeout time.Duration) {
	t.Helper()
	poll(t, timeout, fmt.Sprintf("%s: %s healthy=%v %q", n.name, strings.Join(argv, " "), healthy, want), func() (bool, string) {
		r := n.Exec(30*time.Second, argv...)
		out := strings.TrimSpace(r.Stdout + r.Stderr)
		switch {
		case healthy && r.Err != nil, !healthy && r.Err == nil:
			return false, r.String()
		case !healthy && exitCode(r.Err) != 1:
			return false, "want exit status 1: " + r.String()
		}
		return strings.Contains(out, want), out
	})
}

// testHealthCheck: the logged-in router is healthy; frozen (SIGSTOP), its
// tailscaled answers nothing and the probe says so within its -t; thawed,
// healthy again. Then what one call costs, against the tailscale CLI.
func (tn *tailnet) testHealthCheck(t *testing.T) {
	expectHealth(t, tn.router, true, "", 30*time.Second)
	if err := syscall.Kill(tn.router.child, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := tn.router.Exec(30*time.Second, layout.HealthCheck, "-t", strconv.Itoa(probeTimeout))
	took := time.Since(start)
	if err := syscall.Kill(tn.router.child, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if r.Err == nil || !strings.Contains(r.Stderr, "did not answer in time") {
		t.Errorf("probe against a frozen tailscaled: %s", r)
	}
	tn.measure("healthcheck_frozen_s", took.Seconds())
	expectHealth(t, tn.router, true, "", 30*time.Second)

	cost := map[string]any{}
	for name, argv := range map[string][]string{
		"tshealth":             {layout.HealthCheck},
		"tailscale_status_cli": {"tailscale", "status", "--json", "--peers=false"},
	} {
		c, err := callCost(tn.router, 15, argv...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		cost[name] = c
		t.Logf("%s per call on %s: %v", name, tn.arch.Dir, c)
	}
	tn.measure("healthcheck_cost", cost)
}

// callCost runs argv inside n `calls` times and gives the medians of wall
// time and CPU time (user+system) of one call, from the process's own
// rusage (nsenter execs the command in its own process, so the figures
// include nsenter's few milliseconds; under qemu-user they are qemu's and
// only indicative). Not its peak RSS: a child Go starts inherits the test
// process's high-water mark (vfork), so ru_maxrss says nothing here.
func callCost(n *node, calls int, argv ...string) (map[string]float64, error) {
	var wall, cpu []float64
	for range calls {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		args, env := n.execArgv(argv...)
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Env = env
		start := time.Now()
		out, err := cmd.CombinedOutput()
		d := time.Since(start)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("%v: %s", err, out)
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		wall = append(wall, float64(d.Microseconds())/1000)
		cpu = append(cpu, float64((time.Duration(ru.Utime.Nano())+time.Duration(ru.Stime.Nano())).Microseconds())/1000)
	}
	med := func(v []float64) float64 { slices.Sort(v); return v[len(v)/2] }
	return map[string]float64{"wall_ms": med(wall), "cpu_ms": med(cpu)}, nil
}
