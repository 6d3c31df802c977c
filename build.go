package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"dagger/mikrotik-tailscale/internal/busybox"
	"dagger/mikrotik-tailscale/internal/dagger"
	"dagger/mikrotik-tailscale/internal/layout"
	"dagger/mikrotik-tailscale/internal/pins"
	"dagger/mikrotik-tailscale/internal/platform"
	"dagger/mikrotik-tailscale/internal/tsbuild"
)

// Build assembles the FROM-scratch image for one platform: BusyBox and the
// CA bundle first, then /usr/local/bin (binary plus its two argv[0] links)
// as a single final layer. Every file carries the commit time, so the same
// commit gives the same image.
func (m *MikrotikTailscale) Build(
	ctx context.Context,
	// Target platform: amd64, arm64, arm/v7 or arm/v5 (linux/ prefix and
	// aliases such as aarch64, armv7, armel, x86_64 accepted).
	// +default="arm64"
	arch string,
	// org.opencontainers.image.version: the release tag. Defaults to
	// v<tailscale>-dev.
	// +optional
	version string,
	// org.opencontainers.image.revision: the commit hash.
	// +optional
	revision string,
	// Commit time (RFC 3339, e.g. from `git log -1 --format=%cI`): the
	// org.opencontainers.image.created label and every file's timestamp.
	// Defaults to the Unix epoch, which keeps builds reproducible.
	// +optional
	created string,
	// org.opencontainers.image.source: the repository URL.
	// +optional
	sourceURL string,
	// Re-enable inlining in the standard library and the per-packet code:
	// about +0.45 MB after UPX for 2-4x faster packet parsing and
	// filtering (docs/PERFORMANCE.md). Not covered by the default budgets.
	// +default=false
	inlineHot bool,
	// UPX-pack tailscale.combined and BusyBox: about 4x smaller on flash,
	// at ~14 MB of unshareable RAM (docs/PERFORMANCE.md).
	// +default=true
	compress bool,
) (*dagger.Container, error) {
	a, err := platform.Parse(arch)
	if err != nil {
		return nil, err
	}
	meta, err := imageMeta(version, revision, created, sourceURL)
	if err != nil {
		return nil, err
	}
	src, review, err := reviewedSource(ctx)
	if err != nil {
		return nil, err
	}
	meta.Features = append(review.Included, review.Dependencies...)
	applets, err := m.applets(ctx)
	if err != nil {
		return nil, err
	}
	layers, err := layout.Layers(applets)
	if err != nil {
		return nil, err
	}
	if err := layout.Validate(layers); err != nil {
		return nil, err
	}
	o := tsbuild.Options{InlineHot: inlineHot, NoCompress: !compress}
	bb, err := m.Busybox(ctx, a.Name, compress)
	if err != nil {
		return nil, err
	}
	files := map[layout.Source]*dagger.File{
		layout.FromTailscale: maybeUPX(buildTailscale(src, a, review, o), o),
		layout.FromBusyBox:   bb.File(layout.BusyBox),
		layout.FromCACerts:   dag.Container().From(pins.AlpineImage).File("/" + layout.CACerts),
	}
	ctr := dag.Container(dagger.ContainerOpts{Platform: dagger.Platform(a.Platform)})
	for _, l := range layers {
		ctr = ctr.WithDirectory("/", layerDirectory(l, files, meta.Created))
	}
	for _, kv := range layout.Env() {
		k, v, _ := strings.Cut(kv, "=")
		ctr = ctr.WithEnvVariable(k, v)
	}
	for k, v := range layout.Labels(meta) {
		ctr = ctr.WithLabel(k, v)
	}
	return ctr.WithEntrypoint(layout.Entrypoint()).WithDefaultArgs(layout.Cmd()), nil
}

// layerDirectory turns one layer of the recipe into a directory that is
// added to the image in one step.
func layerDirectory(l layout.Layer, files map[layout.Source]*dagger.File, created time.Time) *dagger.Directory {
	d := dag.Directory()
	for _, e := range l.Entries {
		switch e.Kind {
		case layout.Dir:
			d = d.WithNewDirectory(e.Path, dagger.DirectoryWithNewDirectoryOpts{Permissions: int(e.Mode.Perm())})
		case layout.File:
			if e.From == "" {
				d = d.WithNewFile(e.Path, e.Content, dagger.DirectoryWithNewFileOpts{Permissions: int(e.Mode.Perm())})
				continue
			}
			d = d.WithFile(e.Path, files[e.From], dagger.DirectoryWithFileOpts{Permissions: int(e.Mode.Perm())})
		case layout.Symlink:
			d = d.WithSymlink(e.Target, e.Path)
		}
	}
	return d.WithTimestamps(int(created.Unix()))
}

// applets reads the BusyBox applet list from the repository.
func (m *MikrotikTailscale) applets(ctx context.Context) ([]string, error) {
	text, err := m.Source.File(busybox.ListFile).Contents(ctx)
	if err != nil {
		return nil, err
	}
	list, err := busybox.ParseList(text)
	if err != nil {
		return nil, err
	}
	return busybox.Names(list), nil
}

// imageMeta validates the label inputs.
func imageMeta(version, revision, created, sourceURL string) (layout.Meta, error) {
	meta := layout.Meta{
		Version:   version,
		Revision:  revision,
		Source:    sourceURL,
		Tailscale: strings.TrimPrefix(pins.TailscaleVersion, "v"),
		Created:   time.Unix(0, 0).UTC(),
	}
	if meta.Version == "" {
		meta.Version = pins.TailscaleVersion + "-dev"
	}
	if created != "" {
		t, err := time.Parse(time.RFC3339, created)
		if err != nil {
			return meta, fmt.Errorf("--created %q is not RFC 3339 (e.g. 2026-06-02T15:54:52+02:00, from `git log -1 --format=%%cI`): %w", created, err)
		}
		meta.Created = t
	}
	return meta, nil
}

// Tarball is the image for one platform as a file RouterOS imports with
// `/container add file=...`: a docker-archive with uncompressed layers
// (RouterOS rejects multi-platform and gzip'd OCI archives).
func (m *MikrotikTailscale) Tarball(
	ctx context.Context,
	// Target platform: amd64, arm64, arm/v7 or arm/v5.
	// +default="arm64"
	arch string,
	// org.opencontainers.image.version; defaults to v<tailscale>-dev.
	// +optional
	version string,
	// See build --inline-hot.
	// +default=false
	inlineHot bool,
	// See build --compress.
	// +default=true
	compress bool,
) (*dagger.File, error) {
	ctr, err := m.Build(ctx, arch, version, "", "", "", inlineHot, compress)
	if err != nil {
		return nil, err
	}
	return routerOSTarball(ctr), nil
}

// Tarballs builds every platform and returns a directory with one RouterOS
// tarball each (mikrotik-tailscale-<arch>.tar).
func (m *MikrotikTailscale) Tarballs(
	ctx context.Context,
	// org.opencontainers.image.version; defaults to v<tailscale>-dev.
	// +optional
	version string,
	// See build --inline-hot.
	// +default=false
	inlineHot bool,
	// See build --compress.
	// +default=true
	compress bool,
) (*dagger.Directory, error) {
	out := dag.Directory()
	for _, a := range platform.All() {
		ctr, err := m.Build(ctx, a.Name, version, "", "", "", inlineHot, compress)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.Name, err)
		}
		out = out.WithFile("mikrotik-tailscale-"+a.Dir+".tar", routerOSTarball(ctr))
	}
	return out, nil
}

// routerOSTarball exports a single-platform image the way RouterOS wants it.
func routerOSTarball(ctr *dagger.Container) *dagger.File {
	return ctr.AsTarball(dagger.ContainerAsTarballOpts{
		MediaTypes:        dagger.ImageMediaTypesDockerMediaTypes,
		ForcedCompression: dagger.ImageLayerCompressionUncompressed,
	})
}
