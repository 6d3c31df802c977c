package main

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"dagger/mikrotik-tailscale/internal/platform"
)

// The AEAD benchmark is ours: it is written into the scratch copy of the
// Tailscale module as package tailscale.com/mtperf, so it compiles against
// exactly the x/crypto and wireguard-go versions Tailscale's go.mod pins.
// 1280 B is the IPv6 minimum MTU, 1420 B WireGuard's default MTU.
//
// The implementations are imported from a non-test file on purpose: with
// go1.27.3, `go test` does not apply a -gcflags=std=... pattern to standard
// packages that only test files import (an explicit path such as
// runtime= does apply). Imported here, encoding/binary, math/bits and
// crypto/cipher get the variant's flags; the bench phase checks that.
var mtperfFiles = map[string]string{
	"aead.go": `// Package mtperf holds mikrotik-tailscale's benchmarks.
package mtperf

import (
	"crypto/cipher"

	"golang.org/x/crypto/chacha20poly1305"
)

// AEAD is one ChaCha20-Poly1305 implementation under test.
type AEAD struct {
	Name string
	New  func([]byte) (cipher.AEAD, error)
}

// AEADs are the implementations the data path can use on this arch.
var AEADs = []AEAD{{"xcrypto", chacha20poly1305.New}}
`,
	// On arm/v7 wireguard-go's data path uses its own assembly AEAD
	// (tsasm/arm, chosen at run time when the CPU has NEON), not x/crypto.
	"aead_arm.go": `//go:build arm

package mtperf

import tsarm "github.com/tailscale/wireguard-go/tsasm/arm/chacha20poly1305"

func init() { AEADs = append(AEADs, AEAD{"tsasm-arm", tsarm.New}) }
`,
	"aead_test.go": `package mtperf

import (
	"fmt"
	"testing"
)

func BenchmarkAEAD(b *testing.B) {
	for _, impl := range AEADs {
		for _, size := range []int{1280, 1420} {
			key := make([]byte, 32)
			for i := range key {
				key[i] = byte(i)
			}
			aead, err := impl.New(key)
			if err != nil {
				b.Fatal(err)
			}
			nonce := make([]byte, aead.NonceSize())
			plain := make([]byte, size)
			sealed := aead.Seal(nil, nonce, plain, nil)
			dst := make([]byte, 0, size+aead.Overhead())
			b.Run(fmt.Sprintf("%s/Seal/%d", impl.Name, size), func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					dst = aead.Seal(dst[:0], nonce, plain, nil)
				}
			})
			b.Run(fmt.Sprintf("%s/Open/%d", impl.Name, size), func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := aead.Open(dst[:0], nonce, sealed, nil); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
`,
}

// benchSpec is one benchmark package to compile per variant and run.
type benchSpec struct {
	Name      string   `json:"name"`
	Pkg       string   `json:"pkg"`
	Bench     string   `json:"bench"`
	BenchTime string   `json:"benchtime"`
	ExtraTags []string `json:"extra_tags,omitempty"`
	DropTags  []string `json:"drop_tags,omitempty"` // image tags its tests do not build with
	Qemu      bool     `json:"qemu"`                // also run on arm64/arm under qemu-user
	Note      string   `json:"note"`
}

var benchSpecs = []benchSpec{
	{Name: "aead", Pkg: "tailscale.com/mtperf", Bench: "^BenchmarkAEAD$", BenchTime: "0.3s", Qemu: true,
		Note: "x/crypto chacha20poly1305 Seal/Open, 1280 and 1420 B: assembly on amd64 with AVX2, ChaCha20 assembly and Poly1305 Go on arm64, all Go on arm/v7 (where the data path uses tsasm-arm instead when the CPU has NEON)"},
	{Name: "aead-purego", Pkg: "tailscale.com/mtperf", Bench: "^BenchmarkAEAD$", BenchTime: "0.3s", ExtraTags: []string{"purego"},
		Note: "the same with -tags purego: x/crypto's generic Go, the code arm64 runs for Poly1305 and arm/v7 without NEON runs for all of it"},
	{Name: "wg-device", Pkg: "github.com/tailscale/wireguard-go/device", Bench: "^Benchmark(Throughput|Latency)$", BenchTime: "1s", Qemu: true,
		Note: "two wireguard-go devices over loopback UDP, small ping packets: per-packet cost of the whole device (queues, crypto, UDP)"},
	{Name: "wg-device-purego", Pkg: "github.com/tailscale/wireguard-go/device", Bench: "^Benchmark(Throughput|Latency)$", BenchTime: "1s", ExtraTags: []string{"purego"},
		Note: "the same with -tags purego: generic Go crypto inside the device, closer to an arm64 router (Poly1305 in Go)"},
	{Name: "filter", Pkg: "tailscale.com/wgengine/filter", Bench: "^BenchmarkFilter$", BenchTime: "0.2s",
		Note: "tailscale's packet filter, every packet in and out"},
	{Name: "packet", Pkg: "tailscale.com/net/packet", Bench: "^BenchmarkDecode$", BenchTime: "0.2s",
		Note: "tailscale's packet parser, every packet"},
	{Name: "magicsock", Pkg: "tailscale.com/wgengine/magicsock", Bench: "^BenchmarkReceiveFrom$", BenchTime: "0.5s",
		DropTags: []string{"ts_omit_clientmetrics"},
		Note:     "magicsock receive round trip over loopback UDP (built without ts_omit_clientmetrics: the test reads the metrics)"},
	{Name: "tstun", Pkg: "tailscale.com/net/tstun", Bench: "^BenchmarkWrite$", BenchTime: "0.5s",
		Note: "TUN wrapper write path; its benchmark file needs netstack (gvisor), which the image omits and this proxy refuses (403)"},
}

// benchResult is one benchmark spec's outcome on one arch.
type benchResult struct {
	Spec     benchSpec `json:"spec"`
	Arch     string    `json:"arch"`
	Error    string    `json:"error,omitempty"`
	Rounds   int       `json:"rounds"`
	Variants []string  `json:"variants"`
	// InliningOn[variant][package]: whether the package was compiled
	// with inlining in this variant's test binary (from go test -n).
	InliningOn map[string]map[string]bool `json:"inlining_on"`
	Warnings   []string                   `json:"warnings,omitempty"`
	// Results[benchmark][variant][metric]
	Results map[string]map[string]map[string]summary `json:"results"`
}

// phaseBench compiles each spec once per variant (with the image's tags
// and -trimpath, as the recipe builds) and runs the test binaries
// interleaved: in round r the variants start at offset r, so load changes
// hit every variant alike.
func (p *perf) phaseBench() {
	log.Printf("bench: load %s", loadavg())
	dir := filepath.Join(p.src, "mtperf")
	os.RemoveAll(dir)
	os.MkdirAll(dir, 0o755)
	for name, text := range mtperfFiles {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			log.Fatal(err)
		}
	}

	var results []benchResult
	for _, spec := range benchSpecs {
		arches := []platform.Arch{amd64}
		if spec.Qemu && p.cfg.qemuBench {
			for _, a := range p.cfg.arches {
				if a.Qemu != "" {
					arches = append(arches, a)
				}
			}
		}
		for _, a := range arches {
			results = append(results, p.bench(spec, a))
			p.rep["bench"] = results
			p.write() // partial results survive an interrupted run
		}
	}
}

func (p *perf) bench(spec benchSpec, a platform.Arch) benchResult {
	res := benchResult{Spec: spec, Arch: a.Name, Results: map[string]map[string]map[string]summary{}}
	tagList := slices.DeleteFunc(slices.Clone(p.tags), func(t string) bool { return slices.Contains(spec.DropTags, t) })
	tags := strings.Join(append(tagList, spec.ExtraTags...), ",")
	bins := map[string]string{}
	for _, v := range p.cfg.variants {
		out := filepath.Join(p.cfg.work, "bench", spec.Name, a.Dir, v.Name+".test")
		args := slices.Concat([]string{"go", "test", "-c", "-o", out, "-trimpath", "-tags=" + tags}, v.GCFlags, []string{spec.Pkg})
		r := run(p.src, goEnv(a.GoEnv()...), 20*time.Minute, args...)
		if r.Err != nil {
			res.Error = fmt.Sprintf("go test -c %s: %v: %s", spec.Pkg, r.Err, firstLines(r.Stderr+r.Stdout, 3))
			log.Printf("bench %s %s: %s", spec.Name, a.Name, res.Error)
			return res
		}
		bins[v.Name] = out
		res.Variants = append(res.Variants, v.Name)
		// What the go command actually passed to the compiler.
		n := run(p.src, goEnv(a.GoEnv()...), 5*time.Minute, slices.Insert(slices.Clone(args), 3, "-n", "-a")...)
		noInline, err := compileFlags(n.Stderr + n.Stdout)
		if err != nil {
			log.Fatalf("go test -n %s: %v", spec.Pkg, err)
		}
		on := map[string]bool{}
		for _, pkg := range benchProbe(spec) {
			if l, ok := noInline[pkg]; ok {
				on[pkg] = !l
			}
		}
		if res.InliningOn == nil {
			res.InliningOn = map[string]map[string]bool{}
		}
		res.InliningOn[v.Name] = on
		wantStd := v.Name == "inline" || slices.Contains(v.GCFlags, "-gcflags=std=")
		for _, pkg := range []string{"runtime", "encoding/binary"} {
			if got, ok := on[pkg]; ok && got != wantStd {
				w := fmt.Sprintf("%s: %s compiles with inlining %v, the variant wants %v", v.Name, pkg, got, wantStd)
				res.Warnings = append(res.Warnings, w)
				log.Printf("bench %s %s: WARNING %s", spec.Name, a.Name, w)
			}
		}
	}
	pkgDir := strings.TrimSpace(mustRun(p.src, goEnv(a.GoEnv()...), time.Minute, "go", "list", "-tags="+tags, "-f", "{{.Dir}}", spec.Pkg).Stdout)
	rounds := p.cfg.rounds
	if a.Qemu != "" {
		rounds = p.cfg.qemuRounds
	}
	res.Rounds = rounds
	benchtime := spec.BenchTime
	if p.cfg.benchTimeMult != 1 {
		d, _ := time.ParseDuration(benchtime)
		benchtime = (time.Duration(float64(d) * p.cfg.benchTimeMult)).String()
	}
	vals := map[string]map[string]map[string][]float64{}
	n := len(p.cfg.variants)
	for r := 0; r < rounds; r++ {
		for i := 0; i < n; i++ {
			v := p.cfg.variants[(i+r)%n]
			test := []string{bins[v.Name], "-test.run=^$", "-test.bench=" + spec.Bench, "-test.benchtime=" + benchtime, "-test.count=1"}
			test = append(a.QemuArgv(), test...)
			// A private network namespace with loopback up: the
			// socket benchmarks see nothing but each other.
			argv := append([]string{"unshare", "--net", "--", "sh", "-c", `ip link set lo up && exec "$@"`, "sh"}, test...)
			out := run(pkgDir, os.Environ(), 15*time.Minute, argv...)
			lines := parseBench(out.Stdout)
			if out.Err == nil && len(lines) == 0 {
				res.Error = fmt.Sprintf("no benchmark matches %s in this build (excluded by the image's build tags?)", spec.Bench)
				log.Printf("bench %s %s: %s", spec.Name, a.Name, res.Error)
				return res
			}
			if out.Err != nil {
				res.Error = fmt.Sprintf("run %s: %v: %s", v.Name, out.Err, firstLines(out.Stdout+out.Stderr, 5))
				log.Printf("bench %s %s: %s", spec.Name, a.Name, res.Error)
				return res
			}
			for _, l := range lines {
				if vals[l.Name] == nil {
					vals[l.Name] = map[string]map[string][]float64{}
				}
				if vals[l.Name][v.Name] == nil {
					vals[l.Name][v.Name] = map[string][]float64{}
				}
				for unit, x := range l.Metrics {
					vals[l.Name][v.Name][unit] = append(vals[l.Name][v.Name][unit], x)
				}
			}
		}
	}
	for name, byVar := range vals {
		res.Results[name] = map[string]map[string]summary{}
		for v, byUnit := range byVar {
			res.Results[name][v] = map[string]summary{}
			for unit, xs := range byUnit {
				res.Results[name][v][unit] = summarize(xs)
			}
		}
		base := res.Results[name]["nol"]["ns/op"].Median
		var s []string
		for _, v := range res.Variants[1:] {
			s = append(s, fmt.Sprintf("%s %.2fx", v, base/res.Results[name][v]["ns/op"].Median))
		}
		log.Printf("bench %s %s %s: nol %.0f ns/op; speed-up %s", spec.Name, a.Name, name, base, strings.Join(s, ", "))
	}
	return res
}

func firstLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[:n]
	}
	return strings.Join(l, " | ")
}

// benchProbe are the packages whose inlining state a bench records.
func benchProbe(spec benchSpec) []string {
	return []string{"runtime", "encoding/binary", "math/bits", "net/netip",
		"golang.org/x/crypto/chacha20poly1305", "golang.org/x/crypto/internal/poly1305",
		"github.com/tailscale/wireguard-go/device", spec.Pkg}
}
