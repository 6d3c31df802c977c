package suitereport

import (
	"dagger/mikrotik-tailscale/internal/platform"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Tables are the generated tables by block name: each renders from a
// report.json document.
var Tables = map[string]func(map[string]any) (string, error){
	"sizes":            SizeTable,
	"flash":            FlashTable,
	"busybox-strategy": BusyboxStrategyTable,
	"price-list":       PriceTable,
	"tailnet-check":    TailnetTable,
}

// Begin and End are the marker comments around a generated block named
// name; Splice replaces what lies between them.
func Begin(name string) string {
	return "<!-- " + name + ":begin (generated from report.json by tests/sizetable; do not edit) -->"
}

// End closes the block opened by Begin(name).
func End(name string) string { return "<!-- " + name + ":end -->" }

// archOrder is the table's row order, the report's per-arch directory
// names in platform order; unknown arches follow, sorted.
var archOrder = func() []string {
	var dirs []string
	for _, a := range platform.All() {
		dirs = append(dirs, a.Dir)
	}
	return dirs
}()

// Load reads a report.json.
func Load(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return doc, nil
}

// SizeTable renders the per-arch sizes of a report as a markdown table.
// Every arch must carry every column: a partial report (a stage that did
// not run) is an error, not a table with holes.
func SizeTable(doc map[string]any) (string, error) {
	cols := []struct{ key, title string }{
		{"tailscale_raw_bytes", "tailscale.combined raw"},
		{"tailscale_bytes", "tailscale.combined UPX"},
		{"busybox_bytes", "busybox UPX"},
		{"rootfs_bytes", "rootfs files"},
		{"image_tar_bytes", "layer tars"},
		{"image_gzip_bytes", "gzip'd layers"},
	}
	arches, _ := doc["arches"].(map[string]any)
	if len(arches) == 0 {
		return "", fmt.Errorf("report has no arches")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Tailscale %v, Go %v, BusyBox %v; bytes.\n\n", doc["tailscale_version"], doc["go_version"], doc["busybox_version"])
	b.WriteString("| Arch |")
	for _, c := range cols {
		b.WriteString(" " + c.title + " |")
	}
	b.WriteString("\n|---|" + strings.Repeat("---:|", len(cols)) + "\n")
	for _, arch := range ordered(arches) {
		row, _ := arches[arch].(map[string]any)
		b.WriteString("| " + arch + " |")
		for _, c := range cols {
			v, err := number(row, arch, c.key)
			if err != nil {
				return "", err
			}
			b.WriteString(" " + Thousands(int64(v)) + " |")
		}
		b.WriteString("\n")
	}
	return b.String(), nil
}

// FlashTable is the README's summary per platform: the root filesystem
// RouterOS extracts onto the router's flash, the download, and BusyBox's
// share, in bytes and decimal MB. Partial reports are errors, as for
// SizeTable.
func FlashTable(doc map[string]any) (string, error) {
	arches, _ := doc["arches"].(map[string]any)
	if len(arches) == 0 {
		return "", fmt.Errorf("report has no arches")
	}
	names := map[string]string{}
	for _, a := range platform.All() {
		names[a.Dir] = a.Name
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Tailscale %v, BusyBox %v.\n\n", doc["tailscale_version"], doc["busybox_version"])
	b.WriteString("| Platform | On flash (root filesystem) | Download (gzip'd layers) | BusyBox (UPX) |\n|---|---:|---:|---:|\n")
	for _, arch := range ordered(arches) {
		row, _ := arches[arch].(map[string]any)
		name := names[arch]
		if name == "" {
			name = arch
		}
		b.WriteString("| " + name + " |")
		for _, k := range []string{"rootfs_bytes", "image_gzip_bytes", "busybox_bytes"} {
			v, err := number(row, arch, k)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&b, " %.2f MB (%s B) |", v/1e6, Thousands(int64(v)))
		}
		b.WriteString("\n")
	}
	return b.String(), nil
}

// number is key of arch's report row; a missing one is an error, so a
// partial report never renders as a table with holes.
func number(row map[string]any, arch, key string) (float64, error) {
	v, ok := row[key].(float64)
	if !ok {
		return 0, fmt.Errorf("report: %s has no %s", arch, key)
	}
	return v, nil
}

func ordered(arches map[string]any) []string {
	var out []string
	for _, a := range archOrder {
		if _, ok := arches[a]; ok {
			out = append(out, a)
		}
	}
	var rest []string
	for a := range arches {
		if !slices.Contains(archOrder, a) {
			rest = append(rest, a)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// Thousands formats n with comma separators: 4126760 → 4,126,760.
func Thousands(n int64) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return sign + b.String()
}

// Splice replaces the text between the markers of block name in doc.
func Splice(doc, name, table string) (string, error) {
	begin, end := Begin(name), End(name)
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if i < 0 || j < i {
		return "", fmt.Errorf("no %q ... %q block", begin, end)
	}
	return doc[:i+len(begin)] + "\n" + table + doc[j:], nil
}

// BusyboxStrategyTable compares the two BusyBox config strategies per
// arch: raw, stripped and UPX'd bytes.
func BusyboxStrategyTable(doc map[string]any) (string, error) {
	arches, _ := doc["arches"].(map[string]any)
	if len(arches) == 0 {
		return "", fmt.Errorf("report has no arches")
	}
	strategies := []string{"defconfig-minus", "allnoconfig-plus"}
	var b strings.Builder
	fmt.Fprintf(&b, "BusyBox %v; bytes, raw / stripped / UPX.\n\n| Arch |", doc["busybox_version"])
	for _, st := range strategies {
		b.WriteString(" " + st + " |")
	}
	b.WriteString(" UPX difference |\n|---|---:|---:|---:|\n")
	for _, arch := range ordered(arches) {
		row, _ := arches[arch].(map[string]any)
		sizes, _ := row["busybox_sizes"].(map[string]any)
		var upx []int64
		b.WriteString("| " + arch + " |")
		for _, st := range strategies {
			m, _ := sizes[st].(map[string]any)
			var cells []string
			for _, k := range []string{"raw", "stripped", "upx"} {
				v, ok := m[k].(float64)
				if !ok {
					return "", fmt.Errorf("report: %s has no busybox_sizes.%s.%s", arch, st, k)
				}
				cells = append(cells, Thousands(int64(v)))
				if k == "upx" {
					upx = append(upx, int64(v))
				}
			}
			b.WriteString(" " + strings.Join(cells, " / ") + " |")
		}
		d := upx[0] - upx[1]
		sign := "+"
		if d < 0 {
			sign, d = "-", -d
		}
		fmt.Fprintf(&b, " %s%s (%s%.0f %%) |\n", sign, Thousands(d), sign, 100*float64(d)/float64(upx[1]))
	}
	return b.String(), nil
}
