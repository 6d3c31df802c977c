package smoke

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"dagger/mikrotik-tailscale/internal/busybox"
	"dagger/mikrotik-tailscale/internal/layout"
)

func TestScriptStartsTheEntrypointAndChecksVersion(t *testing.T) {
	s := Script("1.104.5")
	for _, want := range []string{
		"'/usr/local/bin/start' >\"$log\"",
		"sock=/var/run/tailscale/tailscaled.sock",
		`[ "$v" = '1.104.5' ]`,
		"tailscale set --advertise-routes=192.168.88.0/24 --advertise-exit-node",
		"echo SMOKE OK",
		"out=$(/bin/tshealth 2>&1) && fail",
		`*"NeedsLogin"*) echo "ok: health probe logged out`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q", want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	if got := shellQuote("it's"); got != `'it'\''s'` {
		t.Fatalf("shellQuote = %s", got)
	}
}

// The script is valid sh and fails loudly when the daemon cannot start:
// run it with an entrypoint that prints to the daemon log and exits; the
// failure report carries the script's reason and that log.
func TestScriptFailsWhenDaemonDies(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(sh, "-n", "-c", Script("1.0.0")).CombinedOutput(); err != nil {
		t.Fatalf("sh -n: %v\n%s", err, out)
	}
	root := t.TempDir()
	// Point the script's absolute paths at a temp root by rewriting them.
	s := strings.ReplaceAll(Script("1.0.0"), "/usr/local/bin/", root+"/")
	s = strings.ReplaceAll(s, "/var/run/tailscale", root)
	// This host has no image applets: the probe's answer without a daemon.
	s = strings.ReplaceAll(s, layout.HealthCheck, filepath.Join(root, "tshealth"))
	log := filepath.Join(root, "daemon.log")
	s = strings.ReplaceAll(s, shellQuote(LogFile), shellQuote(log))
	for name, text := range map[string]string{
		"start":    "#!/bin/sh\necho boom\necho bang >&2\nexit 3\n",
		"tshealth": "#!/bin/sh\necho 'tshealth: tailscaled is not running' >&2\nexit 1\n",
	} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(sh, "-c", s)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		t.Fatalf("script did not fail: %v\n%s", err, stdout.String())
	}
	logText, rerr := os.ReadFile(log)
	if rerr != nil {
		t.Fatal(rerr)
	}
	rep := Run{ExitCode: exitErr.ExitCode(), Stdout: stdout.String(), Stderr: stderr.String(), Log: string(logText)}.Err()
	if rep == nil {
		t.Fatal("a failed run reported no error")
	}
	for _, want := range []string{"smoke script exited 1", "SMOKE FAIL: tailscaled exited", "--- stderr", "boom", "bang"} {
		if !strings.Contains(rep.Error(), want) {
			t.Errorf("report lacks %q:\n%s", want, rep)
		}
	}
}

func TestRunErr(t *testing.T) {
	if err := (Run{Stdout: "ok: x\n" + OK + "\n"}).Err(); err != nil {
		t.Fatalf("passing run: %v", err)
	}
	// Exit 0 without the OK line is a failure (the script was cut short).
	err := Run{Stdout: "ok: x\n", Stderr: "sh: oops"}.Err()
	if err == nil || !strings.Contains(err.Error(), "exited 0 without") || !strings.Contains(err.Error(), "sh: oops") {
		t.Fatalf("cut-short run: %v", err)
	}
	// A non-zero exit fails even if the OK line is there.
	if err := (Run{ExitCode: 2, Stdout: OK}).Err(); err == nil {
		t.Fatal("exit 2 passed")
	}
	// Only the last LogLines lines of the daemon log are shown; empty
	// streams say so.
	var log strings.Builder
	for i := 1; i <= LogLines+5; i++ {
		fmt.Fprintf(&log, "line %d\n", i)
	}
	msg := Run{ExitCode: 1, Log: log.String()}.Err().Error()
	if strings.Contains(msg, "line 5\n") || !strings.Contains(msg, "line 6\n") || !strings.Contains(msg, fmt.Sprintf("line %d", LogLines+5)) {
		t.Fatalf("log tail wrong:\n%s", msg)
	}
	if !strings.Contains(msg, "--- stdout\n(empty)") {
		t.Fatalf("empty stdout not marked:\n%s", msg)
	}
}

func TestPassed(t *testing.T) {
	if !Passed("ok: x\nSMOKE OK\n") || Passed("SMOKE OK\nSMOKE FAIL: y") {
		t.Fatal("Passed misreads output")
	}
}

// The image's applet list must keep everything the script runs.
func TestAppletListHasWhatTheScriptNeeds(t *testing.T) {
	text, err := os.ReadFile(filepath.Join("..", "..", busybox.ListFile))
	if err != nil {
		t.Fatal(err)
	}
	list, err := busybox.ParseList(string(text))
	if err != nil {
		t.Fatal(err)
	}
	names := busybox.Names(list)
	for _, a := range Applets {
		if !slices.Contains(names, a) {
			t.Errorf("%s lacks %q, which the smoke script runs", busybox.ListFile, a)
		}
	}
}
