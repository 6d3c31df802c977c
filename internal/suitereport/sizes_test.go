package suitereport

import (
	"strings"
	"testing"
)

func sample() map[string]any {
	row := func(n float64) map[string]any {
		return map[string]any{"tailscale_raw_bytes": n, "tailscale_bytes": n / 4, "busybox_bytes": 300000.0,
			"rootfs_bytes": n/4 + 500000, "image_tar_bytes": n/4 + 560000, "image_gzip_bytes": n/4 + 400000}
	}
	return map[string]any{"tailscale_version": "1.104.5", "go_version": "go1.27.3", "busybox_version": "1.37.0",
		"arches": map[string]any{"armv7": row(14024864), "amd64": row(15003808), "arm64": row(13631648)}}
}

func TestSizeTable(t *testing.T) {
	got, err := SizeTable(sample())
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if !strings.HasPrefix(lines[0], "Tailscale 1.104.5, Go go1.27.3, BusyBox 1.37.0") {
		t.Errorf("header %q", lines[0])
	}
	if len(lines) != 7 || !strings.HasPrefix(lines[4], "| amd64 | 15,003,808 | 3,750,952 | 300,000 |") ||
		!strings.HasPrefix(lines[5], "| arm64 |") || !strings.HasPrefix(lines[6], "| armv7 |") {
		t.Fatalf("table:\n%s", got)
	}
}

func TestFlashTable(t *testing.T) {
	got, err := FlashTable(sample())
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if lines[0] != "Tailscale 1.104.5, BusyBox 1.37.0." || len(lines) != 7 {
		t.Fatalf("table:\n%s", got)
	}
	// amd64: rootfs 15,003,808/4 + 500,000; gzip + 400,000; BusyBox 300,000.
	if want := "| amd64 | 4.25 MB (4,250,952 B) | 4.15 MB (4,150,952 B) | 0.30 MB (300,000 B) |"; lines[4] != want {
		t.Errorf("amd64 row %q, want %q", lines[4], want)
	}
	// Rows name platforms as --arch does.
	if !strings.HasPrefix(lines[5], "| arm64 |") || !strings.HasPrefix(lines[6], "| arm/v7 |") {
		t.Errorf("rows:\n%s", got)
	}
	doc := sample()
	delete(doc["arches"].(map[string]any)["arm64"].(map[string]any), "busybox_bytes")
	if _, err := FlashTable(doc); err == nil || !strings.Contains(err.Error(), "arm64 has no busybox_bytes") {
		t.Errorf("partial report: %v", err)
	}
}

func TestSizeTableRejectsPartialReports(t *testing.T) {
	doc := sample()
	delete(doc["arches"].(map[string]any)["arm64"].(map[string]any), "rootfs_bytes")
	if _, err := SizeTable(doc); err == nil || !strings.Contains(err.Error(), "arm64 has no rootfs_bytes") {
		t.Fatalf("partial report: %v", err)
	}
	if _, err := SizeTable(map[string]any{}); err == nil {
		t.Fatal("empty report accepted")
	}
}

func TestSplice(t *testing.T) {
	doc := "intro\n" + Begin("sizes") + "\nold table\n" + End("sizes") + "\noutro\n"
	got, err := Splice(doc, "sizes", "new table\n")
	if err != nil {
		t.Fatal(err)
	}
	if got != "intro\n"+Begin("sizes")+"\nnew table\n"+End("sizes")+"\noutro\n" {
		t.Fatalf("spliced:\n%s", got)
	}
	if _, err := Splice(doc, "busybox-strategy", "x"); err == nil {
		t.Fatal("missing block accepted")
	}
	if _, err := Splice("no markers", "sizes", "x"); err == nil {
		t.Fatal("doc without markers accepted")
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 4126760: "4,126,760", -1234: "-1,234"} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %s", n, got)
		}
	}
}

func TestBusyboxStrategyTable(t *testing.T) {
	doc := map[string]any{"busybox_version": "1.37.0", "arches": map[string]any{"arm64": map[string]any{
		"busybox_sizes": map[string]any{
			"defconfig-minus":  map[string]any{"raw": 914176.0, "stripped": 722712.0, "upx": 318912.0},
			"allnoconfig-plus": map[string]any{"raw": 753744.0, "stripped": 591640.0, "upx": 251872.0},
		}}}}
	got, err := BusyboxStrategyTable(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "| arm64 | 914,176 / 722,712 / 318,912 | 753,744 / 591,640 / 251,872 | +67,040 (+27 %) |") {
		t.Fatalf("table:\n%s", got)
	}
	delete(doc["arches"].(map[string]any)["arm64"].(map[string]any)["busybox_sizes"].(map[string]any), "allnoconfig-plus")
	if _, err := BusyboxStrategyTable(doc); err == nil {
		t.Fatal("missing strategy accepted")
	}
}
