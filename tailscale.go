package main

import (
	"context"
	"fmt"
	"strings"

	"dagger/mikrotik-tailscale/internal/dagger"
	"dagger/mikrotik-tailscale/internal/features"
	"dagger/mikrotik-tailscale/internal/pins"
	"dagger/mikrotik-tailscale/internal/platform"
	"dagger/mikrotik-tailscale/internal/tsbuild"
	"dagger/mikrotik-tailscale/internal/tsstage"
)

const (
	goModCache   = "/go/pkg/mod"
	goBuildCache = "/root/.cache/go-build"
	// The module zip is unpacked outside the cache volume so the source is
	// part of the container's own filesystem, never a pruned cache.
	tsModCache = "/src/modcache"
	tsSrc      = "/src/tailscale"
	tsOut      = "/out/" + tsbuild.Output
)

// Build the combined tailscaled and tailscale binary for one platform.
//
// Cross-compiled from the pinned release with the reviewed feature tags,
// -gcflags=all=-l -trimpath -ldflags "-s -w", then packed with UPX.
func (m *MikrotikTailscale) Tailscale(
	ctx context.Context,
	// Target platform, as for build --arch (e.g. arm64, arm/v7).
	// +default="arm64"
	arch string,
	// Inline the standard library and the packet path again: about 0.45 MB more after UPX for 2-4x faster packet parsing and filtering.
	// +default=false
	inlineHot bool,
	// Pack with UPX: 4x smaller on flash, about 14 MB more private RAM.
	// +default=true
	compress bool,
	// Opt-in features to compile in beyond the reviewed minimum, e.g. relayserver,tailnetlock (choices: netstack, relayserver, tailnetlock, bakedroots; prices in docs/FEATURES.md).
	// +optional
	with []string,
) (*dagger.File, error) {
	a, err := platform.Parse(arch)
	if err != nil {
		return nil, err
	}
	opts, err := features.ParseWith(with)
	if err != nil {
		return nil, err
	}
	rv, err := m.reviewedSource(ctx, opts)
	if err != nil {
		return nil, err
	}
	o := tsbuild.Options{InlineHot: inlineHot, NoCompress: !compress}
	return m.maybeUPX(buildTailscale(rv.src, a, rv.review, o), o), nil
}

// reviewed is the checked Tailscale source and its feature review for
// one set of opt-ins.
type reviewed struct {
	src    *dagger.Container
	review features.Review
}

// reviewedSource is the checked Tailscale source and its feature review
// for the opt-ins in with.
func (m *MikrotikTailscale) reviewedSource(ctx context.Context, with []string) (reviewed, error) {
	src, err := m.tailscaleSource(ctx)
	if err != nil {
		return reviewed{}, err
	}
	review, err := featureReview(ctx, src, with)
	return reviewed{src, review}, err
}

// buildTailscale cross-compiles the raw combined binary for one platform.
func buildTailscale(src *dagger.Container, a platform.Arch, review features.Review, o tsbuild.Options) *dagger.File {
	return src.
		With(withEnv(tsbuild.BuildEnv(a))).
		WithExec(tsbuild.BuildArgs(pins.TailscaleVersion, review.Tags, tsOut, o)).
		File(tsOut)
}

// goBuilder is the golang container on the engine's native platform: Go
// cross-compiles, so the Tailscale build never runs under emulation.
func (m *MikrotikTailscale) goBuilder() *dagger.Container {
	return fromBase(m.GolangImage).
		WithMountedCache(goModCache, dag.CacheVolume("mikrotik-tailscale-go-mod")).
		WithMountedCache(goBuildCache, dag.CacheVolume("mikrotik-tailscale-go-build")).
		WithEnvVariable("GOTOOLCHAIN", "local").
		WithEnvVariable("GOFLAGS", "-mod=readonly")
}

// tailscaleSource fetches the pinned Tailscale module through the module
// proxy (the go command verifies it against the checksum database), copies
// it to a writable directory, adds the recipe's own files, and refuses a builder Go other than the
// pinned one or older than Tailscale requires.
func (m *MikrotikTailscale) tailscaleSource(ctx context.Context) (*dagger.Container, error) {
	dl := m.goBuilder().
		WithEnvVariable("GOMODCACHE", tsModCache).
		WithExec(tsbuild.ModDownloadArgs(pins.TailscaleModule, pins.TailscaleVersion))
	out, err := dl.Stdout(ctx)
	if err != nil {
		return nil, err
	}
	mod, err := tsbuild.ParseModDownload([]byte(out))
	if err != nil {
		return nil, err
	}
	src := dl.
		WithoutEnvVariable("GOMODCACHE").
		WithExec([]string{"cp", "-R", mod.Dir, tsSrc}).
		WithExec([]string{"chmod", "-R", "u+w", tsSrc}).
		WithWorkdir(tsSrc)
	for _, f := range tsbuild.AddedFiles() {
		src = src.WithNewFile(tsSrc+"/"+f.Path, f.Content)
	}
	gomod, err := src.File("go.mod").Contents(ctx)
	if err != nil {
		return nil, err
	}
	if err := tsstage.CheckSource(outputIn(ctx, src), []byte(gomod), pins.GoVersion, pins.TailscaleVersion); err != nil {
		return nil, fmt.Errorf("%w (builder image %s)", err, m.GolangImage)
	}
	return src, nil
}

// outputIn runs a command in ctr and returns its stdout (tsstage.Output).
func outputIn(ctx context.Context, ctr *dagger.Container) tsstage.Output {
	return func(argv []string) (string, error) { return ctr.WithExec(argv).Stdout(ctx) }
}

// featureReview is the stage's feature review (tsstage.Review) in the
// source container.
func featureReview(ctx context.Context, src *dagger.Container, with []string) (features.Review, error) {
	review, _, err := tsstage.Review(outputIn(ctx, src), with)
	return review, err
}

// withEnv sets each KEY=VALUE on a container.
func withEnv(env []string) dagger.WithContainerFunc {
	return func(c *dagger.Container) *dagger.Container {
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			c = c.WithEnvVariable(k, v)
		}
		return c
	}
}
