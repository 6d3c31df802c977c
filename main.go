// A Dagger module that builds, checks and publishes the smallest practical
// Tailscale container image for MikroTik RouterOS containers.
//
// The functions here only turn recipes from internal/ into container
// operations; the recipes themselves are plain Go, unit-tested, and proven
// on a host by the tests/ suite.
package main

import (
	"dagger/mikrotik-tailscale/internal/baseimage"
	"dagger/mikrotik-tailscale/internal/dagger"
)

// Tailscale for MikroTik RouterOS: a FROM-scratch image of a few MB.
//
// Builds, checks and publishes it for linux/arm64, linux/arm/v7,
// linux/arm/v5 and linux/amd64.
type MikrotikTailscale struct {
	// The repository checkout: BusyBox applet list.
	// +private
	Source *dagger.Directory
	// +private
	GolangImage string
	// +private
	DebianImage string
}

// Configure the source checkout and the base images.
func New(
	// Repository checkout; defaults to this module's own.
	// +defaultPath="/"
	// +ignore=["artifacts", "**/*.raw"]
	source *dagger.Directory,
	// Go image that cross-compiles Tailscale. Behind a registry mirror, pass the mirror's copy of this image.
	// +default="golang:1.27.3-bookworm"
	golangImage string,
	// Debian image that builds BusyBox and runs UPX. Behind a registry mirror, pass the mirror's copy of this image.
	// +default="debian:12.15-slim@sha256:abd67ffcfa541b485a3dff59865ab629aa048a6c613e639d36e7456b0b229241"
	debianImage string,
) (*MikrotikTailscale, error) {
	if err := checkImageRefs(golangImage, debianImage); err != nil {
		return nil, err
	}
	return &MikrotikTailscale{Source: source, GolangImage: golangImage, DebianImage: debianImage}, nil
}

// fromBase starts a builder from a base image reference, without the
// image's CA updater (baseimage.CAUpdater: on engines with custom CAs it
// makes every exec seconds slower).
func fromBase(ref string) *dagger.Container {
	return dag.Container().From(ref).WithoutFile(baseimage.CAUpdater)
}

// checkImageRefs refuses a base image reference that is not pinned to a
// tag, before any work starts.
func checkImageRefs(golangImage, debianImage string) error {
	if err := baseimage.Check("golang-image", golangImage); err != nil {
		return err
	}
	return baseimage.Check("debian-image", debianImage)
}
