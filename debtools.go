package main

import (
	"context"
	"path"

	"dagger/mikrotik-tailscale/internal/cacerts"
	"dagger/mikrotik-tailscale/internal/dagger"
	"dagger/mikrotik-tailscale/internal/debtools"
	"dagger/mikrotik-tailscale/internal/tsbuild"
)

// debianTools is the Debian container on the engine's own platform with
// the pinned upx-ucl installed and the pinned ca-certificates package
// downloaded: the tools the host suite uses, at the same versions.
func (m *MikrotikTailscale) debianTools() *dagger.Container {
	return fromBase(m.DebianImage).
		WithNewFile(debtools.BackportsList, debtools.BackportsLine).
		WithExec(debtools.AptArgs())
}

// upx packs an executable with the pinned UPX and tests the result. UPX
// packs any architecture's ELF, so this runs natively whatever the target.
func (m *MikrotikTailscale) upx(bin *dagger.File) *dagger.File {
	const file = "/work/bin"
	return m.debianTools().
		WithFile(file, bin, dagger.ContainerWithFileOpts{Permissions: 0o755}).
		WithExec(tsbuild.UPXArgs(file)).
		WithExec(debtools.UPXTestArgs(file)).
		File(file)
}

// maybeUPX packs bin unless the options ship it uncompressed.
func (m *MikrotikTailscale) maybeUPX(bin *dagger.File, o tsbuild.Options) *dagger.File {
	if o.NoCompress {
		return bin
	}
	return m.upx(bin)
}

// caBundle is the image's CA bundle, built from the pinned ca-certificates
// package's files (never from the container's own trust store, which the
// engine may extend with its host's CAs) and checked.
func (m *MikrotikTailscale) caBundle(ctx context.Context) (*dagger.File, error) {
	const out = "/out/ca-certificates.crt"
	f := m.debianTools().
		WithExec([]string{"mkdir", "-p", path.Dir(out)}).
		WithExec(cacerts.BundleArgs(path.Join(debtools.DebDir, "ca-certificates_*.deb"), out, cacerts.Roots)).
		File(out)
	text, err := f.Contents(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := cacerts.Check([]byte(text), cacerts.Roots); err != nil {
		return nil, err
	}
	return f, nil
}
