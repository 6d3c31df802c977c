package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"strings"
	"time"

	"dagger/mikrotik-tailscale/internal/busybox"
	"dagger/mikrotik-tailscale/internal/dagger"
	"dagger/mikrotik-tailscale/internal/features"
	"dagger/mikrotik-tailscale/internal/imagestamp"
	"dagger/mikrotik-tailscale/internal/layout"
	"dagger/mikrotik-tailscale/internal/pins"
	"dagger/mikrotik-tailscale/internal/platform"
	"dagger/mikrotik-tailscale/internal/tsbuild"
)

// Build the FROM-scratch image for one platform.
//
// BusyBox and the CA bundle come first, then /usr/local/bin (the binary
// and its two argv[0] links) as a single final layer. Every file carries
// the commit time, so the same commit gives the same image.
func (m *MikrotikTailscale) Build(
	ctx context.Context,
	// Target platform: amd64, arm64, arm/v7 or arm/v5 (also with linux/, and aliases such as aarch64, armv7, armel, x86_64).
	// +default="arm64"
	arch string,
	// Version label (org.opencontainers.image.version); defaults to v<tailscale>-dev.
	// +optional
	version string,
	// Commit hash for the revision label.
	// +optional
	revision string,
	// Commit time in RFC 3339, as git log -1 --format=%cI prints it: the created label and every file's timestamp. Defaults to the Unix epoch, which keeps builds reproducible.
	// +optional
	created string,
	// Repository URL for the source label.
	// +optional
	sourceURL string,
	// Inline the standard library and the packet path again: about 0.45 MB more after UPX for 2-4x faster packet parsing and filtering. Not covered by the default size budgets.
	// +default=false
	inlineHot bool,
	// Pack tailscale.combined and BusyBox with UPX: 4x smaller on flash, about 14 MB more private RAM.
	// +default=true
	compress bool,
	// Opt-in features to compile in beyond the reviewed minimum, e.g. relayserver,tailnetlock (choices: netstack, relayserver, tailnetlock, bakedroots; prices in docs/FEATURES.md).
	// +optional
	with []string,
) (*dagger.Container, error) {
	a, err := platform.Parse(arch)
	if err != nil {
		return nil, err
	}
	meta, err := imageMeta(version, revision, created, sourceURL)
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
	return m.image(ctx, imageSpec{arch: a, meta: meta, inlineHot: inlineHot, compress: compress}, rv)
}

// imageSpec is one image to build: Build's flags, parsed and checked.
type imageSpec struct {
	arch      platform.Arch
	meta      layout.Meta
	inlineHot bool
	compress  bool
}

// devSpec is the image pr-check and the tailnet check build: the dev
// version label, the epoch, packed, nothing inlined.
func devSpec(a platform.Arch) imageSpec {
	meta, _ := imageMeta("", "", "", "") // empty inputs always parse
	return imageSpec{arch: a, meta: meta, compress: true}
}

// image assembles spec's image from the reviewed source (resolved once
// per call and shared by every platform).
func (m *MikrotikTailscale) image(ctx context.Context, spec imageSpec, rv reviewed) (*dagger.Container, error) {
	a, meta := spec.arch, spec.meta
	meta.Features = append(rv.review.Included, rv.review.Dependencies...)
	meta.With = rv.review.With
	layers, err := m.imageLayers(ctx)
	if err != nil {
		return nil, err
	}
	o := tsbuild.Options{InlineHot: spec.inlineHot, NoCompress: !spec.compress}
	bb, err := m.Busybox(ctx, a.Name, spec.compress)
	if err != nil {
		return nil, err
	}
	ca, err := m.caBundle(ctx)
	if err != nil {
		return nil, err
	}
	files := map[layout.Source]*dagger.File{
		layout.FromTailscale: m.maybeUPX(buildTailscale(rv.src, a, rv.review, o), o),
		layout.FromBusyBox:   bb.File(layout.BusyBox),
		layout.FromCACerts:   ca,
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
	// No Cmd: the start script gives tailscaled its flags (layout.DaemonFlags).
	return ctr.WithEntrypoint(layout.Entrypoint()), nil
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

// imageLayers is the image layout for the repository's BusyBox applet
// list (layout.ImageLayers).
func (m *MikrotikTailscale) imageLayers(ctx context.Context) ([]layout.Layer, error) {
	text, err := m.Source.File(busybox.ListFile).Contents(ctx)
	if err != nil {
		return nil, err
	}
	return layout.ImageLayers(text)
}

// defaultCreated is the time of a build without --created: the epoch, so
// such builds are reproducible too.
var defaultCreated = time.Unix(0, 0).UTC()

// imageMeta validates the label inputs.
func imageMeta(version, revision, created, sourceURL string) (layout.Meta, error) {
	meta := layout.Meta{
		Version:   version,
		Revision:  revision,
		Source:    sourceURL,
		Tailscale: strings.TrimPrefix(pins.TailscaleVersion, "v"),
		Created:   defaultCreated,
	}
	if meta.Version == "" {
		meta.Version = pins.TailscaleVersion + "-dev"
	}
	if created != "" {
		t, err := time.Parse(time.RFC3339, created)
		if err != nil {
			return meta, fmt.Errorf("--created %q is not RFC 3339 (e.g. 2026-06-02T15:54:52+02:00, as git log -1 --format=%%cI prints it): %w", created, err)
		}
		meta.Created = t
	}
	return meta, nil
}

// Export the image for one platform as a tarball RouterOS can import.
//
// A docker-archive with uncompressed layers, for /container add file=...
// (RouterOS rejects multi-platform and gzip'd OCI archives).
func (m *MikrotikTailscale) Tarball(
	ctx context.Context,
	// Target platform: amd64, arm64, arm/v7 or arm/v5 (also with linux/, and aliases such as aarch64, armv7, armel, x86_64).
	// +default="arm64"
	arch string,
	// Version label; defaults to v<tailscale>-dev.
	// +optional
	version string,
	// Inline the standard library and the packet path again (see build).
	// +default=false
	inlineHot bool,
	// Pack the binaries with UPX (see build).
	// +default=true
	compress bool,
	// Opt-in features beyond the reviewed minimum (see build).
	// +optional
	with []string,
) (*dagger.File, error) {
	a, err := platform.Parse(arch)
	if err != nil {
		return nil, err
	}
	spec, rv, err := m.tarballSpec(ctx, version, inlineHot, compress, with)
	if err != nil {
		return nil, err
	}
	spec.arch = a
	ctr, err := m.image(ctx, spec, rv)
	if err != nil {
		return nil, err
	}
	return m.routerOSTarball(ctx, ctr, defaultCreated)
}

// Export RouterOS tarballs for every platform into one directory.
//
// One mikrotik-tailscale-<arch>.tar per platform (amd64, arm64, armv7,
// armv5), each as tarball exports it.
func (m *MikrotikTailscale) Tarballs(
	ctx context.Context,
	// Version label; defaults to v<tailscale>-dev.
	// +optional
	version string,
	// Inline the standard library and the packet path again (see build).
	// +default=false
	inlineHot bool,
	// Pack the binaries with UPX (see build).
	// +default=true
	compress bool,
	// Opt-in features beyond the reviewed minimum (see build).
	// +optional
	with []string,
) (*dagger.Directory, error) {
	spec, rv, err := m.tarballSpec(ctx, version, inlineHot, compress, with)
	if err != nil {
		return nil, err
	}
	tars := make([]*dagger.File, len(platform.All()))
	err = platform.Each(func(i int, a platform.Arch) error {
		spec := spec
		spec.arch = a
		ctr, err := m.image(ctx, spec, rv)
		if err != nil {
			return err
		}
		tars[i], err = m.routerOSTarball(ctx, ctr, defaultCreated)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := dag.Directory()
	for i, a := range platform.All() {
		out = out.WithFile("mikrotik-tailscale-"+a.Dir+".tar", tars[i])
	}
	return out, nil
}

// tarballSpec is what tarball and tarballs build, but the platform: no
// revision, source or commit time (RouterOS imports show none).
func (m *MikrotikTailscale) tarballSpec(ctx context.Context, version string, inlineHot, compress bool, with []string) (imageSpec, reviewed, error) {
	meta, err := imageMeta(version, "", "", "")
	if err != nil {
		return imageSpec{}, reviewed{}, err
	}
	opts, err := features.ParseWith(with)
	if err != nil {
		return imageSpec{}, reviewed{}, err
	}
	rv, err := m.reviewedSource(ctx, opts)
	return imageSpec{meta: meta, inlineHot: inlineHot, compress: compress}, rv, err
}

// routerOSTarball exports a single-platform image the way RouterOS wants
// it, stamped with created and the recipe's layer history in place of
// the engine's build times and cache state.
func (m *MikrotikTailscale) routerOSTarball(ctx context.Context, ctr *dagger.Container, created time.Time) (*dagger.File, error) {
	stamp, err := m.imageStamp(ctx, created)
	if err != nil {
		return nil, err
	}
	return withCommitTime(ctx, ctr.AsTarball(dagger.ContainerAsTarballOpts{
		MediaTypes:        dagger.ImageMediaTypesDockerMediaTypes,
		ForcedCompression: dagger.ImageLayerCompressionUncompressed,
	}), stamp)
}

// imageStamp is what an exported image says about how it was made: the
// commit time, and the recipe's description of each layer in place of
// the engine's cache-record descriptions (internal/imagestamp).
func (m *MikrotikTailscale) imageStamp(ctx context.Context, created time.Time) (imagestamp.Stamp, error) {
	layers, err := m.imageLayers(ctx)
	if err != nil {
		return imagestamp.Stamp{}, err
	}
	return imagestamp.Stamp{Created: created, History: layout.History(layers)}, nil
}

// withCommitTime rewrites an exported image archive so its config and
// history carry the stamp instead of the time the engine built it and
// the state of its cache (internal/imagestamp): the same commit gives the
// same bytes on any engine, cold, warm or restarted.
func withCommitTime(ctx context.Context, archive *dagger.File, stamp imagestamp.Stamp) (*dagger.File, error) {
	name, err := commitTimeArchive(ctx, archive, stamp)
	if err != nil {
		return nil, err
	}
	return dag.CurrentModule().WorkdirFile(name).Sync(ctx)
}

// commitTimeArchive is withCommitTime's rewritten archive as a file in
// the module's working directory (where CurrentModule reads files from),
// named by its digest so that calls never collide.
func commitTimeArchive(ctx context.Context, archive *dagger.File, stamp imagestamp.Stamp) (string, error) {
	in, cleanup, err := exportFile(ctx, archive, "image.tar")
	if err != nil {
		return "", err
	}
	defer cleanup()
	raw, err := os.ReadFile(in)
	if err != nil {
		return "", err
	}
	fixed, err := imagestamp.RewriteBytes(raw, stamp)
	if err != nil {
		return "", err
	}
	name := fmt.Sprintf("image-%x.tar", sha256.Sum256(fixed))
	return name, os.WriteFile(name, fixed, 0o644)
}
