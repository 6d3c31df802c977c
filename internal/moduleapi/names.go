package moduleapi

import "strings"

// CLIName is what `dagger call` calls a Go function or parameter: the
// engine names it in lowerCamel case, the CLI in kebab case.
func CLIName(goName string) string { return kebab(lowerCamel(goName)) }

// ObjectName is the main object's Go type for a module name in
// dagger.json: strcase.ToCamel of it.
func ObjectName(moduleName string) string {
	l := lowerCamel(moduleName)
	if l == "" {
		return l
	}
	return strings.ToUpper(l[:1]) + l[1:]
}

// lowerCamel is strcase.ToLowerCamel from github.com/iancoleman/strcase
// v0.3.0 (no acronyms configured), which the engine applies to Go function
// and argument names (core/typedef.go, core/gqlformat.go).
func lowerCamel(s string) string {
	s = strings.TrimSpace(s)
	var n strings.Builder
	capNext, prevIsCap := false, false
	for i, v := range []byte(s) {
		vIsCap := v >= 'A' && v <= 'Z'
		vIsLow := v >= 'a' && v <= 'z'
		switch {
		case capNext:
			if vIsLow {
				v -= 'a' - 'A'
			}
		case i == 0:
			if vIsCap {
				v += 'a' - 'A'
			}
		case prevIsCap && vIsCap:
			v += 'a' - 'A'
		}
		prevIsCap = vIsCap
		switch {
		case vIsCap || vIsLow:
			n.WriteByte(v)
			capNext = false
		case v >= '0' && v <= '9':
			n.WriteByte(v)
			capNext = true
		default:
			capNext = v == '_' || v == ' ' || v == '-' || v == '.'
		}
	}
	return n.String()
}

// kebab is strcase.ToKebab (iancoleman/strcase v0.3.0), the dagger CLI's
// cliName for commands and flags (cmd/dagger/module_inspect.go).
func kebab(s string) string {
	s = strings.TrimSpace(s)
	var n strings.Builder
	for i, v := range []byte(s) {
		vIsCap := v >= 'A' && v <= 'Z'
		vIsLow := v >= 'a' && v <= 'z'
		if vIsCap {
			v += 'a' - 'A'
		}
		if i+1 < len(s) {
			next := s[i+1]
			vIsNum := v >= '0' && v <= '9'
			nextIsCap := next >= 'A' && next <= 'Z'
			nextIsLow := next >= 'a' && next <= 'z'
			nextIsNum := next >= '0' && next <= '9'
			if (vIsCap && (nextIsLow || nextIsNum)) || (vIsLow && (nextIsCap || nextIsNum)) || (vIsNum && (nextIsCap || nextIsLow)) {
				if vIsCap && nextIsLow && i > 0 && s[i-1] >= 'A' && s[i-1] <= 'Z' {
					n.WriteByte('-')
				}
				n.WriteByte(v)
				if vIsLow || vIsNum || nextIsNum {
					n.WriteByte('-')
				}
				continue
			}
		}
		if v == ' ' || v == '_' || v == '-' || v == '.' {
			n.WriteByte('-')
		} else {
			n.WriteByte(v)
		}
	}
	return n.String()
}
