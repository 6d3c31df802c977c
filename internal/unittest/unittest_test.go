package unittest

import (
	"errors"
	"go/build"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Every unit test of the module outside tests/ is one the `test` function
// runs: its directory is matched by a package pattern of Args (as the go
// command expands it: no element starting with "." or "_", no testdata,
// no nested module), and the file is compiled by a plain `go test` (no
// build constraint such as an `engine` tag excludes it). A test added at
// the repository root, outside internal/, in a nested module or behind a
// tag would otherwise never run in the required check. tests/ itself
// must stay out of the patterns: it needs root and the host's toolchains.
func TestArgsRunEveryUnitTestOutsideTests(t *testing.T) {
	root := moduleRoot(t)
	patterns := packagePatterns(t, Args())
	for _, dir := range []string{"tests", "tests/engine", "tests/perf"} {
		if matched(root, patterns, dir) {
			t.Errorf("Args %v match %s: tests/ needs root and the host's toolchains", Args(), dir)
		}
	}

	testFiles := map[string][]string{} // directory (slash-separated, relative to root) -> *_test.go names
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == ".git" || rel == "tests" {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), "_test.go") {
			testFiles[path.Dir(rel)] = append(testFiles[path.Dir(rel)], d.Name())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(testFiles) == 0 {
		t.Fatalf("found no *_test.go under %s", root)
	}

	for dir, names := range testFiles {
		if !matched(root, patterns, dir) {
			t.Errorf("%s has tests (%s) that Args %v do not run", dir, strings.Join(names, ", "), Args())
			continue
		}
		pkg, err := build.Default.ImportDir(filepath.Join(root, filepath.FromSlash(dir)), 0)
		// NoGoError: every file there is excluded; the loop below names them.
		var noGo *build.NoGoError
		if err != nil && !errors.As(err, &noGo) {
			t.Errorf("%s: %v", dir, err)
			continue
		}
		for _, name := range names {
			if !slices.Contains(pkg.TestGoFiles, name) && !slices.Contains(pkg.XTestGoFiles, name) {
				t.Errorf("%s/%s is excluded by a build constraint: go test never compiles it", dir, name)
			}
		}
	}
}

// moduleRoot is the directory of the go.mod above the test's directory.
func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// packagePatterns are the "./" package patterns of a `go test` command
// line, without the "./".
func packagePatterns(t *testing.T, args []string) []string {
	if len(args) < 3 || args[0] != "go" || args[1] != "test" {
		t.Fatalf("Args = %v, want a go test command line", args)
	}
	var out []string
	for _, a := range args[2:] {
		if p, ok := strings.CutPrefix(a, "./"); ok {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		t.Fatalf("Args = %v name no ./ package pattern", args)
	}
	return out
}

// matched reports whether the go command, run at root, expands one of
// patterns to the package in dir (relative, slash-separated).
func matched(root string, patterns []string, dir string) bool {
	for _, p := range patterns {
		prefix, wild := strings.CutSuffix(p, "/...")
		if p == "..." {
			prefix, wild = ".", true
		}
		var below string
		switch {
		case dir == prefix:
		case wild && prefix == ".":
			below = dir
		case wild && strings.HasPrefix(dir, prefix+"/"):
			below = strings.TrimPrefix(dir, prefix+"/")
		default:
			continue
		}
		if below != "" && !wildcardVisits(below) {
			continue
		}
		if !nestedModule(root, dir) {
			return true
		}
	}
	return false
}

// wildcardVisits reports whether "..." descends into every element of
// rel: the go command skips directories starting with "." or "_" and
// testdata.
func wildcardVisits(rel string) bool {
	for _, e := range strings.Split(rel, "/") {
		if strings.HasPrefix(e, ".") || strings.HasPrefix(e, "_") || e == "testdata" {
			return false
		}
	}
	return true
}

// nestedModule reports whether a go.mod between root (exclusive) and dir
// (inclusive) puts dir in another module.
func nestedModule(root, dir string) bool {
	if dir == "." {
		return false
	}
	d := ""
	for _, e := range strings.Split(dir, "/") {
		d = path.Join(d, e)
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(d), "go.mod")); err == nil {
			return true
		}
	}
	return false
}
