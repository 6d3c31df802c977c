package busybox

import (
	"slices"
	"strings"
	"testing"

	"dagger/mikrotik-tailscale/internal/platform"
)

func TestEveryPlatformHasACrossToolchain(t *testing.T) {
	for _, a := range platform.All() {
		tc, err := CrossToolchain(a.Debian, "/h")
		if err != nil {
			t.Errorf("%s: %v", a.Name, err)
			continue
		}
		if !strings.HasSuffix(tc.CC, "-gcc") || !strings.Contains(tc.CC, "musl") || !strings.HasSuffix(tc.CrossCompile, "-") || tc.ExtraCFLAGS != "-isystem /h" {
			t.Errorf("%s: %+v", a.Name, tc)
		}
	}
	armel, _ := CrossToolchain("armel", "/h")
	if armel.CC != "arm-linux-musleabi-gcc" || armel.CrossCompile != "arm-linux-gnueabi-" {
		t.Errorf("armel (soft-float EABI) = %+v", armel)
	}
	if _, err := CrossToolchain("mips", "/h"); err == nil || !strings.Contains(err.Error(), strings.Join(platform.DebianArches(), ", ")) {
		t.Errorf("unknown arch: %v", err)
	}
}

func TestPackagesOnAnAmd64Machine(t *testing.T) {
	got, err := Packages("amd64", platform.DebianArches())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"bzip2", "gcc", "gcc-aarch64-linux-gnu", "gcc-arm-linux-gnueabi", "gcc-arm-linux-gnueabihf", "libc6-dev",
		"linux-libc-dev-amd64-cross", "linux-libc-dev-arm64-cross", "linux-libc-dev-armel-cross", "linux-libc-dev-armhf-cross",
		"make", "musl-dev:amd64", "musl-dev:arm64", "musl-dev:armel", "musl-dev:armhf",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Packages(amd64) =\n%v\nwant\n%v", got, want)
	}
}

func TestPackagesOnAnArm64MachineCrossCompileAmd64(t *testing.T) {
	got, err := Packages("arm64", platform.DebianArches())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(got, "gcc-x86-64-linux-gnu") || slices.Contains(got, "gcc-aarch64-linux-gnu") {
		t.Errorf("Packages(arm64) = %v", got)
	}
	if _, err := Packages("riscv64", platform.DebianArches()); err == nil {
		t.Error("unknown build machine accepted")
	}
}

func TestAptArgsAddsOnlyForeignArches(t *testing.T) {
	args, err := AptArgs("amd64", platform.DebianArches())
	if err != nil {
		t.Fatal(err)
	}
	script := args[2]
	for _, want := range []string{"dpkg --add-architecture 'arm64'", "dpkg --add-architecture 'armel'", "'musl-dev:armel'", "--no-install-recommends"} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q:\n%s", want, script)
		}
	}
	if strings.Contains(script, "--add-architecture 'amd64'") {
		t.Errorf("native arch added as foreign:\n%s", script)
	}
	if strings.Index(script, "--add-architecture") > strings.Index(script, "apt-get update") {
		t.Errorf("architectures added after apt-get update:\n%s", script)
	}
}

func TestKernelHeadersArgsLinksEachTree(t *testing.T) {
	args, err := KernelHeadersArgs("armel", "/tmp/h")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range kernelHeaderDirs {
		src := "/usr/arm-linux-gnueabi/include/" + d
		if !strings.Contains(args[2], "test -d '"+src+"'") || !strings.Contains(args[2], "ln -sfn '"+src+"' '/tmp/h/"+d+"'") {
			t.Errorf("%s not linked:\n%s", d, args[2])
		}
	}
	if _, err := KernelHeadersArgs("sparc", "/tmp/h"); err == nil {
		t.Error("unknown arch accepted")
	}
}
