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
		"arm/v7": "arm/v7", "linux/arm/v7": "arm/v7", "armv7": "arm/v7", "armv7l": "arm/v7", "armv8l": "arm/v7", "armhf": "arm/v7",
		"arm/v5": "arm/v5", "linux/arm/v5": "arm/v5", "armv5": "arm/v5", "armel": "arm/v5", "arm32v5": "arm/v5", "armv5tel": "arm/v5",
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

func TestArmV5IsSoftFloatArmelOnAnArm926(t *testing.T) {
	a, err := Parse("arm32v5")
	if err != nil {
		t.Fatal(err)
	}
	if a.GOARCH != "arm" || a.GOARM != "5" || a.Platform != "linux/arm/v5" || a.Dir != "armv5" || a.Debian != "armel" {
		t.Fatalf("arm/v5 = %+v", a)
	}
	if !slices.Contains(a.GoEnv(), "GOARM=5") {
		t.Errorf("GoEnv() = %v, missing GOARM=5", a.GoEnv())
	}
	if got := a.QemuArgv(); !slices.Equal(got, []string{"qemu-arm-static", "-cpu", "arm926,vfp=off"}) {
		t.Errorf("QemuArgv() = %v", got)
	}
	if got := a.QemuEnv(); !slices.Equal(got, []string{"QEMU_CPU=arm926,vfp=off"}) {
		t.Errorf("QemuEnv() = %v", got)
	}
}

func TestQemuPrefixOnlyForForeignArches(t *testing.T) {
	for _, a := range All() {
		argv, env := a.QemuArgv(), a.QemuEnv()
		switch {
		case a.GOARCH == "amd64" && (argv != nil || env != nil):
			t.Errorf("%s: native arch runs through %v %v", a.Name, argv, env)
		case a.GOARCH != "amd64" && (len(argv) == 0 || argv[0] != a.Qemu):
			t.Errorf("%s: QemuArgv() = %v", a.Name, argv)
		case a.QemuCPU == "" && env != nil:
			t.Errorf("%s: QemuEnv() = %v without a CPU model", a.Name, env)
		}
	}
}

func TestEveryArchIsComplete(t *testing.T) {
	dirs, debs := map[string]bool{}, map[string]bool{}
	for _, a := range All() {
		if a.Name == "" || a.Platform != "linux/"+a.Name || a.GOARCH == "" || a.Dir == "" || a.Debian == "" || a.RouterOS == "" {
			t.Errorf("incomplete arch %+v", a)
		}
		if dirs[a.Dir] || debs[a.Debian] {
			t.Errorf("%s: Dir %q or Debian %q used twice", a.Name, a.Dir, a.Debian)
		}
		dirs[a.Dir], debs[a.Debian] = true, true
	}
}

func TestParseRejectsUnsupportedWithChoicesAndReason(t *testing.T) {
	cases := map[string]string{
		"arm/v6":       "arm/v5",
		"linux/arm/v6": "no RouterOS device",
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
		if !strings.Contains(msg, "amd64, arm64, arm/v7, arm/v5") {
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

func TestIndexFindsEveryArchAndOnlyThose(t *testing.T) {
	for i, a := range All() {
		if got := Index(a.Name); got != i {
			t.Errorf("Index(%q) = %d, want %d", a.Name, got, i)
		}
	}
	if Index("mips") != -1 || Index("arm/v6") != -1 {
		t.Error("Index found an unsupported platform")
	}
}
