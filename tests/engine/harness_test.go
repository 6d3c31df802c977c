//go:build engine

// Package engine is the engine suite: it calls this module's Dagger
// functions through the real `dagger` CLI against whatever engine the CLI
// reaches (_EXPERIMENTAL_DAGGER_RUNNER_HOST or its default), the way the
// README and .woodpecker/ call them, and checks what they return against
// the host suite's artifacts: the pipeline must publish the very bytes the
// host suite proves. Run it with tests/engine/run.sh after or beside
// tests/run-all.sh (same ARTIFACTS_DIR); the comparisons wait for the host
// suite (host_test.go).
//
// Environment:
//   - ARTIFACTS_DIR (required): the host suite's artifacts; this suite
//     adds engine/ (exports, call logs, report.json) there.
//   - ENGINE_MODULE_ARGS: constructor flags for every call, e.g. the
//     tag-only base images a local engine serves:
//     "--golang-image=golang:1.27.3-bookworm --debian-image=debian:12.15-slim".
//   - ENGINE_RESTART: a shell command that restarts the engine and keeps
//     its state. Required in CI; elsewhere its checks are skipped when it
//     is unset.
//   - ENGINE_RESET: a shell command that wipes the engine's state (build
//     cache and cache volumes) and leaves it running again. Required in CI;
//     elsewhere its checks are skipped when it is unset.
//   - ENGINE_REGISTRY_HOST: the address of this machine as the engine's
//     containers reach it (default: a private IPv4 address of this
//     machine, the engine's bridge first).
package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"dagger/mikrotik-tailscale/internal/suitereport"
)

// repoRoot is the module: `dagger call` runs there.
const repoRoot = "../.."

var (
	artifactsDir string // the host suite's artifacts
	engineDir    string // this suite's outputs, under artifactsDir
	moduleArgs   []string
)

func TestMain(m *testing.M) {
	artifactsDir = os.Getenv("ARTIFACTS_DIR")
	if artifactsDir == "" {
		fmt.Fprintln(os.Stderr, "ARTIFACTS_DIR is not set: run the host suite first (ARTIFACTS_DIR=DIR bash tests/run-all.sh), then this suite with the same ARTIFACTS_DIR (tests/engine/run.sh)")
		os.Exit(2)
	}
	abs, err := filepath.Abs(artifactsDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	artifactsDir = abs
	engineDir = filepath.Join(artifactsDir, "engine")
	if err := os.MkdirAll(filepath.Join(engineDir, "logs"), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	moduleArgs = strings.Fields(os.Getenv("ENGINE_MODULE_ARGS"))
	os.Exit(m.Run())
}

// call is one finished `dagger call`.
type call struct {
	Args     []string
	Stdout   string
	Stderr   string // the progress log (also kept under engine/logs)
	Err      error
	Duration time.Duration
}

func (c call) String() string {
	return fmt.Sprintf("dagger %s: %v (%s)\nstdout:\n%s\nstderr (last 60 lines):\n%s",
		strings.Join(c.Args, " "), c.Err, c.Duration.Round(time.Second), c.Stdout, lastLines(c.Stderr, 60))
}

var (
	callMu  sync.Mutex
	callSeq int
)

// daggerCall runs `dagger --progress=plain call <module args> args...` in
// the module with a timeout and records its duration in the report under
// name.
func daggerCall(t testing.TB, name string, timeout time.Duration, args ...string) call {
	t.Helper()
	return daggerCLI(t, name, timeout, append(append([]string{"call"}, moduleArgs...), args...)...)
}

// daggerCLI runs `dagger --progress=plain args...` in the module.
func daggerCLI(t testing.TB, name string, timeout time.Duration, args ...string) call {
	t.Helper()
	argv := append([]string{"--progress=plain"}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "dagger", argv...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "DO_NOT_TRACK=1", "DAGGER_NO_NAG=1", "NO_COLOR=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	c := call{Args: args, Stdout: stripANSI(out.String()), Stderr: stripANSI(errb.String()), Err: err, Duration: time.Since(start)}
	if ctx.Err() != nil {
		c.Err = fmt.Errorf("timed out after %s: %v", timeout, err)
	}
	callMu.Lock()
	callSeq++
	logFile := filepath.Join(engineDir, "logs", fmt.Sprintf("%02d-%s.log", callSeq, name))
	callMu.Unlock()
	_ = os.WriteFile(logFile, []byte(c.String()+"\n\nfull stderr:\n"+c.Stderr), 0o644)
	t.Logf("dagger %s: %s (%v), log %s", strings.Join(args, " "), c.Duration.Round(time.Second), c.Err, logFile)
	mergeReport(t, map[string]any{"calls": map[string]any{name: map[string]any{
		"seconds": c.Duration.Round(100 * time.Millisecond).Seconds(),
		"ok":      c.Err == nil,
	}}})
	return c
}

// mustCall is daggerCall that fails the test when the call fails.
func mustCall(t testing.TB, name string, timeout time.Duration, args ...string) call {
	t.Helper()
	c := daggerCall(t, name, timeout, args...)
	if c.Err != nil {
		t.Fatalf("%s", c)
	}
	return c
}

// mergeReport adds measurements to ARTIFACTS_DIR/engine/report.json.
func mergeReport(t testing.TB, patch map[string]any) {
	t.Helper()
	if err := suitereport.Merge(filepath.Join(engineDir, "report.json"), patch); err != nil {
		t.Fatal(err)
	}
}

// exportPath is a fresh path under engine/exports for an exported file or
// directory.
func exportPath(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(engineDir, "exports", name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(p)
	return p
}

// hostArtifact is a file the host suite left, failing when it is missing.
func hostArtifact(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(artifactsDir, rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("host artifact %s missing: run the host suite with this ARTIFACTS_DIR first (%v)", rel, err)
	}
	return p
}

// ansi matches terminal escape sequences, which the CLI prints even with
// NO_COLOR in places (bold headings, faint notes).
var ansi = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)

func stripANSI(s string) string { return ansi.ReplaceAllString(s, "") }

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func readJSON(t testing.TB, text string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(text), v); err != nil {
		t.Fatalf("not JSON (%v):\n%s", err, text)
	}
}
