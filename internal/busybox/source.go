package busybox

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// SourceLinesArgs prints, each prefixed with its file name, every
// `//applet:` line and every Kconfig symbol definition (`config FOO`,
// also as `//config:config FOO` in .c files) of the BusyBox source, with
// the type lines (`bool "…"`, `int`, `string`, …) that follow them. Run it
// in the unpacked source tree. The .c globs are the ones BusyBox's own
// scripts/gen_build_files.sh reads to generate include/applets.h and the
// Config.in files, so this sees exactly what the build can produce. In .c
// files only `//config:` lines are Kconfig; their other lines are C.
func SourceLinesArgs() []string {
	types := "(bool|tristate|int|hex|string)([[:space:]]|$)"
	return []string{"sh", "-c", "grep -HE '^(menu)?config[[:space:]]|^[[:space:]]+" + types + "' " +
		"Config.in */Config.src */*/Config.src && " +
		"grep -HE '^//applet:|^//config:(menu)?config[[:space:]]|^//config:[[:space:]]+" + types + "' " +
		"*/*.c */*/*.c"}
}

// Provider is one way the source can produce an applet: the Kconfig symbol
// that switches it on (without the CONFIG_ prefix) and the applet whose
// main function implements it.
type Provider struct {
	Symbol string
	Main   string
	File   string
}

// Index maps every applet name the source knows to its providers, and
// knows every Kconfig symbol the source defines.
type Index struct {
	providers map[string][]Provider
	symbols   map[string]bool   // applet symbols
	all       map[string]bool   // every config symbol
	types     map[string]string // symbol → Kconfig type of its first definition
}

var (
	// IF_SYM( wrappers (one or more: the outermost is the applet's own
	// symbol, inner ones are extra conditions), then the APPLET macro.
	appletRe = regexp.MustCompile(`^((?:IF_[A-Za-z0-9_]+\(\s*)+)(APPLET(?:_[A-Z]+)?)\(\s*([^,\s()]+)\s*,\s*([^,\s()]+)`)
	ifRe     = regexp.MustCompile(`IF_([A-Za-z0-9_]+)\(`)
	configRe = regexp.MustCompile(`^(?://config:)?(?:menu)?config\s+([A-Za-z0-9_]+)\s*$`)
	typeRe   = regexp.MustCompile(`^(?://config:)?\s+(bool|tristate|int|hex|string)(?:\s|$)`)
)

// ParseSource builds the index from SourceLinesArgs output:
// "file://applet:IF_SYM(APPLET...(name, ...))" lines give the applet →
// symbol map, "file:config SYM" lines the symbol universe, and the first
// type line after a definition in the same file its type. Comment and
// preprocessor //applet: lines are skipped; any other //applet: line that
// does not parse is an error, so a format change upstream fails loudly
// instead of silently losing applets.
func ParseSource(out string) (*Index, error) {
	ix := &Index{providers: map[string][]Provider{}, symbols: map[string]bool{}, all: map[string]bool{}, types: map[string]string{}}
	untyped := map[string]string{} // file → its last definition still waiting for a type line
	for _, line := range strings.Split(out, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		file, body, ok := strings.Cut(line, "://applet:")
		if !ok {
			file, body, ok = strings.Cut(line, ":")
			if !ok {
				return nil, fmt.Errorf("unexpected line in source scan output: %q", line)
			}
			if m := configRe.FindStringSubmatch(body); m != nil {
				ix.all[m[1]] = true
				untyped[file] = m[1]
				continue
			}
			m := typeRe.FindStringSubmatch(body)
			if m == nil {
				return nil, fmt.Errorf("unexpected line in source scan output: %q", line)
			}
			// A help text line may look like a type line; only the
			// first one after a definition is its type.
			if sym := untyped[file]; sym != "" {
				if _, seen := ix.types[sym]; !seen {
					ix.types[sym] = m[1]
				}
				delete(untyped, file)
			}
			continue
		}
		body = strings.TrimSpace(body)
		if body == "" || strings.HasPrefix(body, "#") || strings.HasPrefix(body, "/*") || strings.HasPrefix(body, "//") {
			continue
		}
		m := appletRe.FindStringSubmatch(body)
		if m == nil {
			return nil, fmt.Errorf("%s: cannot parse //applet:%s", file, body)
		}
		symbol := ifRe.FindStringSubmatch(m[1])[1]
		macro, name, second := m[2], m[3], m[4]
		main := second // APPLET_ODDNAME/NOEXEC/NOFORK/SCRIPTED(name, main, ...)
		if macro == "APPLET" {
			main = name // APPLET(name, location, suid)
		}
		p := Provider{Symbol: symbol, Main: main, File: file}
		dup := false
		for _, q := range ix.providers[name] {
			if q.Symbol == p.Symbol {
				dup = true // same applet, other source variant (modutils)
			}
		}
		if !dup {
			ix.providers[name] = append(ix.providers[name], p)
		}
		ix.symbols[symbol] = true
	}
	if len(ix.providers) == 0 {
		return nil, fmt.Errorf("no //applet: lines found: not a BusyBox source tree?")
	}
	for sym := range ix.symbols {
		if !ix.all[sym] {
			return nil, fmt.Errorf("applet symbol %s has no `config %s` definition in the source", sym, sym)
		}
	}
	return ix, nil
}

// AllSymbols returns every config symbol the source defines, sorted.
func (ix *Index) AllSymbols() []string {
	out := make([]string, 0, len(ix.all))
	for s := range ix.all {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Defines reports whether the source defines the config symbol.
func (ix *Index) Defines(sym string) bool { return ix.all[sym] }

// Type is the Kconfig type of a defined symbol (bool, int, string, …), or
// "" when the source gives none.
func (ix *Index) Type(sym string) string { return ix.types[sym] }

// Applets returns every applet name the source knows, sorted.
func (ix *Index) Applets() []string {
	out := make([]string, 0, len(ix.providers))
	for name := range ix.providers {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Symbols returns every applet symbol, sorted.
func (ix *Index) Symbols() []string {
	out := make([]string, 0, len(ix.symbols))
	for s := range ix.symbols {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Providers returns the providers of one applet (nil if unknown).
func (ix *Index) Providers(name string) []Provider {
	return append([]Provider(nil), ix.providers[name]...)
}

// Selection is the resolved applet list.
type Selection struct {
	// Applets in list order.
	Applets []string
	// Symbol is the Kconfig symbol chosen for each applet.
	Symbol map[string]string
}

// Symbols returns the chosen symbols, sorted.
func (s Selection) Symbols() []string {
	out := make([]string, 0, len(s.Symbol))
	for _, sym := range s.Symbol {
		out = append(out, sym)
	}
	sort.Strings(out)
	return out
}

// Resolve maps each listed applet to its symbol. Unknown names are errors
// naming their lines (all of them at once). An applet with several
// providers (`sh` is SH_IS_ASH or SH_IS_HUSH) takes the one whose
// implementing applet is listed too (`ash` or `hush`).
func (ix *Index) Resolve(list []Entry) (Selection, error) {
	listed := map[string]bool{}
	for _, e := range list {
		listed[e.Name] = true
	}
	sel := Selection{Symbol: map[string]string{}}
	var errs []string
	for _, e := range list {
		ps := ix.providers[e.Name]
		if len(ps) == 0 {
			errs = append(errs, fmt.Sprintf("%s:%d: BusyBox has no applet %q", ListFile, e.Line, e.Name))
			continue
		}
		p := ps[0]
		if len(ps) > 1 {
			var picked []Provider
			var mains []string
			for _, q := range ps {
				mains = append(mains, q.Main)
				if listed[q.Main] {
					picked = append(picked, q)
				}
			}
			if len(picked) != 1 {
				var alts []string
				for _, q := range ps {
					alts = append(alts, q.Symbol+" ("+q.Main+")")
				}
				errs = append(errs, fmt.Sprintf("%s:%d: %q is provided by %s; list exactly one of %s as well to choose",
					ListFile, e.Line, e.Name, strings.Join(alts, " or "), strings.Join(mains, ", ")))
				continue
			}
			p = picked[0]
		}
		sel.Applets = append(sel.Applets, e.Name)
		sel.Symbol[e.Name] = p.Symbol
	}
	if len(errs) > 0 {
		return Selection{}, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return sel, nil
}
