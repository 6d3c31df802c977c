package tailnet

import (
	"os"
	"path/filepath"
	"sort"

	"dagger/mikrotik-tailscale/internal/layout"
)

// StateDir is what a router's state directory holds.
type StateDir struct {
	Files map[string]os.FileInfo // by path relative to the directory
	// Unexpected are files docs/DESIGN.md's flash-wear section does not
	// name: not layout.StateFiles (or their atomic-write temporaries),
	// not the lab CA in extra-ca/.
	Unexpected []string
}

// ReadStateDir lists dir (the engine's check and the host suite's flash
// test read it alike). A file renamed away mid-walk by an atomic write is
// skipped.
func ReadStateDir(dir string) (StateDir, error) {
	sd := StateDir{Files: map[string]os.FileInfo{}}
	ca := filepath.Join(filepath.Base(layout.ExtraCADir), CAName)
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		sd.Files[rel] = info
		if !layout.IsStateFile(rel) && rel != ca {
			sd.Unexpected = append(sd.Unexpected, rel)
		}
		return nil
	})
	sort.Strings(sd.Unexpected)
	return sd, err
}

// Names are the files' paths, sorted.
func (sd StateDir) Names() []string {
	var n []string
	for k := range sd.Files {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}
