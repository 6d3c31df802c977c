//go:build engine

package engine

import (
	"strings"
	"testing"
	"time"

	sdk "code.gitea.io/sdk/gitea"

	"dagger/mikrotik-tailscale/internal/forgelab"
	"dagger/mikrotik-tailscale/internal/pins"
)

// release-tag against the forge, as .woodpecker runs it on a push to main:
// the first call tags mt.1 of the pinned Tailscale at the commit given
// (the older of the repository's two, so a tag of main's head would show),
// the second finds it and does nothing. A forge whose CA is not trusted
// and a commit the repository does not hold are refused and tag nothing.
func testReleaseTag(t *testing.T) {
	f := startForge(t)
	withForgeSecrets(t, f)
	tag := releaseTag(1)
	target := f.commits[0]
	args := func(commit string, extra ...string) []string {
		return append([]string{"release-tag", "--gitea-url", strings.TrimSuffix(f.srv.RootURL(), "/"),
			"--repository", forgelab.Org + "/" + forgelab.Repo, "--token", "env:GITEA_TOKEN", "--commit", commit}, extra...)
	}
	api, err := f.admin()
	if err != nil {
		t.Fatal(err)
	}
	tagNames := func() []string {
		t.Helper()
		tags, _, err := api.ListRepoTags(forgelab.Org, forgelab.Repo, sdk.ListRepoTagsOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tg := range tags {
			names = append(names, tg.Name)
		}
		return names
	}

	untrusted := daggerCall(t, "release-tag-untrusted-ca", 10*time.Minute, args(target)...)
	if untrusted.Err == nil || !strings.Contains(untrusted.Stderr, "certificate signed by unknown authority") {
		t.Errorf("release-tag to a forge of an untrusted CA was not refused:\n%s", untrusted)
	}
	unknown := strings.Repeat("0", 39) + "1"
	missing := daggerCall(t, "release-tag-unknown-commit", 10*time.Minute, args(unknown, "--extra-ca", f.caFile)...)
	if missing.Err == nil || !strings.Contains(missing.Stderr, "creating tag "+tag+" in "+forgelab.Org+"/"+forgelab.Repo) {
		t.Errorf("release-tag at a commit the repository lacks was not refused by the forge:\n%s", missing)
	}
	if names := tagNames(); len(names) != 0 {
		t.Fatalf("the refused calls left tags %v", names)
	}

	created := mustCall(t, "release-tag", 10*time.Minute, args(target, "--extra-ca", f.caFile)...)
	if want := "created " + tag + " at " + target; strings.TrimSpace(created.Stdout) != want {
		t.Errorf("release-tag said %q, want %q", strings.TrimSpace(created.Stdout), want)
	}
	got, _, err := api.GetTag(forgelab.Org, forgelab.Repo, tag)
	if err != nil {
		t.Fatalf("the forge has no tag %s: %v", tag, err)
	}
	if got.Commit == nil || got.Commit.SHA != target {
		t.Errorf("%s points at %+v, want commit %s (main's head is %s)", tag, got.Commit, target, f.commits[len(f.commits)-1])
	}
	if want := "Tailscale " + pins.TailscaleVersion; strings.TrimSpace(got.Message) != want {
		t.Errorf("%s's message is %q, want %q", tag, got.Message, want)
	}

	again := mustCall(t, "release-tag-again", 10*time.Minute, args(f.commits[1], "--extra-ca", f.caFile)...)
	if want := "nothing to do: " + pins.TailscaleVersion + " already released as " + tag; strings.TrimSpace(again.Stdout) != want {
		t.Errorf("release-tag again said %q, want %q", strings.TrimSpace(again.Stdout), want)
	}
	if names := tagNames(); len(names) != 1 || names[0] != tag {
		t.Errorf("the forge's tags are %v, want [%s]", names, tag)
	}
	mergeReport(t, map[string]any{"release_tag_unknown_commit": lastLines(missing.Stderr, 3)})
}
