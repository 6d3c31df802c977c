package tsbuild

import (
	"slices"
	"strings"
	"testing"

	"dagger/mikrotik-tailscale/internal/platform"
)

func TestBuildArgsCarrySizeFlagsStampsAndTags(t *testing.T) {
	args := BuildArgs("v1.104.5", []string{"ts_include_cli", "ts_omit_ssh"}, "/out/tailscale.combined", Options{})
	for _, want := range []string{
		"-trimpath", "-gcflags=all=-l", "-tags=ts_include_cli,ts_omit_ssh", "./cmd/tailscaled",
	} {
		if !slices.Contains(args, want) {
			t.Errorf("BuildArgs lacks %s: %v", want, args)
		}
	}
	var ld string
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "-ldflags="); ok {
			ld = v
		}
	}
	for _, want := range []string{"-s", "-w", "tailscale.com/version.longStamp=1.104.5-mikrotik", "tailscale.com/version.shortStamp=1.104.5"} {
		if !slices.Contains(strings.Fields(ld), want) && !strings.Contains(ld, want) {
			t.Errorf("ldflags %q lacks %s", ld, want)
		}
	}
	if i := slices.Index(args, "-o"); i < 0 || args[i+1] != "/out/tailscale.combined" {
		t.Errorf("output not set: %v", args)
	}
}

func TestBuildEnvIsStaticCrossCompile(t *testing.T) {
	a, _ := platform.Parse("armv7")
	env := BuildEnv(a)
	for _, want := range []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm", "GOARM=7"} {
		if !slices.Contains(env, want) {
			t.Errorf("BuildEnv(armv7) = %v lacks %s", env, want)
		}
	}
}

func TestFeatureTagsArgsAddTheAllowlist(t *testing.T) {
	got := FeatureTagsArgs([]string{"cli", "dns"})
	if !slices.Equal(got, []string{"go", "run", "./cmd/featuretags", "--min", "--add=cli,dns"}) {
		t.Fatalf("FeatureTagsArgs = %v", got)
	}
}

func TestParseModDownload(t *testing.T) {
	m, err := ParseModDownload([]byte(`{"Path":"tailscale.com","Version":"v1.104.5","Dir":"/go/pkg/mod/tailscale.com@v1.104.5","Sum":"h1:x="}`))
	if err != nil || m.Dir != "/go/pkg/mod/tailscale.com@v1.104.5" {
		t.Fatalf("ParseModDownload = %+v, %v", m, err)
	}
	_, err = ParseModDownload([]byte(`{"Path":"tailscale.com","Version":"v9.9.9","Error":"403 Forbidden"}`))
	if err == nil || !strings.Contains(err.Error(), "403 Forbidden") {
		t.Fatalf("download error not surfaced: %v", err)
	}
	if _, err := ParseModDownload([]byte(`{"Path":"x","Version":"v1"}`)); err == nil {
		t.Fatal("accepted output without Dir")
	}
	if _, err := ParseModDownload([]byte(`go: not json`)); err == nil {
		t.Fatal("accepted non-JSON output")
	}
}

func TestUPXArgs(t *testing.T) {
	got := UPXArgs("/out/x")
	if !slices.Contains(got, "--lzma") || !slices.Contains(got, "--best") || got[len(got)-1] != "/out/x" {
		t.Fatalf("UPXArgs = %v", got)
	}
}
