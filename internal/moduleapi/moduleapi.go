// Package moduleapi reads the module's CLI surface (its functions, their
// flags and their help text) from the root package's Go source, the way
// the Dagger Go SDK sees it, and names each one the way `dagger call`
// does. The host suite checks the Woodpecker pipelines and the help text
// against it without running an engine.
package moduleapi

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
)

// Arg is a parameter of a function or of the constructor.
type Arg struct {
	GoName   string
	IsBool   bool
	Required bool
	Doc      string // the comments before it: help text and pragmas
}

// Help is the argument's help text: its comments without pragma lines.
func (a Arg) Help() string { return helpText(a.Doc) }

// Func is a function of the main object, or one of its exported fields.
type Func struct {
	GoName string
	Doc    string         // the doc comment: help text and pragmas
	Args   map[string]Arg // by flag name
	// Object: it returns an object (Container, File, ...): further words
	// are calls on it. A scalar result ends the chain.
	Object bool
	// Field: an exported field of the main object, served without dispatch.
	Field bool
}

// Help is the function's help text: its doc comment without pragma lines.
// The first line is the summary `dagger functions` shows.
func (f Func) Help() string { return helpText(f.Doc) }

// Module is the module's CLI surface.
type Module struct {
	Object      string          // the main object's Go type
	Constructor map[string]Arg  // flags before the function name
	Funcs       map[string]Func // by command name
}

// Load reads the module's functions from the Go files of the root package
// in root (not the generated dagger.gen.go) the way the Go SDK sees them:
// exported methods of the main object and its exported fields (not
// +private ones); arguments are optional with +optional, +default or
// +defaultPath, or as dagger.Optional[T]. The main object is named after
// dagger.json's name.
func Load(root string) (Module, error) {
	var meta struct {
		Name string `json:"name"`
	}
	b, err := os.ReadFile(filepath.Join(root, "dagger.json"))
	if err != nil {
		return Module{}, err
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return Module{}, fmt.Errorf("dagger.json: %w", err)
	}
	mod := Module{
		Object:      ObjectName(meta.Name),
		Constructor: map[string]Arg{},
		Funcs:       map[string]Func{},
	}
	paths, err := filepath.Glob(filepath.Join(root, "*.go"))
	if err != nil {
		return Module{}, err
	}
	fset := token.NewFileSet()
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") || filepath.Base(p) == "dagger.gen.go" {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ParseComments)
		if err != nil {
			return Module{}, err
		}
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					if d.Name.Name == "New" {
						mod.Constructor = funcArgs(f, d.Type)
					}
					continue
				}
				if !d.Name.IsExported() || receiverType(d.Recv) != mod.Object {
					continue
				}
				mod.Funcs[CLIName(d.Name.Name)] = Func{
					GoName: d.Name.Name,
					Doc:    d.Doc.Text(),
					Args:   funcArgs(f, d.Type),
					Object: returnsObject(d.Type),
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					ts, ok := spec.(*ast.TypeSpec)
					if !ok || ts.Name.Name != mod.Object {
						continue
					}
					st, ok := ts.Type.(*ast.StructType)
					if !ok {
						continue
					}
					for _, field := range st.Fields.List {
						if field.Doc != nil && strings.Contains(field.Doc.Text(), "+private") {
							continue
						}
						for _, name := range field.Names {
							if name.IsExported() {
								mod.Funcs[CLIName(name.Name)] = Func{GoName: name.Name, Args: map[string]Arg{}, Object: isObjectType(field.Type), Field: true}
							}
						}
					}
				}
			}
		}
	}
	if len(mod.Funcs) == 0 {
		return Module{}, fmt.Errorf("no functions of %s found in %s/*.go", mod.Object, root)
	}
	return mod, nil
}

// helpText is a doc comment without its pragma lines (+optional, ...).
func helpText(doc string) string {
	var lines []string
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "+") {
			lines = append(lines, l)
		}
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

func receiverType(recv *ast.FieldList) string {
	if recv == nil || len(recv.List) == 0 {
		return ""
	}
	typ := recv.List[0].Type
	if star, ok := typ.(*ast.StarExpr); ok {
		typ = star.X
	}
	if id, ok := typ.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

// funcArgs lists a function's parameters by flag name; a parameter's
// pragmas are the comments between the previous parameter and it.
func funcArgs(f *ast.File, ft *ast.FuncType) map[string]Arg {
	args := map[string]Arg{}
	prevEnd := ft.Params.Opening
	for _, field := range ft.Params.List {
		var pragmas strings.Builder
		for _, cg := range f.Comments {
			if cg.Pos() > prevEnd && cg.End() <= field.Pos() {
				pragmas.WriteString(cg.Text())
			}
		}
		prevEnd = field.End()
		if isContext(field.Type) {
			continue
		}
		p := pragmas.String()
		optional := strings.Contains(p, "+optional") || strings.Contains(p, "+default=") ||
			strings.Contains(p, "+defaultPath=") || isOptionalType(field.Type)
		for _, name := range field.Names {
			args[CLIName(name.Name)] = Arg{GoName: name.Name, IsBool: isIdent(field.Type, "bool"), Required: !optional, Doc: p}
		}
	}
	return args
}

func isContext(e ast.Expr) bool {
	sel, ok := e.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "Context" && isIdent(sel.X, "context")
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

// isOptionalType is dagger.Optional[T].
func isOptionalType(e ast.Expr) bool {
	ix, ok := e.(*ast.IndexExpr)
	if !ok {
		return false
	}
	sel, ok := ix.X.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "Optional"
}

// returnsObject: the first result is a pointer to an object type.
func returnsObject(ft *ast.FuncType) bool {
	if ft.Results == nil || len(ft.Results.List) == 0 {
		return false
	}
	return isObjectType(ft.Results.List[0].Type)
}

func isObjectType(e ast.Expr) bool {
	_, ok := e.(*ast.StarExpr)
	return ok
}
