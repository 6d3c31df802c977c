#!/usr/bin/env bash
# The engine suite (tests/engine): every user-facing Dagger function of
# this module, called through the real `dagger` CLI on whatever engine it
# reaches, checked against the host suite's artifacts. Run it after the
# host suite (.ci/run does), or beside it, with the same ARTIFACTS_DIR: its
# last step waits (bounded) for the host suite's exit status in
# ARTIFACTS_DIR/host-suite.rc, then compares.
#
#   ARTIFACTS_DIR=/tmp/mt bash tests/run-all.sh
#   ARTIFACTS_DIR=/tmp/mt bash tests/engine/run.sh
#
# Needs: the dagger CLI (dagger.json's engineVersion) and an engine it
# reaches; Go (tests/run-all.sh sets it up). Optional: ENGINE_MODULE_ARGS
# (constructor flags, e.g. base images from a registry mirror),
# ENGINE_RESTART (a command that restarts the engine and keeps its state;
# without it the restarted-engine checks are skipped, except in CI where
# they fail), ENGINE_RESET (a command that wipes the engine's state; without it the
# wiped-engine checks are skipped, except in CI where they fail),
# ENGINE_REGISTRY_HOST (this machine's address as the engine's containers
# reach it). See tests/engine/harness_test.go.
set -euo pipefail
cd "$(dirname "$0")/../.."

: "${ARTIFACTS_DIR:?set ARTIFACTS_DIR to the artifacts of the host suite: ARTIFACTS_DIR=DIR bash tests/run-all.sh first}"
export ARTIFACTS_DIR
command -v dagger >/dev/null || { echo "no dagger CLI on PATH" >&2; exit 1; }
want=$(sed -n 's/.*"engineVersion": *"\(v[^"]*\)".*/\1/p' dagger.json)
version=$(dagger version)
echo "$version"
# A here-string, not a pipe: grep -q stops reading early (SIGPIPE under pipefail).
grep -q " ${want} " <<<"$version" || { echo "the dagger CLI is not ${want} (dagger.json's engineVersion)" >&2; exit 1; }

GO_VERSION=$(sed -n 's/^const GoVersion = "\(.*\)"$/\1/p' internal/pins/pins.go)
export GOTOOLCHAIN="go${GO_VERSION:?GoVersion not found in internal/pins/pins.go}"
go vet -tags engine ./tests/engine
# -parallel: the calls of a step wait on the engine side by side (go
# test's default is one per CPU). The full -v log goes to a file; the console gets test names, results and
# each test's own lines.
set +e
go test -tags engine -count=1 -timeout 85m -parallel 16 -v ./tests/engine 2>&1 | tee "$ARTIFACTS_DIR/engine-suite.log" |
  grep --line-buffered -E '^(=== RUN|--- |\s+--- |PASS|FAIL|ok|panic)|\.go:[0-9]+:'
rc=${PIPESTATUS[0]}
echo "engine suite: exit $rc (full log: $ARTIFACTS_DIR/engine-suite.log)"
exit "$rc"
