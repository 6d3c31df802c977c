package layout

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"dagger/mikrotik-tailscale/internal/busybox"
)

// committedList is the text of the repository's applet list.
func committedList(t *testing.T) string {
	t.Helper()
	text, err := os.ReadFile(filepath.Join("..", "..", busybox.ListFile))
	if err != nil {
		t.Fatal(err)
	}
	return string(text)
}

// The committed applet list gives a valid layout whose BusyBox layer
// links exactly the listed applets.
func TestImageLayersFromTheCommittedList(t *testing.T) {
	text := committedList(t)
	layers, err := ImageLayers(text)
	if err != nil {
		t.Fatal(err)
	}
	list, err := busybox.ParseList(text)
	if err != nil {
		t.Fatal(err)
	}
	var linked []string
	for _, l := range layers {
		for _, e := range l.Entries {
			if e.Kind == Symlink && e.Target == "busybox" {
				linked = append(linked, filepath.Base(e.Path))
			}
		}
	}
	want := slices.DeleteFunc(busybox.Names(list), func(a string) bool { return a == "busybox" })
	slices.Sort(linked)
	slices.Sort(want)
	if !slices.Equal(linked, want) {
		t.Errorf("applet links %v, want the list's %v", linked, want)
	}
}

// A broken list is an error that names the list, not a layout.
func TestImageLayersRejectsABrokenList(t *testing.T) {
	_, err := ImageLayers("sh\nsh\n")
	if err == nil || !strings.Contains(err.Error(), busybox.ListFile) {
		t.Fatalf("a duplicate applet: %v", err)
	}
}
