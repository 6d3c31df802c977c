package tsbuild

import (
	"slices"
	"strings"
	"testing"
)

func TestZeroOptionsAreTheDefaultRecipe(t *testing.T) {
	tags := []string{"ts_include_cli", "ts_omit_ssh"}
	if got, want := BuildArgsWith("v1.104.5", tags, "/out/x", Options{}), BuildArgs("v1.104.5", tags, "/out/x"); !slices.Equal(got, want) {
		t.Fatalf("BuildArgsWith(zero) = %v\nBuildArgs = %v", got, want)
	}
	if got := UPXArgsWith("/out/x", Options{}); !slices.Equal(got, UPXArgs("/out/x")) {
		t.Fatalf("UPXArgsWith(zero) = %v", got)
	}
	if got := GCFlags(Options{}); !slices.Equal(got, []string{"-gcflags=all=-l"}) {
		t.Fatalf("GCFlags(zero) = %v", got)
	}
}

func TestInlineHotReenablesInliningAfterAllL(t *testing.T) {
	args := BuildArgsWith("v1.104.5", []string{"ts_include_cli"}, "/out/x", Options{InlineHot: true})
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
	def := slices.DeleteFunc(BuildArgs("v1.104.5", []string{"ts_include_cli"}, "/out/x"), func(a string) bool { return strings.HasPrefix(a, "-gcflags") })
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

func TestNoCompressSkipsUPX(t *testing.T) {
	if got := UPXArgsWith("/out/x", Options{NoCompress: true}); got != nil {
		t.Fatalf("UPXArgsWith(NoCompress) = %v", got)
	}
}
