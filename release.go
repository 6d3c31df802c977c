package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"dagger/mikrotik-tailscale/internal/budget"
	"dagger/mikrotik-tailscale/internal/checkreport"
	"dagger/mikrotik-tailscale/internal/dagger"
	"dagger/mikrotik-tailscale/internal/gitea"
	"dagger/mikrotik-tailscale/internal/layout"
	"dagger/mikrotik-tailscale/internal/ocicheck"
	"dagger/mikrotik-tailscale/internal/pins"
	"dagger/mikrotik-tailscale/internal/platform"
	"dagger/mikrotik-tailscale/internal/publish"
	"dagger/mikrotik-tailscale/internal/release"
	"dagger/mikrotik-tailscale/internal/transport"
)

// Publish a release: every platform as <repository>:<tag>, then move :stable.
//
// The credentials must be able to push before anything is built. The
// images are held to the whole PR check first (budgets, smoke run,
// RouterOS tarball, features, layer rules, the tailnet check on every
// platform). :stable moves only after the versioned push succeeded and was read
// back. An existing tag is never overwritten: different content is refused
// before the checks run; a re-run with identical content checks nothing
// again (it was checked when pushed) and is a no-op. Returns the digests
// as JSON.
//
// +cache="never"
func (m *MikrotikTailscale) Release(
	ctx context.Context,
	// Release tag v<tailscale>-mt.<N>, e.g. v1.104.5-mt.1, for the pinned Tailscale version.
	tag string,
	// Image repository, e.g. gitea.example.com/owner/mikrotik-tailscale.
	repository string,
	// Registry user name.
	username string,
	// Registry password or token, e.g. env:NAME, file:PATH or vault://...
	password *dagger.Secret,
	// Commit hash for the revision label.
	// +optional
	revision string,
	// Commit time in RFC 3339, as git log -1 --format=%cI prints it: the created label and every file's timestamp.
	// +optional
	created string,
	// Repository URL for the source label.
	// +optional
	sourceURL string,
	// Headscale policy (HuJSON) for the tailnet check instead of the check's own: hold releases to your tailnet's policy.
	// +optional
	tailnetPolicy *dagger.File,
	// PEM CA certificate(s) to trust besides the system's, for a registry or forge behind a private CA. Credentials go over https only (plain http only to a loopback address).
	// +optional
	extraCa *dagger.File,
) (string, error) {
	if _, err := release.ValidateForRelease(tag, pins.TailscaleVersion); err != nil {
		return "", err
	}
	policy, err := labPolicy(ctx, tailnetPolicy)
	if err != nil {
		return "", err
	}
	if err := publish.CheckRepository(repository); err != nil {
		return "", err
	}
	meta, err := imageMeta(tag, revision, created, sourceURL)
	if err != nil {
		return "", err
	}
	// Credentials that cannot push fail now, not after every build and
	// check.
	auth, err := pushAccess(ctx, repository, username, password, extraCa)
	if err != nil {
		return "", err
	}
	rv, err := m.reviewedSource(ctx, nil)
	if err != nil {
		return "", err
	}
	variants := make([]*dagger.Container, len(platform.All()))
	if err := platform.Each(func(i int, a platform.Arch) error {
		var err error
		variants[i], err = m.image(ctx, imageSpec{arch: a, meta: meta, compress: true}, rv)
		return err
	}); err != nil {
		return "", err
	}
	// The engine's build times become the commit time, and its cache
	// state leaves the history: a re-run of the same commit on any engine
	// is then the same index, a no-op.
	stamp, err := m.imageStamp(ctx, meta.Created)
	if err != nil {
		return "", err
	}
	path, err := commitTimeArchive(ctx, variants[0].AsTarball(dagger.ContainerAsTarballOpts{
		PlatformVariants:  variants[1:],
		ForcedCompression: dagger.ImageLayerCompressionGzip,
	}), stamp)
	if err != nil {
		return "", err
	}
	defer os.Remove(path)
	idx, err := ocicheck.LoadIndexFromOCITar(path)
	if err != nil {
		return "", err
	}
	if err := checkLayers(idx); err != nil {
		return "", fmt.Errorf("refusing to publish: %w", err)
	}
	// The tag's state decides what is left to do: other content under it
	// is refused now; this very index under it (a re-run) was checked
	// when it was pushed.
	published, err := publish.Published(ctx, idx, repository, tag, auth...)
	if err != nil {
		return "", err
	}
	if !published {
		// The required check again, in full, on the very images about
		// to be pushed (default budgets, no unreviewed feature, the
		// tailnet check): a tag on a commit that never passed it
		// publishes nothing.
		rep := checkreport.Report{Title: "mikrotik-tailscale release check (" + tag + ")"}
		rep.Checks = m.prChecks(ctx, budget.Defaults, false, nil, true, policy, &rv, func(i int, _ platform.Arch, _ reviewed) (*dagger.Container, error) {
			return variants[i], nil
		})
		if !rep.Passed() {
			return "", fmt.Errorf("refusing to publish: %d of %d checks failed\n%s", len(rep.Failed()), len(rep.Checks), rep.Markdown())
		}
	}
	res, err := publish.Publish(ctx, idx, repository, tag, auth...)
	if err != nil {
		return "", err
	}
	out, err := json.MarshalIndent(res, "", "  ")
	return string(out), err
}

// pushAccess checks that the credentials may push to repository (before
// anything is built) and returns them, with the transport, as the
// registry options of every later request.
func pushAccess(ctx context.Context, repository, username string, password *dagger.Secret, extraCa *dagger.File) ([]remote.Option, error) {
	rt, err := forgeTransport(ctx, extraCa)
	if err != nil {
		return nil, err
	}
	pw, err := password.Plaintext(ctx)
	if err != nil {
		return nil, err
	}
	if err := publish.CheckPush(repository, username, pw, rt); err != nil {
		return nil, err
	}
	return []remote.Option{publish.BasicAuth(username, pw), remote.WithTransport(rt)}, nil
}

// forgeTransport carries a release's credentialed requests: the system's
// CAs plus extraCa's, https only off loopback.
func forgeTransport(ctx context.Context, extraCa *dagger.File) (http.RoundTripper, error) {
	var pem string
	if extraCa != nil {
		var err error
		if pem, err = extraCa.Contents(ctx); err != nil {
			return nil, err
		}
	}
	return transport.New([]byte(pem))
}

// checkLayers re-checks the layer rules on what is about to be pushed.
func checkLayers(idx v1.ImageIndex) error {
	imgs, err := ocicheck.Images(idx)
	if err != nil {
		return err
	}
	if len(imgs) != len(platform.All()) {
		return fmt.Errorf("index has %d platform images, want %d", len(imgs), len(platform.All()))
	}
	for _, pi := range imgs {
		r, err := ocicheck.Inspect(pi.Image)
		if err != nil {
			return fmt.Errorf("%s: %w", pi.Platform, err)
		}
		if err := ocicheck.CheckLayerRules(r, layout.Binary); err != nil {
			return fmt.Errorf("%s: %w", pi.Platform, err)
		}
	}
	return nil
}

// Create the git tag v<tailscale>-mt.1 when the pinned Tailscale has no release yet.
//
// Runs on every push to main, so a merged Renovate bump releases by
// itself. It never creates mt.2 or later: those are deliberate, manual
// releases. Idempotent.
//
// +cache="never"
func (m *MikrotikTailscale) ReleaseTag(
	ctx context.Context,
	// Gitea (or Forgejo) base URL, e.g. https://gitea.example.com (plain http only to a loopback address).
	giteaURL string,
	// Repository as owner/name.
	repository string,
	// API token allowed to create tags, e.g. env:NAME, file:PATH or vault://...
	token *dagger.Secret,
	// Commit to tag, as a full hash: the pushed main commit (Woodpecker's CI_COMMIT_SHA).
	commit string,
	// PEM CA certificate(s) to trust besides the system's, for a forge behind a private CA.
	// +optional
	extraCa *dagger.File,
) (string, error) {
	if err := gitea.CheckCommit(commit); err != nil {
		return "", err
	}
	rt, err := forgeTransport(ctx, extraCa)
	if err != nil {
		return "", err
	}
	tok, err := token.Plaintext(ctx)
	if err != nil {
		return "", err
	}
	c, err := gitea.NewClient(giteaURL, repository, tok, rt)
	if err != nil {
		return "", err
	}
	existing, err := c.Tags(ctx)
	if err != nil {
		return "", err
	}
	tag, create, err := release.AutoTag(pins.TailscaleVersion, existing)
	if err != nil {
		return "", err
	}
	if !create {
		return fmt.Sprintf("nothing to do: %s already released as %s", pins.TailscaleVersion, tag), nil
	}
	msg := "Tailscale " + pins.TailscaleVersion
	if err := c.CreateTag(ctx, tag, commit, msg); err != nil {
		// A concurrent run may have won the race; that is success too.
		if again, lerr := c.Tags(ctx); lerr == nil {
			if _, create, _ := release.AutoTag(pins.TailscaleVersion, again); !create {
				return "created concurrently: " + tag, nil
			}
		}
		return "", err
	}
	return "created " + tag + " at " + commit, nil
}

// Point <repository>:stable back at an already published release.
//
// Routers following :stable then recreate their container with it.
// Every newer release is tagged withdrawn-<tag>, and release never moves
// :stable to a withdrawn release again (a restarted pipeline); the next
// new release does. Release tags are immutable. Returns the digests as
// JSON.
//
// +cache="never"
func (m *MikrotikTailscale) Rollback(
	ctx context.Context,
	// The published release to make stable again, e.g. v1.102.4-mt.2.
	tag string,
	// Image repository, e.g. gitea.example.com/owner/mikrotik-tailscale.
	repository string,
	// Registry user name.
	username string,
	// Registry password or token, e.g. env:NAME, file:PATH or vault://...
	password *dagger.Secret,
	// PEM CA certificate(s) to trust besides the system's, for a registry or forge behind a private CA. Credentials go over https only (plain http only to a loopback address).
	// +optional
	extraCa *dagger.File,
) (string, error) {
	if err := publish.CheckRepository(repository); err != nil {
		return "", err
	}
	auth, err := pushAccess(ctx, repository, username, password, extraCa)
	if err != nil {
		return "", err
	}
	res, err := publish.Rollback(ctx, repository, tag, auth...)
	if err != nil {
		return "", err
	}
	out, err := json.MarshalIndent(res, "", "  ")
	return string(out), err
}
