package moduleapi

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

const source = `package main

import (
	"context"

	"dagger/my-mod/internal/dagger"
)

type MyMod struct {
	// +private
	Hidden string
	Shown  *dagger.Directory
	lower  string
}

func New(
	// The image to build on.
	// +default="golang:1"
	baseImage string,
	// +optional
	verbose bool,
) *MyMod {
	return &MyMod{}
}

// PrCheck runs the checks.
// It returns a report.
func (m *MyMod) PrCheck(
	ctx context.Context,
	// The forge's URL.
	giteaURL string,
	allowUnreviewed bool,
	tag dagger.Optional[string],
) (string, error) {
	return "", nil
}

// Tarball is the image.
func (m *MyMod) Tarball(ctx context.Context) (*dagger.File, error) { return nil, nil }

func (m *MyMod) private() string { return "" }

type Other struct{}

// Run is not the main object's.
func (o *Other) Run() string { return "" }
`

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"dagger.json":   `{"name": "my-mod"}`,
		"main.go":       source,
		"dagger.gen.go": "package main\n\nfunc (m *MyMod) Generated() string { return \"\" }\n",
		"main_test.go":  "package main\n\nfunc (m *MyMod) Tested() string { return \"\" }\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mod, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := Module{
		Object: "MyMod",
		Constructor: map[string]Arg{
			"base-image": {GoName: "baseImage", Required: false, Doc: "The image to build on.\n+default=\"golang:1\"\n"},
			"verbose":    {GoName: "verbose", IsBool: true, Required: false, Doc: "+optional\n"},
		},
		Funcs: map[string]Func{
			"pr-check": {GoName: "PrCheck", Doc: "PrCheck runs the checks.\nIt returns a report.\n", Args: map[string]Arg{
				"gitea-url":        {GoName: "giteaURL", Required: true, Doc: "The forge's URL.\n"},
				"allow-unreviewed": {GoName: "allowUnreviewed", IsBool: true, Required: true},
				"tag":              {GoName: "tag"},
			}},
			"tarball": {GoName: "Tarball", Doc: "Tarball is the image.\n", Args: map[string]Arg{}, Object: true},
			"shown":   {GoName: "Shown", Args: map[string]Arg{}, Object: true, Field: true},
		},
	}
	if !reflect.DeepEqual(mod, want) {
		t.Errorf("Load = %+v\nwant %+v", mod, want)
	}
	if got := mod.Constructor["base-image"].Help(); got != "The image to build on." {
		t.Errorf("help of --base-image = %q", got)
	}
	if got := mod.Funcs["pr-check"].Help(); got != "PrCheck runs the checks.\nIt returns a report." {
		t.Errorf("help of pr-check = %q", got)
	}
}

func TestLoadNoFunctions(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dagger.json"), []byte(`{"name": "empty"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil {
		t.Error("a module without functions was read without an error")
	}
}

// Names as iancoleman/strcase v0.3.0 gives them (ToKebab(ToLowerCamel)),
// which the engine and the CLI use: an acronym is one word, a digit run is
// a word of its own.
func TestNames(t *testing.T) {
	for goName, want := range map[string]string{
		"PrCheck":        "pr-check",
		"giteaURL":       "gitea-url",
		"ID":             "id",
		"HTTPServer":     "httpserver",
		"getV2API":       "get-v-2-api",
		"arm64Image":     "arm-64-image",
		"with_underline": "with-underline",
	} {
		if got := CLIName(goName); got != want {
			t.Errorf("CLIName(%q) = %q, want %q", goName, got, want)
		}
	}
	if got := ObjectName("mikrotik-tailscale"); got != "MikrotikTailscale" {
		t.Errorf("ObjectName(mikrotik-tailscale) = %q", got)
	}
}
