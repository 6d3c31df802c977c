// Package tsstage is the Tailscale stage's checks and feature review, run
// the same way by the Dagger shell (in a golang container) and by the host
// suite (in a directory): each passes its own Output.
package tsstage

import (
	"strings"

	"dagger/mikrotik-tailscale/internal/features"
	"dagger/mikrotik-tailscale/internal/tsbuild"
)

// Output runs argv in the Tailscale source tree and returns its stdout.
type Output func(argv []string) (string, error)

// GoVersionArgs asks the builder's Go for its version.
func GoVersionArgs() []string { return []string{"go", "env", "GOVERSION"} }

// CheckSource holds the builder's Go to the pin and to what the source's
// go.mod needs, before anything is built from it.
func CheckSource(run Output, gomod []byte, pinnedGo, tailscaleVersion string) error {
	out, err := run(GoVersionArgs())
	if err != nil {
		return err
	}
	goVersion := strings.TrimSpace(out)
	if err := tsbuild.CheckPinnedGo(goVersion, pinnedGo); err != nil {
		return err
	}
	return tsbuild.CheckGoVersion(goVersion, gomod, tailscaleVersion)
}

// Review runs upstream's featuretags tool in the source tree and checks
// the catalogue, with the chosen opt-ins (validated by
// features.ParseWith) moved to the allowlist, against it. It also returns
// upstream's feature list.
func Review(run Output, with []string) (features.Review, features.Known, error) {
	list, err := run(tsbuild.FeatureListArgs())
	if err != nil {
		return features.Review{}, nil, err
	}
	known, err := features.ParseList(list)
	if err != nil {
		return features.Review{}, nil, err
	}
	allow, omit := features.Catalogue(with)
	if err := features.Validate(known, allow, omit); err != nil {
		return features.Review{}, known, err
	}
	tags, err := run(tsbuild.FeatureTagsArgs(features.Names(allow)))
	if err != nil {
		return features.Review{}, known, err
	}
	review, err := features.ResolveWith(known, with, features.ParseTags(tags))
	return review, known, err
}
