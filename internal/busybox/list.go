// Package busybox is the recipe for the BusyBox stage: which applets the
// image gets (busybox-applets.config), how their Kconfig symbols are found
// in the BusyBox source itself, the .config that builds exactly them, the
// make command lines, and the symlink farm that runs them. The Dagger
// function and the host test suite both execute these argv lists and
// texts, so what the tests prove is what the pipeline runs.
package busybox

import (
	"fmt"
	"strings"
)

// ListFile is the applet list's path in the repository.
const ListFile = "busybox-applets.config"

// Entry is one applet of the list and the line it is on (1-based), so
// errors can point at the line.
type Entry struct {
	Name string
	Line int
}

// ParseList reads the applet list: one applet name per line; `#` starts a
// comment (whole line or trailing); blank lines are ignored. Two names on a
// line and duplicates are errors that name the line. The order is kept.
func ParseList(text string) ([]Entry, error) {
	var out []Entry
	seen := map[string]int{}
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		if c := strings.IndexByte(line, '#'); c >= 0 {
			line = line[:c]
		}
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0:
			continue
		case len(fields) > 1:
			return nil, fmt.Errorf("%s:%d: one applet per line, got %q", ListFile, n, strings.TrimSpace(line))
		}
		name := fields[0]
		if first, dup := seen[name]; dup {
			return nil, fmt.Errorf("%s:%d: %q is already listed on line %d", ListFile, n, name, first)
		}
		seen[name] = n
		out = append(out, Entry{Name: name, Line: n})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no applets listed", ListFile)
	}
	return out, nil
}

// Names returns the applet names in list order.
func Names(list []Entry) []string {
	names := make([]string, len(list))
	for i, e := range list {
		names[i] = e.Name
	}
	return names
}
