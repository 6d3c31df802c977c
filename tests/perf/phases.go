package main

import (
	"debug/elf"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"dagger/mikrotik-tailscale/internal/pins"
	"dagger/mikrotik-tailscale/internal/platform"
	"dagger/mikrotik-tailscale/internal/tsbuild"
)

var amd64 = mustArch("amd64")

func mustArch(s string) platform.Arch {
	a, err := platform.Parse(s)
	if err != nil {
		panic(err)
	}
	return a
}

// probePkgs are the packages whose inlining state the gcflags check
// reports per variant: hot ones, std ones, and one cold one.
var probePkgs = []string{
	"runtime", "encoding/binary", "net/netip",
	"golang.org/x/crypto/chacha20poly1305", "github.com/tailscale/wireguard-go/device",
	"tailscale.com/net/tstun", "tailscale.com/wgengine/magicsock", "tailscale.com/wgengine/filter",
	"tailscale.com/ipn/ipnlocal",
}

// phaseSize builds every variant for every arch with the recipe and packs
// it with the recipe's UPX flags. Packing runs alongside the next build.
func (p *perf) phaseSize() {
	log.Printf("size: load %s", loadavg())
	// How the go command combines the -gcflags: which packages compile
	// with -l under each variant (go build -n prints the commands).
	check := map[string]any{}
	for _, v := range p.cfg.variants {
		args := p.buildArgs(v, os.DevNull)
		args = slices.Insert(args, 2, "-n", "-a")
		r := mustRun(p.src, goEnv(tsbuild.BuildEnv(amd64)...), 10*time.Minute, args...)
		noInline, err := compileFlags(r.Stderr + r.Stdout)
		if err != nil {
			log.Fatal(err)
		}
		on := 0
		for _, l := range noInline {
			if !l {
				on++
			}
		}
		probe := map[string]bool{}
		for _, pkg := range probePkgs {
			l, ok := noInline[pkg]
			if !ok {
				log.Fatalf("gcflags check: %s is not compiled into tailscaled", pkg)
			}
			probe[pkg] = !l
		}
		check[v.Name] = map[string]any{"packages": len(noInline), "inlining_on": on, "probe_inlining_on": probe}
		log.Printf("gcflags %s: inlining on in %d of %d packages", v.Name, on, len(noInline))
	}
	p.rep["gcflags_check_amd64"] = check

	type job struct {
		a   platform.Arch
		v   variant
		raw string
	}
	var (
		mu    sync.Mutex
		sizes = map[string]map[string]map[string]any{}
		jobs  = make(chan job, 16)
		done  = make(chan struct{})
	)
	go func() {
		defer close(done)
		for j := range jobs {
			dst := strings.TrimSuffix(j.raw, ".raw") + ".upx"
			r := pack(j.raw, dst, upxMethods()[0], 30*time.Minute)
			if r.Err != nil {
				log.Fatalf("upx %s: %v %s", dst, r.Err, r.Stderr)
			}
			mu.Lock()
			sizes[j.a.Name][j.v.Name]["upx"] = fileSize(dst)
			sizes[j.a.Name][j.v.Name]["upx_cpu_s"] = r.User.Seconds() + r.Sys.Seconds()
			sizes[j.a.Name][j.v.Name]["upx_cached"] = r.Cached
			mu.Unlock()
		}
	}()
	for _, a := range p.cfg.arches {
		for _, v := range p.cfg.variants {
			t0 := time.Now()
			raw := p.raw(a, v)
			mu.Lock()
			if sizes[a.Name] == nil {
				sizes[a.Name] = map[string]map[string]any{}
			}
			sizes[a.Name][v.Name] = map[string]any{"raw": fileSize(raw), "build_s": time.Since(t0).Seconds(), "elf": elfLoad(raw)}
			mu.Unlock()
			jobs <- job{a, v, raw}
		}
	}
	close(jobs)
	<-done
	p.rep["sizes"] = sizes
}

// phaseUPX compares UPX methods: size and packing time per arch, start-up
// time on amd64.
func (p *perf) phaseUPX() {
	log.Printf("upx: load %s", loadavg())
	nol := p.cfg.variants[0]
	res := map[string]map[string]any{}
	for _, a := range p.cfg.arches {
		raw := p.raw(a, nol)
		res[a.Name] = map[string]any{"raw": fileSize(raw)}
		for _, m := range upxMethods() {
			if m.Name == "ultra-brute" && !p.cfg.ultraArches[a.Name] {
				continue
			}
			dst := filepath.Join(p.binDir(a), "nol."+m.Name)
			if sz, ok := p.sizeEntry(a, nol); ok && m.Name == "lzma-best" && sz["upx_cpu_s"] != nil {
				// The size phase packed exactly this already.
				mustRun("", nil, time.Minute, "cp", filepath.Join(p.binDir(a), "nol.upx"), dst)
				res[a.Name][m.Name] = map[string]any{"bytes": fileSize(dst), "cpu_s": sz["upx_cpu_s"]}
				continue
			}
			var r cmdResult
			if ch := p.ultra[a.Name]; m.Name == "ultra-brute" && ch != nil {
				r = <-ch
			} else {
				r = pack(raw, dst, m, p.cfg.ultraTimeout)
			}
			if r.Err != nil {
				res[a.Name][m.Name] = map[string]any{"error": r.Err.Error(), "wall_s": r.Wall.Seconds()}
				log.Printf("upx %s %s: %v", a.Name, m.Name, r.Err)
				continue
			}
			res[a.Name][m.Name] = map[string]any{"bytes": fileSize(dst), "wall_s": r.Wall.Seconds(),
				"cpu_s": r.User.Seconds() + r.Sys.Seconds(), "cached": r.Cached}
			log.Printf("upx %s %s: %d B in %s", a.Name, m.Name, fileSize(dst), r.Wall.Round(time.Second))
		}
	}
	p.rep["upx_methods"] = res

	// Start-up: `tailscaled --version`, every packed form and the raw
	// binary, round robin so load changes hit all alike.
	type cand struct{ name, bin string }
	cands := []cand{{"raw", p.raw(amd64, nol)}}
	for _, m := range upxMethods() {
		if b := filepath.Join(p.binDir(amd64), "nol."+m.Name); fileExists(b) && res[amd64.Name][m.Name].(map[string]any)["error"] == nil {
			cands = append(cands, cand{m.Name, b})
		}
	}
	dir := filepath.Join(p.cfg.work, "startup")
	os.RemoveAll(dir)
	wall := map[string][]float64{}
	cpu := map[string][]float64{}
	for _, c := range cands {
		d := filepath.Join(dir, c.name)
		os.MkdirAll(d, 0o755)
		mustRun("", nil, time.Minute, "cp", c.bin, filepath.Join(d, "tailscaled"))
	}
	syscall.Sync()
	for _, c := range cands { // warm the page cache
		run("", nil, time.Minute, filepath.Join(dir, c.name, "tailscaled"), "--version")
	}
	for i := 0; i < p.cfg.execs; i++ {
		for _, c := range cands {
			r := run("", nil, time.Minute, filepath.Join(dir, c.name, "tailscaled"), "--version")
			if r.Err != nil || !strings.Contains(r.Stdout, strings.TrimPrefix(pins.TailscaleVersion, "v")) {
				log.Fatalf("%s --version: %v %s %s", c.name, r.Err, r.Stdout, r.Stderr)
			}
			wall[c.name] = append(wall[c.name], float64(r.Wall.Microseconds())/1000)
			cpu[c.name] = append(cpu[c.name], float64((r.User+r.Sys).Microseconds())/1000)
		}
	}
	st := map[string]any{}
	for _, c := range cands {
		st[c.name] = map[string]any{"wall_ms": summarize(wall[c.name]), "cpu_ms": summarize(cpu[c.name])}
	}
	p.rep["startup_amd64"] = st
	log.Printf("startup: %v", func() []string {
		var s []string
		for _, c := range cands {
			s = append(s, fmt.Sprintf("%s %.1f ms", c.name, summarize(wall[c.name]).Median))
		}
		return s
	}())
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// phaseMem starts tailscaled in a private network namespace and reads its
// memory after it has settled, raw vs UPX'd.
func (p *perf) phaseMem() {
	log.Printf("mem: load %s", loadavg())
	type cand struct {
		arch platform.Arch
		name string
		bin  string
	}
	var cands []cand
	for _, a := range p.cfg.arches {
		if a.Qemu != "" && !p.cfg.qemuBench {
			continue
		}
		d := p.binDir(a)
		cands = append(cands, cand{a, "raw", p.raw(a, p.cfg.variants[0])})
		if a.Qemu == "" {
			cands = append(cands, cand{a, "raw-cold", p.raw(a, p.cfg.variants[0])})
		}
		if b := filepath.Join(d, "nol.upx"); fileExists(b) {
			cands = append(cands, cand{a, "lzma-best", b})
		}
		if b := filepath.Join(d, "nol.nrv2e-best"); fileExists(b) && a.Qemu == "" {
			cands = append(cands, cand{a, "nrv2e-best", b})
		}
		if a.Qemu == "" {
			for _, v := range p.cfg.variants[1:] {
				if v.Name != "inlinehot" {
					continue
				}
				if b := filepath.Join(d, v.Name+".upx"); fileExists(b) {
					cands = append(cands, cand{a, v.Name + "-raw", p.raw(a, v)}, cand{a, v.Name + "-lzma-best", b})
				}
			}
		}
	}
	// Private copies, written back to disk: the page cache of a freshly
	// written file counts as Private_Dirty (see TestBusyboxUPXCost).
	dir := filepath.Join(p.cfg.work, "mem")
	os.RemoveAll(dir)
	for i, c := range cands {
		d := filepath.Join(dir, c.arch.Dir+"-"+c.name)
		os.MkdirAll(d, 0o755)
		mustRun("", nil, time.Minute, "cp", c.bin, filepath.Join(d, "tailscale.combined"))
		cands[i].bin = filepath.Join(d, "tailscale.combined")
	}
	syscall.Sync()
	vals := map[string]map[string][]float64{}
	for r := 0; r < p.cfg.memRounds; r++ {
		for _, c := range cands {
			key := c.arch.Dir + "/" + c.name
			if strings.HasSuffix(c.name, "-cold") {
				// Drop this file's pages from the page cache, as after
				// a reboot: only what the daemon reads comes back.
				mustRun("", nil, time.Minute, "dd", "if="+c.bin, "iflag=nocache", "count=0", "status=none")
			}
			m, err := daemonMem(c.arch, c.bin, p.cfg.settle)
			if err != nil {
				log.Fatalf("mem %s: %v", key, err)
			}
			if vals[key] == nil {
				vals[key] = map[string][]float64{}
			}
			for k, v := range m {
				vals[key][k] = append(vals[key][k], float64(v))
			}
		}
	}
	res := map[string]map[string]summary{}
	for k, m := range vals {
		res[k] = map[string]summary{}
		for f, v := range m {
			res[k][f] = summarize(v)
		}
		log.Printf("mem %s: Rss %.0f Pss %.0f Private_Dirty %.0f kB", k, res[k]["Rss"].Median, res[k]["Pss"].Median, res[k]["Private_Dirty"].Median)
	}
	p.rep["memory_kib"] = res
}

// daemonMem starts bin as tailscaled like tests/tailscale_test.go's
// startDaemon, waits for its socket and then settle, and returns
// smaps_rollup plus VmHWM/VmRSS/Threads from status (kB).
func daemonMem(a platform.Arch, bin string, settle time.Duration) (map[string]int, error) {
	dir, err := os.MkdirTemp("", "perf-daemon-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	link := filepath.Join(dir, "tailscaled")
	if err := os.Symlink(bin, link); err != nil {
		return nil, err
	}
	sock := filepath.Join(dir, "tailscaled.sock")
	daemon := []string{link, "--statedir=" + filepath.Join(dir, "state"), "--socket=" + sock, "--no-logs-no-support"}
	daemon = append(a.QemuArgv(), daemon...)
	// unshare and sh both exec: the PID is tailscaled's (or qemu's).
	argv := append([]string{"unshare", "--net", "--", "sh", "-c", `ip link set lo up && exec "$@"`, "sh"}, daemon...)
	logf, _ := os.Create(filepath.Join(dir, "log"))
	defer logf.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}()
	deadline := time.Now().Add(90 * time.Second)
	for !fileExists(sock) {
		select {
		case err := <-exited:
			exited <- err
			b, _ := os.ReadFile(filepath.Join(dir, "log"))
			return nil, fmt.Errorf("exited before its socket: %v\n%s", err, b)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no socket after 90s")
		}
	}
	time.Sleep(settle)
	pid := strconv.Itoa(cmd.Process.Pid)
	rollup, err := os.ReadFile("/proc/" + pid + "/smaps_rollup")
	if err != nil {
		return nil, err
	}
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return nil, err
	}
	m := parseKB(string(rollup))
	st := parseKB(string(status))
	for _, k := range []string{"VmHWM", "VmRSS"} {
		m[k] = st[k]
	}
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, "Threads:"); ok {
			m["Threads"], _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return m, nil
}

// elfLoad is the .text size and the file and memory sizes of the
// loadable segments: with UPX, all of Filesz is unpacked into anonymous
// memory at every start; raw, it is demand-paged from the file.
func elfLoad(path string) map[string]int64 {
	f, err := elf.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	m := map[string]int64{}
	if s := f.Section(".text"); s != nil {
		m["text"] = int64(s.Size)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			m["load_filesz"] += int64(p.Filesz)
			m["load_memsz"] += int64(p.Memsz)
		}
	}
	return m
}

// sizeEntry is the size phase's record for a, v, if it ran.
func (p *perf) sizeEntry(a platform.Arch, v variant) (map[string]any, bool) {
	sizes, _ := p.rep["sizes"].(map[string]map[string]map[string]any)
	e, ok := sizes[a.Name][v.Name]
	return e, ok
}
