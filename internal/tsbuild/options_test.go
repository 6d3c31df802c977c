package tsbuild

import (
	"slices"
	"strings"
	"testing"
)

// The default image's command lines, spelled out: the PR check, releases
// and the host suite all run these, so any change to them is a change of
// the shipped binary and must show up here.
func TestZeroOptionsAreTheDefaultRecipe(t *testing.T) {
	tags := []string{"ts_include_cli", "ts_omit_ssh"}
	for _, o := range []Options{{}, {NoCompress: true}} {
		want := []string{
			"go", "build", "-trimpath", "-gcflags=all=-l",
			"-ldflags=-s -w -X tailscale.com/version.longStamp=1.104.5-mikrotik -X tailscale.com/version.shortStamp=1.104.5",
			"-tags=ts_include_cli,ts_omit_ssh", "-o", "/out/x", "./cmd/tailscaled",
		}
		if got := BuildArgs("v1.104.5", tags, "/out/x", o); !slices.Equal(got, want) {
			t.Fatalf("BuildArgs(%+v) = %q\nwant %q", o, got, want)
		}
	}
	if got, want := UPXArgs("/out/x"), []string{"upx", "-q", "--lzma", "--best", "/out/x"}; !slices.Equal(got, want) {
		t.Fatalf("UPXArgs = %q, want %q", got, want)
	}
	if got := GCFlags(Options{}); !slices.Equal(got, []string{"-gcflags=all=-l"}) {
		t.Fatalf("GCFlags(zero) = %v", got)
	}
}

func TestInlineHotReenablesInliningAfterAllL(t *testing.T) {
	args := BuildArgs("v1.104.5", []string{"ts_include_cli"}, "/out/x", Options{InlineHot: true})
	var gc []string
	for _, a := range args {
		if strings.HasPrefix(a, "-gcflags") {
			gc = append(gc, a)
		}
	}
	// The go command applies the last matching -gcflags per package, so
	// all=-l must come first and every hot pattern after it, with an
	// empty flag list (Go's default: inlining on).
	if len(gc) != 1+len(HotPackages) || gc[0] != "-gcflags=all=-l" {
		t.Fatalf("gcflags = %v", gc)
	}
	for i, p := range HotPackages {
		if gc[i+1] != "-gcflags="+p+"=" {
			t.Errorf("gcflags[%d] = %q, want -gcflags=%s=", i+1, gc[i+1], p)
		}
	}
	// Everything else in the command line is the default recipe's.
	rest := slices.DeleteFunc(slices.Clone(args), func(a string) bool { return strings.HasPrefix(a, "-gcflags") })
	def := slices.DeleteFunc(BuildArgs("v1.104.5", []string{"ts_include_cli"}, "/out/x", Options{}), func(a string) bool { return strings.HasPrefix(a, "-gcflags") })
	if !slices.Equal(rest, def) {
		t.Errorf("InlineHot changed more than -gcflags:\n%v\n%v", rest, def)
	}
}

func TestHotPackagesArePatternsTheGoCommandAccepts(t *testing.T) {
	if !slices.Contains(HotPackages, "std") {
		t.Error("HotPackages lacks std: the hot packages could not inline encoding/binary, net/netip, the runtime")
	}
	seen := map[string]bool{}
	for _, p := range HotPackages {
		if p == "" || strings.ContainsAny(p, " =\"'") || strings.HasPrefix(p, "-") || strings.HasPrefix(p, ".") {
			t.Errorf("%q is not a package pattern for -gcflags=<pattern>=", p)
		}
		if seen[p] {
			t.Errorf("%q listed twice", p)
		}
		seen[p] = true
	}
}
