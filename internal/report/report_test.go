package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
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
