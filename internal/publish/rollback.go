package publish

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"dagger/mikrotik-tailscale/internal/release"
)

// Rollback points repo:stable at an existing release tag, typically an
// older one after a release misbehaved on routers. Nothing is built or
// pushed except the :stable tag; the tag must already be in the registry,
// and release tags stay immutable. This is the only way :stable moves
// backwards: Publish never does it on its own.
func Rollback(ctx context.Context, repo, tag string, opts ...remote.Option) (Result, error) {
	opts = append(opts, remote.WithContext(ctx))
	if _, err := release.Parse(tag); err != nil {
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
