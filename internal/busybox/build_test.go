package busybox

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSourceLocations(t *testing.T) {
	if got := URL("1.37.0"); got != "https://busybox.net/downloads/busybox-1.37.0.tar.bz2" {
		t.Errorf("URL = %s", got)
	}
	if got := SrcDir("1.37.0"); got != "busybox-1.37.0" {
		t.Errorf("SrcDir = %s", got)
	}
	if got := SHA256Sums("abc", "x.tar.bz2"); got != "abc  x.tar.bz2\n" {
		t.Errorf("SHA256Sums = %q", got)
	}
}

func TestSHA256SumsVerifies(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	for sum, ok := range map[string]bool{
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad": true,
		"3311dff32e746499f4df0d5df04d7eb396382d7e108bb9250e7b519b837043a4": false,
	} {
		if err := os.WriteFile(filepath.Join(dir, "SUMS"), []byte(SHA256Sums(sum, "f")), 0o644); err != nil {
			t.Fatal(err)
		}
		args := VerifyArgs("SUMS")
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = dir
		if err := cmd.Run(); (err == nil) != ok {
			t.Errorf("sha256sum -c with %s: err %v, want ok=%v", sum, err, ok)
		}
	}
}

func TestParseEpochAndEnv(t *testing.T) {
	n, err := ParseEpoch("1727386272\n")
	if err != nil || n != 1727386272 {
		t.Fatalf("ParseEpoch = %d, %v", n, err)
	}
	for _, bad := range []string{"", "x", "-5", "0"} {
		if _, err := ParseEpoch(bad); err == nil {
			t.Errorf("ParseEpoch(%q) accepted", bad)
		}
	}
	if env := Env(n); !slices.Contains(env, "SOURCE_DATE_EPOCH=1727386272") || !slices.Contains(env, "TZ=UTC") {
		t.Errorf("Env = %v", env)
	}
}

func TestMakeArgs(t *testing.T) {
	native := MakeArgs(Toolchain{}, 4)
	if !slices.Equal(native, []string{"make", "-j4", "HOSTCC=gcc", "busybox"}) {
		t.Errorf("native MakeArgs = %v", native)
	}
	cross := MakeArgs(Toolchain{CC: "aarch64-linux-musl-gcc", CrossCompile: "aarch64-linux-gnu-", ExtraCFLAGS: "-isystem /h"}, 0)
	for _, want := range []string{"-j1", "CC=aarch64-linux-musl-gcc", "CROSS_COMPILE=aarch64-linux-gnu-", "EXTRA_CFLAGS=-isystem /h", "busybox"} {
		if !slices.Contains(cross, want) {
			t.Errorf("cross MakeArgs %v lacks %s", cross, want)
		}
	}
}

func TestParseJobs(t *testing.T) {
	if n, err := ParseJobs("2\n"); err != nil || n != 2 {
		t.Errorf("ParseJobs = %d, %v", n, err)
	}
	if _, err := ParseJobs("0"); err == nil {
		t.Error("ParseJobs(0) accepted")
	}
}

func TestLinkArgsBuildsTheFarm(t *testing.T) {
	applets := []string{"sh", "[", "[[", "ls"}
	links := Links(applets)
	if len(links) != 4 || links[1] != (Link{Path: "bin/[", Target: "busybox"}) {
		t.Fatalf("Links = %+v", links)
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, InstallPath), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	args := LinkArgs(applets)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v %s", args, err, out)
	}
	for _, a := range applets {
		target, err := os.Readlink(filepath.Join(root, "bin", a))
		if err != nil || target != "busybox" {
			t.Errorf("bin/%s -> %q, %v", a, target, err)
		}
	}
}

func TestCheckList(t *testing.T) {
	if err := CheckList("[\nls\nsh\n", []string{"sh", "ls", "["}); err != nil {
		t.Errorf("same set rejected: %v", err)
	}
	err := CheckList("ls\nsh\nzcat\nfind\n", []string{"sh", "ls", "["})
	if err == nil || !strings.Contains(err.Error(), "missing [[]") || !strings.Contains(err.Error(), "not listed [find zcat]") {
		t.Errorf("CheckList = %v", err)
	}
}

// The recipe is plain Go: the Dagger bindings panic without an engine.
func TestRecipeDoesNotImportDagger(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		ast, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range ast.Imports {
			if strings.Contains(imp.Path.Value, "internal/dagger") {
				t.Errorf("%s imports %s", f, imp.Path.Value)
			}
		}
	}
}
