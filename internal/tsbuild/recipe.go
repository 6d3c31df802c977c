// Package tsbuild is the recipe for the Tailscale stage: how the pinned
// module is fetched, how the feature tag set is computed, and the exact
// `go build` and `upx` command lines per platform. The Dagger functions and
// the host test suite both execute these argv/env lists, so what the tests
// prove is what the pipeline runs.
package tsbuild

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"dagger/mikrotik-tailscale/internal/daemonlog"
	"dagger/mikrotik-tailscale/internal/platform"
)

// Output is the file name of the combined tailscaled+CLI binary.
const Output = "tailscale.combined"

// Argv0Names are the symlink names that select daemon or CLI at run time.
var Argv0Names = []string{"tailscaled", "tailscale"}

// ModDownloadArgs fetches the module zip through GOPROXY; the go command
// verifies it against GOSUMDB before printing its Dir.
func ModDownloadArgs(module, version string) []string {
	return []string{"go", "mod", "download", "-json", module + "@" + version}
}

// ModDownload is the part of `go mod download -json` output we use.
type ModDownload struct {
	Path    string
	Version string
	Dir     string
	Sum     string
	GoMod   string
	Error   string
}

// ParseModDownload decodes `go mod download -json` output and insists the
// download succeeded and produced an extracted directory.
func ParseModDownload(out []byte) (ModDownload, error) {
	var m ModDownload
	if err := json.Unmarshal(out, &m); err != nil {
		return m, fmt.Errorf("go mod download -json: %w", err)
	}
	if m.Error != "" {
		return m, fmt.Errorf("go mod download %s@%s: %s", m.Path, m.Version, m.Error)
	}
	if m.Dir == "" || m.Sum == "" {
		return m, fmt.Errorf("go mod download %s@%s: no directory or checksum in output", m.Path, m.Version)
	}
	return m, nil
}

// AddedFile is a file of this project's that the recipe adds to the copy
// of the Tailscale module before anything runs in it. No upstream file
// is changed.
type AddedFile struct {
	Path    string // relative to the module root
	Content string
}

// AddedFiles are the recipe's added files: the log verbosity filter that
// logtail would otherwise provide (internal/daemonlog).
func AddedFiles() []AddedFile {
	return []AddedFile{{Path: daemonlog.File, Content: daemonlog.Source()}}
}

// FeatureListArgs prints every feature upstream knows at this version.
func FeatureListArgs() []string {
	return []string{"go", "run", "./cmd/featuretags", "--list"}
}

// FeatureTagsArgs asks upstream's own tool for the minimal tag set that
// keeps exactly the allowlist (and what it requires).
func FeatureTagsArgs(allow []string) []string {
	return []string{"go", "run", "./cmd/featuretags", "--min", "--add=" + strings.Join(allow, ",")}
}

// Stamps returns the version strings linked into the binary. Without them
// `tailscale version` reports "<v>-ERR-BuildInfo". The long form marks the
// build as ours so bug reports are not mistaken for upstream binaries.
func Stamps(version string) (long, short string) {
	short = strings.TrimPrefix(version, "v")
	return short + "-mikrotik", short
}

// BuildArgs is the `go build` command line for o. Run it in the Tailscale
// module directory; out is the output path.
//
// With the zero Options, -gcflags=all=-l disables inlining everywhere
// (about 600 kB smaller after UPX); o.InlineHot adds GCFlags' per-pattern
// flags after it. -trimpath drops host paths; -s -w drops symbols and
// DWARF.
func BuildArgs(version string, tags []string, out string, o Options) []string {
	long, short := Stamps(version)
	ldflags := fmt.Sprintf("-s -w -X tailscale.com/version.longStamp=%s -X tailscale.com/version.shortStamp=%s", long, short)
	return slices.Concat(
		[]string{"go", "build", "-trimpath"},
		GCFlags(o),
		[]string{
			"-ldflags=" + ldflags,
			"-tags=" + strings.Join(tags, ","),
			"-o", out,
			"./cmd/tailscaled",
		},
	)
}

// BuildEnv is the environment for BuildArgs: a static cross-compile for
// the arch, natively on the build host (no emulation).
func BuildEnv(a platform.Arch) []string { return a.GoEnv() }

// UPXArgs compresses the binary in place. LZMA at the highest level gives
// the smallest file; decompression happens once per process start. A
// build with Options.NoCompress skips this step.
func UPXArgs(path string) []string {
	return []string{"upx", "-q", "--lzma", "--best", path}
}
