// Command perf measures what each size trick of the image costs at run
// time, side by side in one run, and writes report.json and report.md:
//
//   - size: tailscaled built with the recipe (internal/tsbuild) per arch and
//     per inlining variant (-gcflags=all=-l, plus hot packages re-enabled,
//     full inlining), raw and after UPX;
//   - upx: UPX methods (--lzma --best, --nrv2e --best, --ultra-brute):
//     size, compression time, and start-up time of `tailscaled --version`;
//   - mem: RSS/PSS/Private_Dirty of an idle tailscaled, raw vs UPX'd, in a
//     private network namespace;
//   - prices: every feature's marginal size (features.PriceVariants), the
//     price list in docs/FEATURES.md (not in the default phases);
//   - bench: packet-path benchmarks (x/crypto ChaCha20-Poly1305 at MTU
//     sizes, wireguard-go's device, tailscale's filter/packet/magicsock)
//     compiled once per inlining variant and run interleaved.
//
// It needs root (network namespaces), upx and qemu-user-static; run it
// through tests/perf/run.sh. docs/PERFORMANCE.md is written from its
// report.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"dagger/mikrotik-tailscale/internal/features"
	"dagger/mikrotik-tailscale/internal/pins"
	"dagger/mikrotik-tailscale/internal/platform"
	"dagger/mikrotik-tailscale/internal/tsbuild"
)

// variant is one way of compiling: the -gcflags list that replaces the
// recipe's -gcflags=all=-l.
type variant struct {
	Name    string   `json:"name"`
	Desc    string   `json:"desc"`
	GCFlags []string `json:"gcflags"`
}

// hotCore is the first, smaller hot list: std plus the packages named
// in the issue, without the helpers their inner loops call.
var hotCore = []string{
	"std",
	"golang.org/x/crypto/...",
	"github.com/tailscale/wireguard-go/...",
	"tailscale.com/net/tstun",
	"tailscale.com/net/packet",
	"tailscale.com/wgengine/filter",
	"tailscale.com/wgengine/magicsock",
}

// reinline is all=-l followed by `<pattern>=` for each pattern.
func reinline(patterns []string) []string {
	flags := []string{tsbuild.NoInline}
	for _, p := range patterns {
		flags = append(flags, "-gcflags="+p+"=")
	}
	return flags
}

// variants, the shipped default first. Defaults: nol,hotcore,inlinehot,inline.
func variants() []variant {
	return []variant{
		{"nol", "-gcflags=all=-l (shipped default)", tsbuild.GCFlags(tsbuild.Options{})},
		{"hot", "all=-l, inlining back on in the hot packages (tsbuild.HotPackages) but not std", reinline(slices.DeleteFunc(slices.Clone(tsbuild.HotPackages), func(p string) bool { return p == "std" }))},
		{"hotcore", "all=-l, inlining back on in std and the core hot packages only", reinline(hotCore)},
		{"inlinehot", "all=-l, inlining back on in tsbuild.HotPackages (the InlineHot knob)", tsbuild.GCFlags(tsbuild.Options{InlineHot: true})},
		{"inline", "no -gcflags: inlining everywhere (Go's default)", nil},
	}
}

type config struct {
	work, out     string
	phases        map[string]bool
	arches        []platform.Arch
	variants      []variant
	rounds        int
	qemuRounds    int
	execs         int
	memRounds     int
	settle        time.Duration
	ultraArches   map[string]bool
	ultraTimeout  time.Duration
	qemuBench     bool
	benchTimeMult float64
	priceVariants []string
}

type perf struct {
	cfg  config
	src  string // writable copy of the Tailscale module
	tags []string
	rep  map[string]any
	// bins[arch][variant] = raw binary
	bins map[string]map[string]string
	// ultra[arch] delivers the --ultra-brute packing started early (it
	// takes long; it runs alongside the remaining builds).
	ultra map[string]chan cmdResult
}

func main() {
	var (
		work    = flag.String("work", "/var/tmp/mikrotik-tailscale-perf", "scratch directory (sources, binaries, test binaries)")
		out     = flag.String("out", "", "where report.json and report.md go (default <work>/report)")
		phases  = flag.String("phases", "size,upx,mem,bench", "phases to run")
		arches  = flag.String("arches", "all", "arches for the size phase (and qemu runs)")
		vars    = flag.String("variants", "nol,hotcore,inlinehot,inline", "inlining variants (also: hot)")
		rounds  = flag.Int("rounds", 5, "interleaved rounds per native benchmark")
		qrounds = flag.Int("qemu-rounds", 3, "interleaved rounds per qemu-user benchmark")
		execs   = flag.Int("execs", 41, "runs of `tailscaled --version` per UPX method")
		mem     = flag.Int("mem-rounds", 3, "daemon starts per binary for the memory phase")
		settle  = flag.Duration("settle", 5*time.Second, "how long a daemon runs before its memory is read")
		ultra   = flag.String("ultra-brute", "amd64", "arches to try upx --ultra-brute on (slow); empty for none")
		ultraTO = flag.Duration("ultra-brute-timeout", 30*time.Minute, "give up on one --ultra-brute after this long")
		qbench  = flag.Bool("qemu-bench", true, "also run the benchmarks under qemu-user for arm64 and arm/v7 (ratios only)")
		btmult  = flag.Float64("benchtime-mult", 1, "scale every benchtime (quick trial runs: 0.2)")
		pvars   = flag.String("price-variants", "", "price-list builds to make (names as in features.PriceVariants, e.g. +relayserver,-dns); empty for all")
	)
	flag.Parse()
	log.SetFlags(log.Ltime)
	if os.Geteuid() != 0 {
		log.Fatal("needs root (network namespaces); run tests/perf/run.sh")
	}
	cfg := config{work: *work, out: *out, phases: map[string]bool{}, rounds: *rounds, qemuRounds: *qrounds,
		execs: *execs, memRounds: *mem, settle: *settle, ultraArches: map[string]bool{}, ultraTimeout: *ultraTO,
		qemuBench: *qbench, benchTimeMult: *btmult}
	if *pvars != "" {
		cfg.priceVariants = strings.Split(*pvars, ",")
		var valid []string
		for _, v := range features.PriceVariants() {
			valid = append(valid, v.Name)
		}
		for _, n := range cfg.priceVariants {
			if !slices.Contains(valid, n) {
				log.Fatalf("-price-variants: unknown %q; choose from %s", n, strings.Join(valid, ","))
			}
		}
	}
	if cfg.out == "" {
		cfg.out = filepath.Join(cfg.work, "report")
	}
	for _, p := range strings.Split(*phases, ",") {
		cfg.phases[strings.TrimSpace(p)] = true
	}
	var err error
	if cfg.arches, err = platform.ParseList(*arches); err != nil {
		log.Fatal(err)
	}
	if *ultra != "" {
		us, err := platform.ParseList(*ultra)
		if err != nil {
			log.Fatal(err)
		}
		for _, a := range us {
			cfg.ultraArches[a.Name] = true
		}
	}
	for _, name := range strings.Split(*vars, ",") {
		i := slices.IndexFunc(variants(), func(v variant) bool { return v.Name == name })
		if i < 0 {
			log.Fatalf("unknown variant %q", name)
		}
		cfg.variants = append(cfg.variants, variants()[i])
	}
	if cfg.variants[0].Name != "nol" {
		log.Fatal("-variants must start with nol (the baseline)")
	}
	for _, d := range []string{cfg.work, cfg.out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			log.Fatal(err)
		}
	}
	packCache = filepath.Join(cfg.work, "upx-cache")
	p := &perf{cfg: cfg, rep: map[string]any{}, bins: map[string]map[string]string{}, ultra: map[string]chan cmdResult{}}
	start := time.Now()
	p.rep["machine"] = machine()
	p.rep["command"] = strings.Join(os.Args, " ")
	p.rep["variants"] = cfg.variants
	p.setup()
	if cfg.phases["size"] {
		p.phaseSize()
	}
	if cfg.phases["upx"] {
		p.phaseUPX()
	}
	if cfg.phases["mem"] {
		p.phaseMem()
	}
	if cfg.phases["bench"] {
		p.phaseBench()
	}
	if cfg.phases["prices"] {
		p.phasePrices()
	}
	p.rep["elapsed_s"] = time.Since(start).Seconds()
	p.rep["loadavg_end"] = loadavg()
	p.write()
	log.Printf("done in %s: %s", time.Since(start).Round(time.Second), cfg.out)
}

// write saves report.json and report.md.
func (p *perf) write() {
	b, err := json.MarshalIndent(p.rep, "", "  ")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.cfg.out, "report.json"), append(b, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.cfg.out, "report.md"), []byte(p.markdown()), 0o644); err != nil {
		log.Fatal(err)
	}
}

// goEnv is the environment of every go command: the pinned toolchain, as
// the host suite and the golang image use it.
func goEnv(extra ...string) []string {
	env := append(os.Environ(), "GOTOOLCHAIN=go"+pins.GoVersion, "GOFLAGS=-mod=readonly")
	return append(env, extra...)
}

// cmdResult is one finished command.
type cmdResult struct {
	Stdout, Stderr string
	Wall           time.Duration
	User, Sys      time.Duration
	Err            error  `json:"-"`
	Cached         string `json:",omitempty"` // pack: when the cached result was made
}

func run(dir string, env []string, timeout time.Duration, argv ...string) cmdResult {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = dir, env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	t0 := time.Now()
	err := cmd.Run()
	r := cmdResult{Stdout: o.String(), Stderr: e.String(), Wall: time.Since(t0), Err: err}
	if cmd.ProcessState != nil {
		r.User, r.Sys = cmd.ProcessState.UserTime(), cmd.ProcessState.SystemTime()
	}
	if ctx.Err() != nil {
		r.Err = fmt.Errorf("timed out after %s: %v", timeout, err)
	}
	return r
}

func mustRun(dir string, env []string, timeout time.Duration, argv ...string) cmdResult {
	r := run(dir, env, timeout, argv...)
	if r.Err != nil {
		log.Fatalf("%s: %v\n%s\n%s", strings.Join(argv, " "), r.Err, tail(r.Stdout, 2000), tail(r.Stderr, 4000))
	}
	return r
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// setup fetches the pinned Tailscale module into a writable copy and
// computes the image's tag set, exactly as tests/tailscale_fixture_test.go.
func (p *perf) setup() {
	out := mustRun("", goEnv(), 10*time.Minute, tsbuild.ModDownloadArgs(pins.TailscaleModule, pins.TailscaleVersion)...)
	mod, err := tsbuild.ParseModDownload([]byte(out.Stdout))
	if err != nil {
		log.Fatal(err)
	}
	p.src = filepath.Join(p.cfg.work, "tailscale")
	os.RemoveAll(p.src)
	mustRun("", nil, time.Minute, "cp", "-R", mod.Dir, p.src)
	mustRun("", nil, time.Minute, "chmod", "-R", "u+w", p.src)
	gover := strings.TrimSpace(mustRun(p.src, goEnv(), time.Minute, "go", "env", "GOVERSION").Stdout)
	gomod, err := os.ReadFile(filepath.Join(p.src, "go.mod"))
	if err != nil {
		log.Fatal(err)
	}
	if err := tsbuild.CheckGoVersion(gover, gomod, pins.TailscaleVersion); err != nil {
		log.Fatal(err)
	}
	list := mustRun(p.src, goEnv(), 10*time.Minute, tsbuild.FeatureListArgs()...).Stdout
	known, err := features.ParseList(list)
	if err != nil {
		log.Fatal(err)
	}
	tags := mustRun(p.src, goEnv(), 5*time.Minute, tsbuild.FeatureTagsArgs(features.AllowNames())...).Stdout
	review, err := features.Resolve(known, features.Allowlist, features.Omissions, features.ParseTags(tags))
	if err != nil {
		log.Fatal(err)
	}
	p.tags = review.Tags
	p.rep["tailscale"] = map[string]any{"version": pins.TailscaleVersion, "go": gover, "tags": len(p.tags),
		"x/crypto": modVersion(gomod, "golang.org/x/crypto"), "wireguard-go": modVersion(gomod, "github.com/tailscale/wireguard-go")}
	log.Printf("tailscale %s, %s, %d tags", pins.TailscaleVersion, gover, len(p.tags))
}

// modVersion is the version go.mod requires of path.
func modVersion(gomod []byte, path string) string {
	for _, l := range strings.Split(string(gomod), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == path {
			return f[1]
		}
	}
	return ""
}

// buildArgs is the recipe's go build with the variant's -gcflags.
func (p *perf) buildArgs(v variant, out string) []string {
	args := tsbuild.BuildArgs(pins.TailscaleVersion, p.tags, out, tsbuild.Options{})
	i := slices.Index(args, tsbuild.NoInline)
	if i < 0 {
		log.Fatalf("the recipe no longer passes %s: update tests/perf", tsbuild.NoInline)
	}
	return slices.Concat(args[:i], v.GCFlags, args[i+1:])
}

func (p *perf) binDir(a platform.Arch) string {
	d := filepath.Join(p.cfg.work, "bin", a.Dir)
	if err := os.MkdirAll(d, 0o755); err != nil {
		log.Fatal(err)
	}
	return d
}

// raw returns the raw binary of arch a, variant v, building it if needed.
func (p *perf) raw(a platform.Arch, v variant) string {
	if b := p.bins[a.Name][v.Name]; b != "" {
		return b
	}
	out := filepath.Join(p.binDir(a), v.Name+".raw")
	env := goEnv(tsbuild.BuildEnv(a)...)
	r := mustRun(p.src, env, 30*time.Minute, p.buildArgs(v, out)...)
	log.Printf("built %s %s in %s", a.Name, v.Name, r.Wall.Round(time.Second))
	if p.bins[a.Name] == nil {
		p.bins[a.Name] = map[string]string{}
	}
	p.bins[a.Name][v.Name] = out
	if v.Name == "nol" && p.cfg.phases["upx"] && p.cfg.ultraArches[a.Name] && p.ultra[a.Name] == nil {
		ch := make(chan cmdResult, 1)
		p.ultra[a.Name] = ch
		m := upxMethods()[2]
		dst := filepath.Join(p.binDir(a), "nol."+m.Name)
		log.Printf("upx %s %s started in the background", a.Name, m.Name)
		go func() { ch <- pack(out, dst, m, p.cfg.ultraTimeout) }()
	}
	return out
}

// upxMethod is one way of packing.
type upxMethod struct {
	Name string
	Args []string // flags before the file name
}

func upxMethods() []upxMethod {
	shipped := tsbuild.UPXArgs("")
	return []upxMethod{
		{"lzma-best", shipped[1 : len(shipped)-1]}, // the recipe's own flags
		{"nrv2e-best", []string{"-q", "--nrv2e", "--best"}},
		{"ultra-brute", []string{"-q", "--ultra-brute"}},
	}
}

// pack copies raw to dst and packs it with m. Packed results are cached
// by the raw binary's sha256 and the method (upx output is deterministic),
// so a re-run does not spend half an hour re-packing unchanged binaries;
// the times reported are those of the run that packed it (Cached says when).
func pack(raw, dst string, m upxMethod, timeout time.Duration) cmdResult {
	os.Remove(dst)
	sum := mustRun("", nil, time.Minute, "sha256sum", raw).Stdout
	key := filepath.Join(packCache, strings.Fields(sum)[0][:32]+"."+m.Name)
	if b, err := os.ReadFile(key + ".json"); err == nil && fileExists(key) {
		var r cmdResult
		if json.Unmarshal(b, &r) == nil {
			mustRun("", nil, time.Minute, "cp", key, dst)
			return r
		}
	}
	mustRun("", nil, time.Minute, "cp", raw, dst)
	r := run("", nil, timeout, append(append([]string{"upx"}, m.Args...), dst)...)
	if r.Err == nil {
		os.MkdirAll(packCache, 0o755)
		r.Cached = time.Now().UTC().Format(time.RFC3339)
		b, _ := json.Marshal(r)
		mustRun("", nil, time.Minute, "cp", dst, key)
		os.WriteFile(key+".json", b, 0o644)
		r.Cached = ""
	}
	return r
}

// packCache is set from -work.
var packCache string

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		log.Fatal(err)
	}
	return st.Size()
}

// machine describes the host the numbers come from.
func machine() map[string]any {
	m := map[string]any{"date": time.Now().UTC().Format(time.RFC3339), "cpus": runtime.NumCPU()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m["cpu"] = strings.TrimSpace(v)
				break
			}
		}
		m["avx2"] = bytes.Contains(b, []byte(" avx2"))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		m["mem_total_kib"] = parseKB(string(b))["MemTotal"]
	}
	for k, argv := range map[string][]string{
		"kernel": {"uname", "-r"},
		"os":     {"sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"},
		"upx":    {"sh", "-c", "upx --version | head -1"},
		"qemu":   {"sh", "-c", "qemu-aarch64-static --version | head -1"},
	} {
		m[k] = strings.TrimSpace(run("", nil, time.Minute, argv...).Stdout)
	}
	m["loadavg_start"] = loadavg()
	return m
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.TrimSpace(string(b))
}
