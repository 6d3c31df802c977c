// Package report merges measurements into ARTIFACTS_DIR/report.json. Each
// stage of the host suite contributes its own keys; merging (rather than
// overwriting) lets stages run separately and still produce one report.
package suitereport

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
)

var mu sync.Mutex

// Merge deep-merges patch into the JSON object stored at path, creating the
// file if needed. Objects merge key by key; any other value replaces.
func Merge(path string, patch map[string]any) error {
	mu.Lock()
	defer mu.Unlock()
	doc := map[string]any{}
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &doc); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	// Round-trip the patch through JSON so typed values (structs, slices)
	// merge like the decoded document does.
	pb, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	var p map[string]any
	if err := json.Unmarshal(pb, &p); err != nil {
		return err
	}
	mergeInto(doc, p)
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(out, '\n'), 0o644)
}

func mergeInto(dst, src map[string]any) {
	for k, v := range src {
		sub, isObj := v.(map[string]any)
		cur, curObj := dst[k].(map[string]any)
		if isObj && curObj {
			mergeInto(cur, sub)
			continue
		}
		dst[k] = v
	}
}
