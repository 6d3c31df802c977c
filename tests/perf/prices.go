package main

import (
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"dagger/mikrotik-tailscale/internal/features"
	"dagger/mikrotik-tailscale/internal/pins"
	"dagger/mikrotik-tailscale/internal/tsbuild"
)

// phasePrices builds every price-list variant (features.PriceVariants,
// or those -price-variants names) for every arch with the recipe and
// packs it with the recipe's UPX: report.json "prices", the numbers
// behind docs/FEATURES.md's price list (tests/sizetable renders it). A
// variant whose tag set equals the default's (another kept feature needs
// the one left out) is not built again; one that fails to build (the
// module proxy refuses a dependency) is recorded with its error.
func (p *perf) phasePrices() {
	log.Printf("prices: load %s", loadavg())
	var variants []features.PriceVariant
	for _, v := range features.PriceVariants() {
		if v.Kind == features.PriceDefault || len(p.cfg.priceVariants) == 0 || slices.Contains(p.cfg.priceVariants, v.Name) {
			variants = append(variants, v)
		}
	}
	tagsOf := map[string][]string{}
	for _, v := range variants {
		out := mustRun(p.src, goEnv(), 5*time.Minute, tsbuild.FeatureTagsArgs(v.Add)...).Stdout
		tagsOf[v.Name] = features.ParseTags(out)
	}
	// UPX packs on one core while the next variant compiles: the run is
	// 21 variants × 4 platforms, and packing took about as long as
	// compiling.
	var mu sync.Mutex
	var packing sync.WaitGroup
	packs := make(chan func(), len(variants))
	go func() {
		for job := range packs {
			job()
		}
	}()
	arches := map[string]any{}
	var sameAsDefault []func() // filled in once the default is packed
	for _, a := range p.cfg.arches {
		sizes := map[string]any{}
		arches[a.Dir] = sizes
		dir := filepath.Join(p.binDir(a), "prices")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			log.Fatal(err)
		}
		record := func(name string, v any) {
			mu.Lock()
			defer mu.Unlock()
			sizes[name] = v
		}
		for _, v := range variants {
			if v.Kind == features.PriceWithout && slices.Equal(tagsOf[v.Name], tagsOf["default"]) {
				log.Printf("prices %s %s: same tags as the default", a.Name, v.Name)
				sameAsDefault = append(sameAsDefault, func() { sizes[v.Name] = sizes["default"] })
				continue
			}
			raw := filepath.Join(dir, v.Name+".raw")
			r := run(p.src, goEnv(tsbuild.BuildEnv(a)...), 30*time.Minute, tsbuild.BuildArgs(pins.TailscaleVersion, tagsOf[v.Name], raw, tsbuild.Options{})...)
			if r.Err != nil {
				msg := strings.TrimSpace(tail(r.Stderr, 300))
				if i := strings.LastIndex(msg, "\n"); i >= 0 {
					msg = strings.TrimSpace(msg[i+1:])
				}
				record(v.Name, map[string]any{"error": msg})
				log.Printf("prices %s %s: build failed: %s", a.Name, v.Name, msg)
				continue
			}
			// The next build writes another file: this one stays for the packer.
			packing.Add(1)
			packs <- func() {
				defer packing.Done()
				packed := filepath.Join(dir, v.Name+".upx")
				u := pack(raw, packed, upxMethods()[0], 30*time.Minute)
				if u.Err != nil {
					log.Fatalf("upx %s: %v %s", packed, u.Err, u.Stderr)
				}
				record(v.Name, map[string]any{"raw": fileSize(raw), "upx": fileSize(packed), "tags": len(tagsOf[v.Name])})
				log.Printf("prices %s %s: raw %s, upx %s (build %s)", a.Name, v.Name, commas(fileSize(raw)), commas(fileSize(packed)), r.Wall.Round(time.Second))
			}
		}
	}
	packing.Wait()
	close(packs)
	for _, fill := range sameAsDefault {
		fill()
	}
	p.rep["prices"] = map[string]any{"tailscale": pins.TailscaleVersion, "go": "go" + pins.GoVersion, "variants": variants, "arches": arches}
}
