package publish

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"dagger/mikrotik-tailscale/internal/release"
)

// WithdrawnPrefix marks a release a rollback went back from:
// withdrawn-<release tag> points at that release's index. Publish never
// moves :stable to a withdrawn release (a restarted pipeline re-running
// it), so a rollback stays in force until a newer release is published.
// The marker is not a release tag: release.Parse ignores it.
const WithdrawnPrefix = "withdrawn-"

// Rollback points repo:stable at an existing release tag, typically an
// older one after a release misbehaved on routers, and marks every newer
// release withdrawn (WithdrawnPrefix). Nothing is built or pushed except
// those tags; the tag must already be in the registry, and release tags
// stay immutable. This is the only way :stable moves backwards: Publish
// never does it on its own.
func Rollback(ctx context.Context, repo, tag string, opts ...remote.Option) (Result, error) {
	opts = append(opts, remote.WithContext(ctx))
	target, err := release.Parse(tag)
	if err != nil {
		return Result{}, fmt.Errorf("rollback: %w", err)
	}
	if err := CheckRepository(repo); err != nil {
		return Result{}, fmt.Errorf("rollback: %w", err)
	}
	r, err := name.NewRepository(repo)
	if err != nil {
		return Result{}, fmt.Errorf("rollback: invalid repository %q: %w", repo, err)
	}
	ref, stable := r.Tag(tag), r.Tag(StableTag)
	res := Result{Ref: ref.String(), StableRef: stable.String()}
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		if isNotFound(err) {
			return res, fmt.Errorf("rollback: %s is not in the registry; only published releases can become stable", ref)
		}
		return res, fmt.Errorf("rollback: reading %s: %w", ref, err)
	}
	res.Digest = desc.Digest.String()
	// Withdraw the newer releases first: should moving :stable fail, a
	// re-run of one of them still cannot move it forward again.
	if res.Withdrawn, err = withdrawNewer(r, target, opts); err != nil {
		return res, fmt.Errorf("rollback: %w (%s not moved)", err, stable)
	}
	if res.StableDigest, _, err = head(stable, opts); err != nil {
		return res, fmt.Errorf("rollback: checking %s: %w", stable, err)
	}
	if res.StableDigest == res.Digest {
		return res, nil
	}
	if err := remote.Tag(stable, desc, opts...); err != nil {
		return res, fmt.Errorf("rollback: moving %s to %s: %w", stable, ref, err)
	}
	res.StableMoved = true
	if res.StableDigest, _, err = head(stable, opts); err != nil {
		return res, fmt.Errorf("rollback: reading back %s: %w", stable, err)
	}
	if res.StableDigest != res.Digest {
		return res, fmt.Errorf("rollback: %s reads back as %s, want %s", stable, res.StableDigest, res.Digest)
	}
	return res, nil
}

// withdrawNewer tags every release newer than target withdrawn and
// returns the markers' names.
func withdrawNewer(r name.Repository, target release.Tag, opts []remote.Option) ([]string, error) {
	tags, err := remote.List(r, opts...)
	if err != nil && !isNotFound(err) {
		return nil, fmt.Errorf("listing tags of %s: %w", r, err)
	}
	var marked []string
	for _, s := range tags {
		t, err := release.Parse(s)
		if err != nil || release.Compare(t, target) <= 0 {
			continue
		}
		desc, err := remote.Get(r.Tag(s), opts...)
		if err != nil {
			return marked, fmt.Errorf("reading %s: %w", r.Tag(s), err)
		}
		marker := r.Tag(WithdrawnPrefix + s)
		if err := remote.Tag(marker, desc, opts...); err != nil {
			return marked, fmt.Errorf("marking %s withdrawn: %w", r.Tag(s), err)
		}
		marked = append(marked, marker.TagStr())
	}
	return marked, nil
}
