package main

import (
	"context"
	"fmt"
	"path"
	"strings"

	"dagger/mikrotik-tailscale/internal/busybox"
	"dagger/mikrotik-tailscale/internal/dagger"
	"dagger/mikrotik-tailscale/internal/pins"
	"dagger/mikrotik-tailscale/internal/platform"
	"dagger/mikrotik-tailscale/internal/tsbuild"
)

const (
	bbWork    = "/src"
	bbOut     = "/out"
	bbHeaders = "/kernel-headers"
)

var bbSrc = path.Join(bbWork, busybox.SrcDir(pins.BusyBoxVersion))

// Busybox builds the image's debug toolbox for one platform: a static,
// UPX-compressed BusyBox with exactly the applets of
// busybox-applets.config, each with upstream's default features,
// cross-compiled on the engine's own platform (no emulation). Returns a
// directory with bin/busybox and one symlink bin/<applet> -> busybox per
// applet.
func (m *MikrotikTailscale) Busybox(
	ctx context.Context,
	// Target platform: amd64, arm64, arm/v7 or arm/v5 (linux/ prefix and
	// aliases such as aarch64, armv7, armel, x86_64 accepted).
	// +default="arm64"
	arch string,
	// Pack with UPX --lzma --best: about half the size, ~20 ms and ~640 kB
	// of private memory more per command (docs/BUSYBOX.md).
	// +default=true
	compress bool,
) (*dagger.Directory, error) {
	a, err := platform.Parse(arch)
	if err != nil {
		return nil, err
	}
	listText, err := m.Source.File(busybox.ListFile).Contents(ctx)
	if err != nil {
		return nil, err
	}
	list, err := busybox.ParseList(listText)
	if err != nil {
		return nil, err
	}

	builder, err := busyboxBuilder(ctx)
	if err != nil {
		return nil, err
	}
	src := busyboxSource(builder)
	scan, err := src.WithExec(busybox.SourceLinesArgs()).Stdout(ctx)
	if err != nil {
		return nil, err
	}
	ix, err := busybox.ParseSource(scan)
	if err != nil {
		return nil, err
	}
	sel, err := ix.Resolve(list)
	if err != nil {
		return nil, err
	}
	epochOut, err := src.WithExec(busybox.EpochArgs()).Stdout(ctx)
	if err != nil {
		return nil, err
	}
	epoch, err := busybox.ParseEpoch(epochOut)
	if err != nil {
		return nil, err
	}
	fragment, err := busybox.Fragment(busybox.Chosen, ix, sel)
	if err != nil {
		return nil, err
	}

	// Empty stdin: oldconfig fails instead of guessing if it has to ask.
	configured := src.
		With(withEnv(busybox.Env(epoch))).
		WithNewFile(path.Join(bbSrc, busybox.FragmentPath), fragment).
		WithExec(busybox.BaseConfigArgs()).
		WithExec(busybox.OldconfigArgs())
	final, err := configured.File(path.Join(bbSrc, ".config")).Contents(ctx)
	if err != nil {
		return nil, err
	}
	if err := busybox.CheckConfig(final, busybox.Chosen, ix, sel); err != nil {
		return nil, err
	}

	nproc, err := src.WithExec(busybox.NprocArgs()).Stdout(ctx)
	if err != nil {
		return nil, err
	}
	jobs, err := busybox.ParseJobs(nproc)
	if err != nil {
		return nil, err
	}
	headers, err := busybox.KernelHeadersArgs(a.Debian, bbHeaders)
	if err != nil {
		return nil, err
	}
	tc, err := busybox.CrossToolchain(a.Debian, bbHeaders)
	if err != nil {
		return nil, err
	}
	bin := configured.
		WithExec(headers).
		WithExec(busybox.MakeArgs(tc, jobs)).
		File(path.Join(bbSrc, busybox.Binary))

	// The binary asks itself for its applets, alone in an empty container
	// of its own platform (emulated by the engine where foreign).
	const probe = "/busybox"
	listed, err := dag.Container(dagger.ContainerOpts{Platform: dagger.Platform(a.Platform)}).
		WithFile(probe, bin, dagger.ContainerWithFileOpts{Permissions: 0o755}).
		WithExec(busybox.ListArgs(probe)).
		Stdout(ctx)
	if err != nil {
		return nil, err
	}
	if err := busybox.CheckList(listed, sel.Applets); err != nil {
		return nil, fmt.Errorf("%s: %w", a.Platform, err)
	}

	return dag.Container().
		From(pins.AlpineImage).
		WithFile(path.Join(bbOut, busybox.InstallPath), maybeUPX(bin, tsbuild.Options{NoCompress: !compress}), dagger.ContainerWithFileOpts{Permissions: 0o755}).
		WithWorkdir(bbOut).
		WithExec(busybox.LinkArgs(sel.Applets)).
		Directory(bbOut), nil
}

// busyboxBuilder is the Debian build container on the engine's own
// platform with the cross toolchains of every target installed: one layer
// that all four BusyBox builds share.
func busyboxBuilder(ctx context.Context) (*dagger.Container, error) {
	base := dag.Container().From(pins.DebianImage)
	buildArch, err := base.WithExec(busybox.BuildArchArgs()).Stdout(ctx)
	if err != nil {
		return nil, err
	}
	apt, err := busybox.AptArgs(strings.TrimSpace(buildArch), platform.DebianArches())
	if err != nil {
		return nil, err
	}
	return base.WithExec(apt), nil
}

// busyboxSource is the build container with the pinned release unpacked
// in bbSrc. The tarball is checked against pins.BusyBoxSHA256 before it is
// unpacked.
func busyboxSource(builder *dagger.Container) *dagger.Container {
	tarball := busybox.Tarball(pins.BusyBoxVersion)
	return builder.
		WithWorkdir(bbWork).
		WithFile(path.Join(bbWork, tarball), dag.HTTP(busybox.URL(pins.BusyBoxVersion))).
		WithNewFile(path.Join(bbWork, "SHA256SUMS"), busybox.SHA256Sums(pins.BusyBoxSHA256, tarball)).
		WithExec(busybox.VerifyArgs("SHA256SUMS")).
		WithExec(busybox.ExtractArgs(tarball)).
		WithWorkdir(bbSrc)
}
