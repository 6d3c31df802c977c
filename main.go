// A Dagger module that builds, checks and publishes the smallest practical
// Tailscale container image for MikroTik RouterOS containers.
//
// The functions here only turn recipes from internal/ into container
// operations; the recipes themselves are plain Go, unit-tested, and proven
// on a host by the tests/ suite.
package main

import (
	"dagger/mikrotik-tailscale/internal/dagger"
)

// MikrotikTailscale builds a FROM-scratch Tailscale image (a few MB) for
// RouterOS on linux/arm64, linux/arm/v7, linux/arm/v5 and linux/amd64.
type MikrotikTailscale struct {
	// The repository checkout: BusyBox applet list and commit metadata.
	Source *dagger.Directory
}

func New(
	// The repository checkout. Defaults to the module's own repository.
	// +defaultPath="/"
	// +ignore=["artifacts", "**/*.raw"]
	source *dagger.Directory,
) *MikrotikTailscale {
	return &MikrotikTailscale{Source: source}
}
