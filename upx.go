package main

import (
	"dagger/mikrotik-tailscale/internal/dagger"
	"dagger/mikrotik-tailscale/internal/pins"
	"dagger/mikrotik-tailscale/internal/tsbuild"
)

// upx compresses an executable in the pinned alpine container. UPX packs
// any architecture's ELF, so this runs natively whatever the target.
func upx(bin *dagger.File) *dagger.File {
	const path = "/work/bin"
	return dag.Container().
		From(pins.AlpineImage).
		WithExec([]string{"apk", "add", "--no-cache", "upx"}).
		WithFile(path, bin, dagger.ContainerWithFileOpts{Permissions: 0o755}).
		WithExec(tsbuild.UPXArgs(path)).
		WithExec([]string{"upx", "-t", path}).
		File(path)
}

// maybeUPX packs bin unless the options ship it uncompressed.
func maybeUPX(bin *dagger.File, o tsbuild.Options) *dagger.File {
	if tsbuild.UPXArgsWith("", o) == nil {
		return bin
	}
	return upx(bin)
}
