package main

import (
	"context"

	"dagger/mikrotik-tailscale/internal/unittest"
)

// Run the unit tests of the pipeline's rules (every internal package) in the Go container.
//
// The required check runs this before pr-check, so a change that breaks
// a pin rule, the feature review or the image layout fails without a
// build. Returns go test's output.
func (m *MikrotikTailscale) Test(ctx context.Context) (string, error) {
	return m.goBuilder().
		WithDirectory(unittest.Dir, m.Source).
		WithWorkdir(unittest.Dir).
		WithExec(unittest.Args()).
		Stdout(ctx)
}
