package suitereport

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestMergeKeepsOtherStagesKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.json")
	if err := Merge(path, map[string]any{
		"tailscale_version": "1.0.0",
		"arches":            map[string]any{"arm64": map[string]any{"tailscale_bytes": 10}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := Merge(path, map[string]any{
		"busybox_version": "1.37.0",
		"arches": map[string]any{
			"arm64": map[string]any{"busybox_bytes": 5, "tags": []string{"a", "b"}},
			"amd64": map[string]any{"busybox_bytes": 6},
		},
	}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"tailscale_version": "1.0.0",
		"busybox_version":   "1.37.0",
		"arches": map[string]any{
			"arm64": map[string]any{"tailscale_bytes": 10.0, "busybox_bytes": 5.0, "tags": []any{"a", "b"}},
			"amd64": map[string]any{"busybox_bytes": 6.0},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("merged report:\n got %v\nwant %v", got, want)
	}
}

func TestMergeRejectsCorruptReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Merge(path, map[string]any{"x": 1}); err == nil {
		t.Fatal("merging into a corrupt report succeeded")
	}
}

func TestTailnetTable(t *testing.T) {
	doc := map[string]any{"pr_check": map[string]any{"tailnet": map[string]any{
		"armv7": map[string]any{"login": 23.0, "control-outage": 63.0, "lan_detail": "x"},
		"amd64": map[string]any{"login": 11.0, "control-outage": 62.0, "state-dir": -1.0},
	}}}
	got, err := TailnetTable(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| Check | amd64 | armv7 |\n|---|---:|---:|\n",
		"| router logs in headlessly | 11 | 23 |\n",
		"| tunnel holds through a control outage | 62 | 63 |\n",
		"| router's state directory holds only what DESIGN names | – | – |\n",
		"| **all checks** | **73** | **86** |\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
	if _, err := TailnetTable(map[string]any{}); err == nil {
		t.Error("a report without tailnet times rendered a table")
	}
}
