package features

import (
	"slices"
	"testing"
)

func TestTagsFromBuildInfo(t *testing.T) {
	out := `{"GoVersion":"go1.27.3","Settings":[{"Key":"-compiler","Value":"gc"},
		{"Key":"-tags","Value":"ts_omit_ssh,ts_include_cli"},{"Key":"GOARCH","Value":"arm"}]}`
	got, err := TagsFromBuildInfo(out)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"ts_include_cli", "ts_omit_ssh"}) {
		t.Fatalf("tags = %v", got)
	}
	if _, err := TagsFromBuildInfo(`{"Settings":[]}`); err == nil {
		t.Fatal("missing -tags accepted")
	}
	if _, err := TagsFromBuildInfo(`tailscale: unknown subcommand`); err == nil {
		t.Fatal("non-JSON accepted")
	}
}
