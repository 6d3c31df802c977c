package busybox

import (
	"path"
	"strings"
	"testing"
)

// Each own applet parses like an upstream one: the scan lines a source
// tree with it would print resolve the applet to its own symbol.
func TestOwnAppletsResolve(t *testing.T) {
	for _, f := range OwnApplets() {
		name := strings.TrimSuffix(path.Base(f.Path), ".c")
		var scan strings.Builder
		for _, l := range strings.Split(f.Content, "\n") {
			if strings.HasPrefix(l, "//applet:") || configRe.MatchString(l) {
				scan.WriteString(f.Path + ":" + l + "\n")
			}
		}
		ix, err := ParseSource(scan.String())
		if err != nil {
			t.Fatalf("%s: %v", f.Path, err)
		}
		sel, err := ix.Resolve([]Entry{{Name: name, Line: 1}})
		if err != nil {
			t.Fatalf("%s: %v", f.Path, err)
		}
		if sym := sel.Symbol[name]; sym != strings.ToUpper(name) {
			t.Errorf("%s: applet %s has symbol %s", f.Path, name, sym)
		}
		if !strings.Contains(f.Content, "//kbuild:lib-$(CONFIG_"+strings.ToUpper(name)+") += "+name+".o") {
			t.Errorf("%s: no //kbuild: line for %s.o", f.Path, name)
		}
		if dir := path.Dir(f.Path); dir == "." || strings.Contains(dir, "/") {
			t.Errorf("%s: must sit one directory deep, where the scan and gen_build_files.sh look", f.Path)
		}
	}
}
