package main

import (
	"slices"
	"strings"
	"testing"

	"dagger/mikrotik-tailscale/internal/tsbuild"
)

func TestParseBench(t *testing.T) {
	out := `goos: linux
BenchmarkAEAD/xcrypto/Seal/1280-2         	  812345	      1402 ns/op	 912.81 MB/s	       0 B/op	       0 allocs/op
BenchmarkThroughput-2   	 1000000	      2345 ns/op	         0.01000 packet-loss
BenchmarkFilter/icmp4-2 	 9999	  40.5 ns/op
PASS`
	got := parseBench(out)
	if len(got) != 3 {
		t.Fatalf("parseBench = %+v", got)
	}
	if got[0].Name != "BenchmarkAEAD/xcrypto/Seal/1280" || got[0].Iters != 812345 ||
		got[0].Metrics["ns/op"] != 1402 || got[0].Metrics["MB/s"] != 912.81 || got[0].Metrics["allocs/op"] != 0 {
		t.Errorf("line 0 = %+v", got[0])
	}
	if got[1].Metrics["packet-loss"] != 0.01 || got[2].Metrics["ns/op"] != 40.5 {
		t.Errorf("lines 1, 2 = %+v %+v", got[1], got[2])
	}
}

func TestSummarize(t *testing.T) {
	s := summarize([]float64{5, 1, 3, 9})
	if s.Median != 4 || s.Min != 1 || s.Max != 9 || s.N != 4 || s.Values[0] != 5 {
		t.Fatalf("summarize = %+v", s)
	}
	if summarize([]float64{2, 1, 3}).Median != 2 {
		t.Fatal("odd median")
	}
}

func TestCompileFlags(t *testing.T) {
	out := `mkdir -p $WORK/b001/
/root/sdk/go/pkg/tool/linux_amd64/compile -o $WORK/b002/_pkg_.a -trimpath "$WORK/b002=>" -p runtime -std -l -complete -buildid x
/root/sdk/go/pkg/tool/linux_amd64/compile -o $WORK/b003/_pkg_.a -trimpath "$WORK/b003=>" -p golang.org/x/crypto/chacha20 -complete
/root/sdk/go/pkg/tool/linux_amd64/asm -p runtime -o x.o
`
	m, err := compileFlags(out)
	if err != nil || len(m) != 2 || !m["runtime"] || m["golang.org/x/crypto/chacha20"] {
		t.Fatalf("compileFlags = %v, %v", m, err)
	}
	if _, err := compileFlags("nothing"); err == nil {
		t.Fatal("no compile lines accepted")
	}
}

func TestVariantsStartWithTheRecipe(t *testing.T) {
	v := variants()
	if v[0].Name != "nol" || !slices.Equal(v[0].GCFlags, []string{tsbuild.NoInline}) {
		t.Fatalf("baseline variant = %+v", v[0])
	}
	for _, x := range v[1:] {
		if x.Name == "inline" {
			if len(x.GCFlags) != 0 {
				t.Errorf("inline has gcflags %v", x.GCFlags)
			}
			continue
		}
		if x.GCFlags[0] != tsbuild.NoInline {
			t.Errorf("%s does not start from all=-l: %v", x.Name, x.GCFlags)
		}
		for _, f := range x.GCFlags[1:] {
			if !strings.HasPrefix(f, "-gcflags=") || !strings.HasSuffix(f, "=") {
				t.Errorf("%s: %q is not a pattern= flag", x.Name, f)
			}
		}
	}
	p := &perf{tags: []string{"ts_include_cli"}}
	hot := v[1]
	args := p.buildArgs(hot, "/out")
	i := slices.Index(args, tsbuild.NoInline)
	if i < 0 || !slices.Equal(args[i:i+len(hot.GCFlags)], hot.GCFlags) {
		t.Errorf("buildArgs(%s) = %v", hot.Name, args)
	}
	if !slices.Contains(args, "-tags=ts_include_cli") || args[len(args)-1] != "./cmd/tailscaled" {
		t.Errorf("buildArgs lost the recipe: %v", args)
	}
	if got := p.buildArgs(v[len(v)-1], "/out"); slices.ContainsFunc(got, func(a string) bool { return strings.HasPrefix(a, "-gcflags") }) {
		t.Errorf("inline buildArgs carry gcflags: %v", got)
	}
}

func TestCommasAndDelta(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 15003808: "15,003,808", -4096: "-4,096"} {
		if got := commas(in); got != want {
			t.Errorf("commas(%d) = %q, want %q", in, got, want)
		}
	}
	if got := delta(110, 100); got != "+10 (+10.0 %)" {
		t.Errorf("delta = %q", got)
	}
}
