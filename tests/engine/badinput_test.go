//go:build engine

package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dagger/mikrotik-tailscale/internal/features"
	"dagger/mikrotik-tailscale/internal/pins"
	"dagger/mikrotik-tailscale/internal/platform"
)

// Bad input fails with an error that names the valid choices, before any
// build starts (the durations land in the report; each call's log shows
// no build step ran).
func testBadInput(t *testing.T) {
	// Set for the whole process: parallel subtests cannot use t.Setenv.
	os.Setenv("MT_ENGINE_DUMMY_SECRET", "not-a-password")
	notPEM := filepath.Join(t.TempDir(), "not-a-ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"bad-arch", []string{"tailscale", "--arch", "mips"},
			append([]string{`unsupported arch "mips"`}, platform.Names()...)},
		{"arm-v6", []string{"build", "--arch", "arm/v6"},
			[]string{`unsupported arch "arm/v6"`, "arm/v5"}},
		{"untagged-image", []string{"--debian-image", "debian", "busybox"},
			[]string{`--debian-image "debian" names no tag`}},
		{"bad-created", []string{"build", "--arch", "amd64", "--created", "yesterday"},
			[]string{`--created "yesterday" is not RFC 3339`}},
		{"bad-opt-in", []string{"build", "--arch", "amd64", "--with", "ssh,relayserver"},
			[]string{`--with "ssh": not an opt-in; choose from ` + strings.Join(features.OptInNames(), ", ")}},
		{"tarballs-bad-opt-in", []string{"tarballs", "--with", "cli"},
			[]string{`--with "cli": not an opt-in`}},
		{"bad-format", []string{"pr-check", "--format", "xml"},
			[]string{`unknown format "xml"`, "markdown", "json", "github"}},
		{"bad-budget", []string{"pr-check", "--budgets", "arm64=lots"},
			[]string{`budget "arm64=lots"`}},
		{"release-wrong-tailscale", []string{"release", "--tag", "v1.0.0-mt.1", "--repository", "registry.example.com/o/mt",
			"--username", "u", "--password", "env:MT_ENGINE_DUMMY_SECRET"},
			[]string{"tag v1.0.0-mt.1 is for Tailscale 1.0.0 but this commit pins " + pins.TailscaleVersion}},
		{"release-bad-tag", []string{"release", "--tag", "latest", "--repository", "registry.example.com/o/mt",
			"--username", "u", "--password", "env:MT_ENGINE_DUMMY_SECRET"},
			[]string{`invalid release tag "latest"`}},
		{"release-bad-repository", []string{"release", "--tag", releaseTag(1), "--repository", "Not A Repository",
			"--username", "u", "--password", "env:MT_ENGINE_DUMMY_SECRET"},
			[]string{`invalid repository "Not A Repository"`}},
		{"release-repository-without-host", []string{"release", "--tag", releaseTag(1), "--repository", "owner/mikrotik-tailscale",
			"--username", "u", "--password", "env:MT_ENGINE_DUMMY_SECRET"},
			[]string{`invalid repository "owner/mikrotik-tailscale": it names no registry host`, "gitea.example.com/owner/mikrotik-tailscale"}},
		{"release-tag-branch-as-commit", []string{"release-tag", "--gitea-url", "https://gitea.example.com", "--repository", "o/mt",
			"--token", "env:MT_ENGINE_DUMMY_SECRET", "--commit", "main"},
			[]string{`commit "main": expected a full commit hash, 40 (SHA-1) or 64 (SHA-256) lower-case hex digits`}},
		{"release-tag-plain-http", []string{"release-tag", "--gitea-url", "http://gitea.example.com", "--repository", "o/mt",
			"--token", "env:MT_ENGINE_DUMMY_SECRET", "--commit", strings.Repeat("a1", 20)},
			[]string{`Gitea URL "http://gitea.example.com": expected https://host[/path] (plain http only to a loopback address`}},
		{"release-extra-ca-not-pem", []string{"release", "--tag", releaseTag(1), "--repository", "registry.example.com/o/mt",
			"--username", "u", "--password", "env:MT_ENGINE_DUMMY_SECRET", "--extra-ca", notPEM},
			[]string{"extra CA: no PEM certificate in the file"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := daggerCall(t, "bad-input-"+tc.name, 10*time.Minute, tc.args...)
			if c.Err == nil {
				t.Fatalf("accepted:\n%s", c)
			}
			for _, w := range tc.want {
				if !strings.Contains(c.Stderr, w) {
					t.Errorf("the error does not say %q:\n%s", w, c)
				}
			}
			// Nothing was built: no compiler or packer ran.
			for _, step := range []string{"go build", "upx", "make "} {
				if strings.Contains(c.Stderr, "withExec") && strings.Contains(c.Stderr, step) {
					t.Errorf("%q ran before the input was refused", step)
				}
			}
		})
	}
}
