// Package publish pushes a released multi-platform image to a registry
// under the release rules:
//
//   - A versioned tag (v1.104.5-mt.1) is immutable. Publishing the same
//     index again is a no-op; publishing different content under an
//     existing tag is refused, never overwritten.
//   - :stable moves only after the versioned tag is pushed and read back,
//     so it never points at something half-published.
//   - :stable never moves backwards: if the repository already holds a
//     newer release tag, publishing an older one (a late re-run, a backport)
//     leaves :stable where it is.
//   - A rollback sticks: a release it withdrew (see Rollback) never moves
//     :stable again, not even when its pipeline runs again.
//
// Authentication and transport are the caller's, as remote.Options.
package publish

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"dagger/mikrotik-tailscale/internal/release"
)

// StableTag is the moving tag that follows the newest release.
const StableTag = "stable"

// PlatformDigest is one platform manifest of a published index.
type PlatformDigest struct {
	// Platform is os/arch[/variant], empty if the index entry has none.
	Platform string `json:"platform"`
	Digest   string `json:"digest"`
}

// Result is what a Publish call left in the registry.
type Result struct {
	// Ref is the versioned reference, e.g. ghcr.io/o/mikrotik-tailscale:v1.104.5-mt.1.
	Ref string `json:"ref"`
	// Digest is the index digest Ref points to.
	Digest string `json:"digest"`
	// StableRef is the repository's :stable reference.
	StableRef string `json:"stableRef"`
	// StableDigest is what :stable points to after the call ("" if it
	// does not exist). After a successful call it differs from Digest only
	// when StableHeldBy is set.
	StableDigest string `json:"stableDigest"`
	// Platforms are the index's manifests, in index order.
	Platforms []PlatformDigest `json:"platforms"`
	// Pushed is false when Ref already held this exact index (a re-run).
	Pushed bool `json:"pushed"`
	// StableMoved is true when this call changed :stable.
	StableMoved bool `json:"stableMoved"`
	// StableHeldBy names the newer release tag that kept :stable from
	// moving back to this one, or the marker of a rollback that withdrew
	// this one; empty otherwise.
	StableHeldBy string `json:"stableHeldBy,omitempty"`
	// Withdrawn are the markers a rollback set on the releases newer than
	// its target (Rollback only).
	Withdrawn []string `json:"withdrawn,omitempty"`
}

// BasicAuth authenticates with a username and password or token (GHCR,
// Gitea and most registries accept a token as the password).
func BasicAuth(username, password string) remote.Option {
	return remote.WithAuth(&authn.Basic{Username: username, Password: password})
}

// CheckPush asks the registry whether username may push to repo: the
// token exchange with push scope, then an upload started and cancelled
// (go-containerregistry's CheckPushPermission), so a wrong or missing
// password fails a release before anything is built. rt carries the
// requests (transport.New).
func CheckPush(repo, username, password string, rt http.RoundTripper) error {
	r, err := name.NewRepository(repo)
	if err != nil {
		return fmt.Errorf("invalid repository %q: %w", repo, err)
	}
	kc := staticKeychain{&authn.Basic{Username: username, Password: password}}
	if err := remote.CheckPushPermission(r.Tag(StableTag), kc, rt); err != nil {
		var te *transport.Error
		if errors.As(err, &te) && (te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden) {
			return fmt.Errorf("the registry does not let %q push to %s (check --username and --password): %w", username, repo, err)
		}
		// Not the credentials: the registry is unreachable, untrusted or
		// broken, and the hint must not send anyone after the password.
		return fmt.Errorf("could not check push access to %s: %w", repo, err)
	}
	return nil
}

// staticKeychain answers every registry with one authenticator.
type staticKeychain struct{ auth authn.Authenticator }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) { return k.auth, nil }

// CheckRepository fails when repo is not an image repository name
// (registry/path), so a release refuses it before building anything.
func CheckRepository(repo string) error {
	if _, err := name.NewRepository(repo); err != nil {
		return fmt.Errorf("invalid repository %q (expected registry/owner/name, e.g. gitea.example.com/owner/mikrotik-tailscale): %w", repo, err)
	}
	// Without a host the reference means Docker Hub, never this project's
	// registry: Docker's rule, a first component with "." or ":" or
	// "localhost".
	if host, _, ok := strings.Cut(repo, "/"); !ok || !(strings.ContainsAny(host, ".:") || host == "localhost") {
		return fmt.Errorf("invalid repository %q: it names no registry host, so it would mean Docker Hub (expected registry/owner/name, e.g. gitea.example.com/owner/mikrotik-tailscale)", repo)
	}
	return nil
}

// Published reports whether repo:tag already holds idx (a re-run: the
// release was checked when it was pushed, so there is nothing to check
// again), and fails when it holds anything else (tags are immutable).
// false with no error: the tag does not exist yet.
func Published(ctx context.Context, idx v1.ImageIndex, repo, tag string, opts ...remote.Option) (bool, error) {
	opts = append(opts, remote.WithContext(ctx))
	r, err := name.NewRepository(repo)
	if err != nil {
		return false, fmt.Errorf("publish: invalid repository %q: %w", repo, err)
	}
	ref := r.Tag(tag)
	want, err := idx.Digest()
	if err != nil {
		return false, fmt.Errorf("publish: digest of the index: %w", err)
	}
	have, exists, err := head(ref, opts)
	switch {
	case err != nil:
		return false, fmt.Errorf("publish: checking %s: %w", ref, err)
	case exists && have != want.String():
		return false, immutable(ref, have, want)
	}
	return exists, nil
}

// immutable is the refusal to put other content under a published tag.
func immutable(ref name.Tag, have string, want v1.Hash) error {
	return fmt.Errorf("publish: %s already exists with digest %s, and this build is %s: "+
		"release tags are immutable; release the change as a new revision (-mt.<N+1>)", ref, have, want)
}

// Publish pushes idx as repo:tag and then moves repo:stable to it, under
// the package's release rules. tag must be a release tag (see package
// release). On error, :stable has not been moved by this call; Result holds
// what is known so far.
func Publish(ctx context.Context, idx v1.ImageIndex, repo, tag string, opts ...remote.Option) (Result, error) {
	opts = append(opts, remote.WithContext(ctx))
	ours, err := release.Parse(tag)
	if err != nil {
		return Result{}, fmt.Errorf("publish: %w", err)
	}
	if err := CheckRepository(repo); err != nil {
		return Result{}, fmt.Errorf("publish: %w", err)
	}
	r, err := name.NewRepository(repo)
	if err != nil {
		return Result{}, fmt.Errorf("publish: invalid repository %q: %w", repo, err)
	}
	ref, stable := r.Tag(tag), r.Tag(StableTag)
	want, err := idx.Digest()
	if err != nil {
		return Result{}, fmt.Errorf("publish: digest of the index: %w", err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return Result{}, fmt.Errorf("publish: reading the index: %w", err)
	}
	if len(im.Manifests) == 0 {
		return Result{}, fmt.Errorf("publish: the index for %s lists no images", ref)
	}
	res := Result{Ref: ref.String(), Digest: want.String(), StableRef: stable.String()}
	for _, d := range im.Manifests {
		p := ""
		if d.Platform != nil {
			p = d.Platform.String()
		}
		res.Platforms = append(res.Platforms, PlatformDigest{Platform: p, Digest: d.Digest.String()})
	}

	// (a) An existing versioned tag is either this very index or a refusal.
	have, exists, err := head(ref, opts)
	if err != nil {
		return res, fmt.Errorf("publish: checking %s: %w", ref, err)
	}
	switch {
	case exists && have != want.String():
		return res, immutable(ref, have, want)
	case !exists:
		// (b) Push the versioned tag (platform manifests first, then the index).
		if err := remote.WriteIndex(ref, idx, opts...); err != nil {
			return res, fmt.Errorf("publish: pushing %s: %w (%s not moved)", ref, err, stable)
		}
		res.Pushed = true
	}

	// (c) Read it back before anything points at it.
	if err := verify(ref, want, im, opts); err != nil {
		return res, fmt.Errorf("publish: %w (%s not moved)", err, stable)
	}
	res.StableDigest, _, err = head(stable, opts)
	if err != nil {
		return res, fmt.Errorf("publish: checking %s: %w", stable, err)
	}
	if res.StableDigest == want.String() {
		return res, nil
	}
	// A release a rollback withdrew never becomes stable again.
	_, withdrawn, err := head(r.Tag(WithdrawnPrefix+tag), opts)
	if err != nil {
		return res, fmt.Errorf("publish: checking whether %s was withdrawn: %w (%s not moved)", ref, err, stable)
	}
	if withdrawn {
		res.StableHeldBy = WithdrawnPrefix + tag
		return res, nil
	}
	newer, err := newestRelease(r, opts)
	if err != nil {
		return res, fmt.Errorf("publish: listing tags of %s: %w (%s not moved)", r, err, stable)
	}
	if newer != nil && release.Compare(*newer, ours) > 0 {
		res.StableHeldBy = newer.String()
		return res, nil
	}
	if err := remote.Tag(stable, idx, opts...); err != nil {
		return res, fmt.Errorf("publish: moving %s to %s: %w (%s is published)", stable, want, err, ref)
	}
	res.StableMoved = true
	got, _, err := head(stable, opts)
	if err != nil {
		return res, fmt.Errorf("publish: reading back %s: %w", stable, err)
	}
	res.StableDigest = got
	if got != want.String() {
		return res, fmt.Errorf("publish: %s reads back as %s after moving it to %s", stable, got, want)
	}
	return res, nil
}

// verify reads ref back and checks that it and every platform manifest it
// lists are in the registry.
func verify(ref name.Tag, want v1.Hash, im *v1.IndexManifest, opts []remote.Option) error {
	got, exists, err := head(ref, opts)
	switch {
	case err != nil:
		return fmt.Errorf("reading back %s: %w", ref, err)
	case !exists:
		return fmt.Errorf("%s is missing right after pushing it", ref)
	case got != want.String():
		return fmt.Errorf("%s reads back as %s, but %s was pushed", ref, got, want)
	}
	for _, d := range im.Manifests {
		m := ref.Context().Digest(d.Digest.String())
		_, exists, err := head(m, opts)
		if err != nil {
			return fmt.Errorf("reading back platform manifest %s of %s: %w", d.Digest, ref, err)
		}
		if !exists {
			return fmt.Errorf("platform manifest %s of %s is not in the registry", d.Digest, ref)
		}
	}
	return nil
}

// newestRelease returns the newest release tag in repo, or nil if it has
// none. Other tags are ignored.
func newestRelease(repo name.Repository, opts []remote.Option) (*release.Tag, error) {
	tags, err := remote.List(repo, opts...)
	if err != nil && !isNotFound(err) {
		return nil, err
	}
	var newest *release.Tag
	for _, s := range tags {
		t, err := release.Parse(s)
		if err != nil {
			continue
		}
		if newest == nil || release.Compare(t, *newest) > 0 {
			newest = &t
		}
	}
	return newest, nil
}

// Digest returns the digest ref (repo:tag or repo@digest) points to.
// A reference that does not exist is exists=false without an error; any
// other failure (auth, network, server error) is an error, so a caller never
// mistakes "could not look" for "not there".
func Digest(ctx context.Context, ref string, opts ...remote.Option) (digest string, exists bool, err error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", false, fmt.Errorf("invalid reference %q: %w", ref, err)
	}
	return head(r, append(opts, remote.WithContext(ctx)))
}

func head(ref name.Reference, opts []remote.Option) (string, bool, error) {
	d, err := remote.Head(ref, opts...)
	if err != nil {
		if isNotFound(err) {
			return "", false, nil
		}
		return "", false, err
	}
	return d.Digest.String(), true, nil
}

func isNotFound(err error) bool {
	var te *transport.Error
	return errors.As(err, &te) && te.StatusCode == http.StatusNotFound
}
