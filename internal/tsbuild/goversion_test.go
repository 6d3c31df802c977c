package tsbuild

import (
	"strings"
	"testing"
)

const gomod = "module tailscale.com\n\ngo 1.27.3\n\ntoolchain go1.27.4\n\nrequire golang.org/x/mod v0.30.0\n"

func TestCheckGoVersionAcceptsEqualAndNewer(t *testing.T) {
	for _, have := range []string{"go1.27.3", "go1.27.10", "go1.28.0", "go1.27.3 X:nodwarf5"} {
		if err := CheckGoVersion(have, []byte(gomod), "v1.104.5"); err != nil {
			t.Errorf("CheckGoVersion(%s): %v", have, err)
		}
	}
}

func TestCheckGoVersionNamesBothVersionsWhenTooOld(t *testing.T) {
	err := CheckGoVersion("go1.27.2\n", []byte(gomod), "v1.106.0")
	if err == nil {
		t.Fatal("older builder accepted")
	}
	for _, want := range []string{"v1.106.0", "requires go1.27.3", "builder has go1.27.2", "internal/pins"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestCheckGoVersionRejectsGarbage(t *testing.T) {
	if err := CheckGoVersion("devel", []byte(gomod), "v1"); err == nil {
		t.Error("unparseable builder version accepted")
	}
	if err := CheckGoVersion("go1.27.3", []byte("module x\n"), "v1"); err == nil {
		t.Error("go.mod without go line accepted")
	}
	if err := CheckGoVersion("go1.27.3", []byte("module x\ngo !!\n"), "v1"); err == nil {
		t.Error("malformed go.mod accepted")
	}
}

func TestCheckPinnedGo(t *testing.T) {
	if err := CheckPinnedGo("go1.27.3\n", "1.27.3"); err != nil {
		t.Fatal(err)
	}
	if err := CheckPinnedGo("go1.27.3 X:nodwarf5", "1.27.3"); err != nil {
		t.Fatal(err)
	}
	for _, have := range []string{"go1.27.4", "go1.27", "go1.27.30", ""} {
		err := CheckPinnedGo(have, "1.27.3")
		if err == nil || !strings.Contains(err.Error(), "--golang-image") {
			t.Errorf("%q: %v", have, err)
		}
	}
}
