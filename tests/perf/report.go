package main

import (
	"fmt"
	"slices"
	"strings"
)

// markdown renders the report as tables (docs/PERFORMANCE.md quotes them).
func (p *perf) markdown() string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("# Performance report\n\n`%s`\n\n", p.rep["command"])
	if m, ok := p.rep["machine"].(map[string]any); ok {
		w("Machine: %v, %v CPUs (avx2 %v), %v kB RAM, %v, kernel %v; %v; %v. Load at start %v, at end %v. %v.\n\n",
			m["cpu"], m["cpus"], m["avx2"], m["mem_total_kib"], m["os"], m["kernel"], m["upx"], m["qemu"], m["loadavg_start"], p.rep["loadavg_end"], m["date"])
	}
	if t, ok := p.rep["tailscale"].(map[string]any); ok {
		w("Tailscale %v (%v tags), %v, x/crypto %v, wireguard-go %v.\n\n", t["version"], t["tags"], t["go"], t["x/crypto"], t["wireguard-go"])
	}
	w("Variants:\n\n")
	for _, v := range p.cfg.variants {
		w("- `%s`: %s: `%s`\n", v.Name, v.Desc, strings.Join(v.GCFlags, " "))
	}
	w("\n")

	if c, ok := p.rep["gcflags_check_amd64"].(map[string]any); ok {
		w("## Which packages compile with inlining (go build -n -a, amd64)\n\n| variant | inlining on | ")
		w("%s |\n|---|---|%s\n", strings.Join(probePkgs, " | "), strings.Repeat("---|", len(probePkgs)))
		for _, v := range p.cfg.variants {
			e := c[v.Name].(map[string]any)
			w("| %s | %d of %d |", v.Name, e["inlining_on"], e["packages"])
			for _, pkg := range probePkgs {
				w(" %s |", map[bool]string{true: "on", false: "off"}[e["probe_inlining_on"].(map[string]bool)[pkg]])
			}
			w("\n")
		}
		w("\n")
	}

	if sizes, ok := p.rep["sizes"].(map[string]map[string]map[string]any); ok {
		w("## Size per inlining variant (bytes; UPX = the recipe's `--lzma --best`)\n\n")
		w("| arch | variant | raw | Δ raw vs nol | UPX | Δ UPX vs nol | .text |\n|---|---|---|---|---|---|---|\n")
		for _, a := range p.cfg.arches {
			base := sizes[a.Name]["nol"]
			for _, v := range p.cfg.variants {
				e := sizes[a.Name][v.Name]
				if e == nil {
					continue
				}
				w("| %s | %s | %s | %s | %s | %s | %s |\n", a.Name, v.Name, commas(i64(e["raw"])), delta(i64(e["raw"]), i64(base["raw"])),
					commas(i64(e["upx"])), delta(i64(e["upx"]), i64(base["upx"])), commas(e["elf"].(map[string]int64)["text"]))
			}
		}
		w("\n")
	}

	if um, ok := p.rep["upx_methods"].(map[string]map[string]any); ok {
		w("## UPX methods (the `nol` binary)\n\n| arch | raw | method | bytes | vs lzma-best | pack CPU s |\n|---|---|---|---|---|---|\n")
		for _, a := range p.cfg.arches {
			e := um[a.Name]
			if e == nil {
				continue
			}
			lz, _ := e["lzma-best"].(map[string]any)
			for _, m := range upxMethods() {
				x, ok := e[m.Name].(map[string]any)
				if !ok {
					continue
				}
				if x["error"] != nil {
					w("| %s | %s | %s | %v | | %.0f s wall |\n", a.Name, commas(i64(e["raw"])), m.Name, x["error"], x["wall_s"])
					continue
				}
				when := ""
				if c, _ := x["cached"].(string); c != "" {
					when = " (packed " + c + ")"
				}
				w("| %s | %s | %s | %s | %s | %.1f%s |\n", a.Name, commas(i64(e["raw"])), m.Name, commas(i64(x["bytes"])),
					delta(i64(x["bytes"]), i64(lz["bytes"])), x["cpu_s"], when)
			}
		}
		w("\n")
	}
	if st, ok := p.rep["startup_amd64"].(map[string]any); ok {
		w("## Start-up: `tailscaled --version`, amd64 (ms; median [min–max] of %d runs, round robin)\n\n| binary | wall | CPU (user+sys) |\n|---|---|---|\n", p.cfg.execs)
		for _, name := range append([]string{"raw"}, methodNames()...) {
			e, ok := st[name].(map[string]any)
			if !ok {
				continue
			}
			wl, c := e["wall_ms"].(summary), e["cpu_ms"].(summary)
			w("| %s | %.1f [%.1f–%.1f] | %.1f [%.1f–%.1f] |\n", name, wl.Median, wl.Min, wl.Max, c.Median, c.Min, c.Max)
		}
		w("\n")
	}

	if mem, ok := p.rep["memory_kib"].(map[string]map[string]summary); ok {
		fields := []string{"Rss", "Pss", "Private_Dirty", "Private_Clean", "Shared_Clean", "Anonymous", "VmHWM"}
		w("## Idle tailscaled memory (kB, median [min–max] of %d starts, %s after the socket appears)\n\n| binary | %s |\n|---|%s\n",
			p.cfg.memRounds, p.cfg.settle, strings.Join(fields, " | "), strings.Repeat("---|", len(fields)))
		keys := make([]string, 0, len(mem))
		for k := range mem {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			w("| %s |", k)
			for _, f := range fields {
				s := mem[k][f]
				w(" %.0f [%.0f–%.0f] |", s.Median, s.Min, s.Max)
			}
			w("\n")
		}
		w("\n")
	}

	if res, ok := p.rep["bench"].([]benchResult); ok {
		w("## Packet-path benchmarks (ns/op median of the rounds; speed-up = nol time / variant time)\n\n")
		for _, r := range res {
			w("### %s on %s (`%s`, %s)\n\n%s.", r.Spec.Name, r.Arch, r.Spec.Pkg, r.Spec.Bench, r.Spec.Note)
			if r.Arch != "amd64" {
				w(" **Under qemu-user: absolute numbers mean nothing, ratios are only indicative.**")
			}
			w("\n\n")
			if r.Error != "" {
				w("Not measured: %s\n\n", r.Error)
				continue
			}
			for _, x := range r.Warnings {
				w("**Warning:** %s\n\n", x)
			}
			w("%d rounds, benchtime %s.\n\n| benchmark | nol ns/op (± half range) |", r.Rounds, r.Spec.BenchTime)
			for _, v := range r.Variants[1:] {
				w(" %s ns/op | %s speed-up |", v, v)
			}
			w("\n|---|---|%s\n", strings.Repeat("---|---|", len(r.Variants)-1))
			names := make([]string, 0, len(r.Results))
			for n := range r.Results {
				names = append(names, n)
			}
			slices.Sort(names)
			for _, n := range names {
				base := r.Results[n]["nol"]["ns/op"]
				w("| %s | %.0f (±%.0f %%) |", strings.TrimPrefix(n, "Benchmark"), base.Median, base.spreadPct()/2)
				for _, v := range r.Variants[1:] {
					x := r.Results[n][v]["ns/op"]
					w(" %.0f | %.2f× |", x.Median, base.Median/x.Median)
				}
				w("\n")
			}
			w("\n")
		}
	}
	return b.String()
}

func methodNames() []string {
	var n []string
	for _, m := range upxMethods() {
		n = append(n, m.Name)
	}
	return n
}

func i64(x any) int64 {
	switch v := x.(type) {
	case int64:
		return v
	case int:
		return int64(v)
	case float64:
		return int64(v)
	}
	return 0
}

func delta(x, base int64) string {
	if base == 0 {
		return ""
	}
	sign := ""
	if x >= base {
		sign = "+"
	}
	return fmt.Sprintf("%s%s (%+.1f %%)", sign, commas(x-base), 100*float64(x-base)/float64(base))
}
