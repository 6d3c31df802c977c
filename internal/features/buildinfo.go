package features

import (
	"encoding/json"
	"fmt"
	"strings"
)

// TagsFromBuildInfo extracts the build tags from `tailscale debug
// go-buildinfo` output (Go's runtime/debug.BuildInfo as JSON). It works on
// the UPX'd binary inside an image, where `go version -m` cannot look.
func TagsFromBuildInfo(out string) ([]string, error) {
	var bi struct {
		Settings []struct{ Key, Value string }
	}
	if err := json.Unmarshal([]byte(out), &bi); err != nil {
		return nil, fmt.Errorf("tailscale debug go-buildinfo: %w", err)
	}
	for _, s := range bi.Settings {
		if s.Key == "-tags" {
			return ParseTags(strings.ReplaceAll(s.Value, " ", ",")), nil
		}
	}
	return nil, fmt.Errorf("tailscale debug go-buildinfo: no -tags setting (built without tags?)")
}
