package main

import (
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
	arches := map[string]any{}
	for _, a := range p.cfg.arches {
		sizes := map[string]any{}
		arches[a.Dir] = sizes
		dir := filepath.Join(p.binDir(a), "prices")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			log.Fatal(err)
		}
		for _, v := range variants {
			if v.Kind == features.PriceWithout && slices.Equal(tagsOf[v.Name], tagsOf["default"]) {
				sizes[v.Name] = sizes["default"]
				log.Printf("prices %s %s: same tags as the default", a.Name, v.Name)
				continue
			}
			raw := filepath.Join(dir, v.Name+".raw")
			r := run(p.src, goEnv(tsbuild.BuildEnv(a)...), 30*time.Minute, tsbuild.BuildArgs(pins.TailscaleVersion, tagsOf[v.Name], raw)...)
			if r.Err != nil {
				msg := strings.TrimSpace(tail(r.Stderr, 300))
				if i := strings.LastIndex(msg, "\n"); i >= 0 {
					msg = strings.TrimSpace(msg[i+1:])
				}
				sizes[v.Name] = map[string]any{"error": msg}
				log.Printf("prices %s %s: build failed: %s", a.Name, v.Name, msg)
				continue
			}
			packed := filepath.Join(dir, v.Name+".upx")
			u := pack(raw, packed, upxMethods()[0], 30*time.Minute)
			if u.Err != nil {
				log.Fatalf("upx %s: %v %s", packed, u.Err, u.Stderr)
			}
			sizes[v.Name] = map[string]any{"raw": fileSize(raw), "upx": fileSize(packed), "tags": len(tagsOf[v.Name])}
			log.Printf("prices %s %s: raw %s, upx %s (build %s)", a.Name, v.Name, commas(fileSize(raw)), commas(fileSize(packed)), r.Wall.Round(time.Second))
		}
	}
	p.rep["prices"] = map[string]any{"tailscale": pins.TailscaleVersion, "go": "go" + pins.GoVersion, "variants": variants, "arches": arches}
}
