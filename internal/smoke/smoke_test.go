package smoke

import (
	"slices"

	"dagger/mikrotik-tailscale/internal/busybox"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestScriptStartsTheEntrypointAndChecksVersion(t *testing.T) {
	s := Script("1.104.5")
	for _, want := range []string{
		"'/usr/local/bin/start' '--statedir=/var/lib/tailscale'",
		"sock=/var/run/tailscale/tailscaled.sock",
		`[ "$v" = '1.104.5' ]`,
		"tailscale set --advertise-routes=192.168.88.0/24 --advertise-exit-node",
		"echo SMOKE OK",
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
// run it with a PATH whose tailscale* commands are stubs that exit.
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
	if err := os.WriteFile(filepath.Join(root, "start"), []byte("#!/bin/sh\necho boom\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sh, "-c", s).CombinedOutput()
	if err == nil || Passed(string(out)) || !strings.Contains(string(out), "tailscaled exited") || !strings.Contains(string(out), "boom") {
		t.Fatalf("script did not fail with the daemon log: %v\n%s", err, out)
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
