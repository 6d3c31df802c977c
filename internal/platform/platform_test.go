package platform

import (
	"slices"
	"strings"
	"testing"
)

func TestParseAcceptsCanonicalPrefixedAndAliases(t *testing.T) {
	cases := map[string]string{
		"amd64": "amd64", "linux/amd64": "amd64", "x86_64": "amd64", " AMD64 ": "amd64",
		"arm64": "arm64", "linux/arm64": "arm64", "aarch64": "arm64", "linux/arm64/v8": "arm64",
		"arm/v7": "arm/v7", "linux/arm/v7": "arm/v7", "armv7": "arm/v7", "armv7l": "arm/v7", "armhf": "arm/v7",
	}
	for in, want := range cases {
		a, err := Parse(in)
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		if a.Name != want {
			t.Errorf("Parse(%q) = %s, want %s", in, a.Name, want)
		}
	}
}

func TestArmV7UsesBareGOARM(t *testing.T) {
	a, err := Parse("arm/v7")
	if err != nil {
		t.Fatal(err)
	}
	if a.GOARCH != "arm" || a.GOARM != "7" || a.Platform != "linux/arm/v7" || a.Dir != "armv7" {
		t.Fatalf("arm/v7 = %+v", a)
	}
	env := a.GoEnv()
	for _, want := range []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm", "GOARM=7"} {
		if !slices.Contains(env, want) {
			t.Errorf("GoEnv() = %v, missing %s", env, want)
		}
	}
	amd, _ := Parse("amd64")
	for _, e := range amd.GoEnv() {
		if strings.HasPrefix(e, "GOARM=") {
			t.Errorf("amd64 env carries %s", e)
		}
	}
}

func TestParseRejectsUnsupportedWithChoicesAndReason(t *testing.T) {
	cases := map[string]string{
		"arm/v5":       "hAP ax S",
		"linux/arm/v5": "arm32v5",
		"mips":         "no container support",
		"riscv64":      "",
		"":             "",
	}
	for in, reason := range cases {
		_, err := Parse(in)
		if err == nil {
			t.Errorf("Parse(%q) succeeded", in)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "amd64, arm64, arm/v7") {
			t.Errorf("Parse(%q) error does not list the choices: %s", in, msg)
		}
		if reason != "" && !strings.Contains(msg, reason) {
			t.Errorf("Parse(%q) error lacks %q: %s", in, reason, msg)
		}
	}
}

func TestParseList(t *testing.T) {
	all, err := ParseList("all")
	if err != nil || len(all) != len(supported) {
		t.Fatalf("ParseList(all) = %v, %v", all, err)
	}
	got, err := ParseList("arm64, aarch64,linux/arm/v7")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "arm64" || got[1].Name != "arm/v7" {
		t.Fatalf("ParseList dedup = %v", got)
	}
	if _, err := ParseList("amd64,mips"); err == nil {
		t.Fatal("ParseList accepted mips")
	}
}
