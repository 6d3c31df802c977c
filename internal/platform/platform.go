// Package platform maps the --arch a user types to everything a build needs
// to know about that target: OCI platform, Go cross-compile settings, the
// artifact folder name and the qemu-user binary that runs it on an amd64 host.
package platform

import (
	"fmt"
	"strings"
)

// Arch is one supported RouterOS container platform.
type Arch struct {
	// Name is the canonical short name, as accepted by --arch.
	Name string
	// Platform is the OCI platform string ("linux/arm/v7").
	Platform string
	// GOARCH and GOARM drive the Go cross-compile. GOARM is the bare number
	// Go expects ("7"), never the OCI variant ("v7").
	GOARCH string
	GOARM  string
	// Dir is a filesystem-safe name for per-arch artifacts ("armv7").
	Dir string
	// Debian is the dpkg architecture of the same ABI ("armel" for soft-
	// float ARMv5TE EABI): it names the cross toolchain packages BusyBox is
	// built with.
	Debian string
	// Qemu runs this arch's binaries on an amd64 host; empty for amd64.
	Qemu string
	// QemuCPU is the CPU model qemu emulates instead of its permissive
	// default ("max"), so an instruction the real routers lack faults in
	// the tests too. Empty keeps the default.
	QemuCPU string
	// RouterOS is the architecture name RouterOS prints in
	// /system/resource (and its container docs use).
	RouterOS string
	// GNUTriplet names Debian's cross binutils and gcc for Debian
	// (gcc-<triplet>), MuslTriplet the musl wrapper (<triplet>-gcc, in
	// musl-dev:<Debian>): BusyBox's toolchain. tests/run-all.sh reads
	// both from this table.
	GNUTriplet, MuslTriplet string
	// MaxCompressed and MaxUncompressed are the image's default size
	// budget (budget.Defaults): the host suite's measured sizes
	// (report.json: image_gzip_bytes, image_tar_bytes) plus about 3 %, so
	// a real regression fails while small upstream growth does not.
	MaxCompressed, MaxUncompressed int64
}

var supported = []Arch{
	{Name: "amd64", Platform: "linux/amd64", GOARCH: "amd64", Dir: "amd64", Debian: "amd64", GNUTriplet: "x86_64-linux-gnu", MuslTriplet: "x86_64-linux-musl", RouterOS: "x86_64",
		MaxCompressed: 4_520_000, MaxUncompressed: 4_590_000},
	{Name: "arm64", Platform: "linux/arm64", GOARCH: "arm64", Dir: "arm64", Debian: "arm64", GNUTriplet: "aarch64-linux-gnu", MuslTriplet: "aarch64-linux-musl", Qemu: "qemu-aarch64-static", RouterOS: "arm64",
		MaxCompressed: 3_720_000, MaxUncompressed: 3_790_000},
	{Name: "arm/v7", Platform: "linux/arm/v7", GOARCH: "arm", GOARM: "7", Dir: "armv7", Debian: "armhf", GNUTriplet: "arm-linux-gnueabihf", MuslTriplet: "arm-linux-musleabihf", Qemu: "qemu-arm-static", RouterOS: "arm",
		MaxCompressed: 3_690_000, MaxUncompressed: 3_760_000},
	// RouterOS's arm32v5 devices (hEX refresh, hEX S 2025, hAP ax S):
	// soft-float ARMv5TE, the ABI of Debian armel. Hard-float (armhf,
	// GOARM=7) programs die there with SIGILL, so the tests emulate an
	// ARMv5TEJ core (arm926) with its optional VFP switched off.
	{Name: "arm/v5", Platform: "linux/arm/v5", GOARCH: "arm", GOARM: "5", Dir: "armv5", Debian: "armel", GNUTriplet: "arm-linux-gnueabi", MuslTriplet: "arm-linux-musleabi", Qemu: "qemu-arm-static", QemuCPU: "arm926,vfp=off", RouterOS: "arm",
		MaxCompressed: 3_700_000, MaxUncompressed: 3_760_000},
}

// aliases are the other spellings people and tools use for the same targets
// (uname -m, Debian, Docker without the linux/ prefix).
var aliases = map[string]string{
	"x86_64": "amd64", "x86-64": "amd64", "x64": "amd64",
	"aarch64": "arm64", "arm64/v8": "arm64", "armv8": "arm64",
	// armv8l: uname -m of 32-bit ARM code on an ARMv8 CPU (e.g. 32-bit
	// RouterOS "arm" on a 64-bit core); it runs armhf (ARMv7) binaries.
	"armv7": "arm/v7", "armv7l": "arm/v7", "armv8l": "arm/v7", "armhf": "arm/v7", "arm": "arm/v7", "arm32v7": "arm/v7",
	"armv5": "arm/v5", "armv5l": "arm/v5", "armv5te": "arm/v5", "armv5tel": "arm/v5", "armel": "arm/v5", "arm32v5": "arm/v5",
}

// unsupported explains targets people ask for that we deliberately do not
// build, so the error says why instead of only "no".
var unsupported = map[string]string{
	"arm/v6": "arm/v6 has no RouterOS device with container support (arm32v5 devices take arm/v5)",
	"armv6":  "arm/v6 has no RouterOS device with container support (arm32v5 devices take arm/v5)",
	"mips":   "MIPS RouterOS devices (mmips, mipsbe) have no container support",
	"mipsle": "MIPS RouterOS devices (mmips, mipsbe) have no container support",
	"mmips":  "MIPS RouterOS devices (mmips, mipsbe) have no container support",
	"mipsbe": "MIPS RouterOS devices (mmips, mipsbe) have no container support",
	"tile":   "TILE RouterOS devices have no container support",
	"ppc":    "PowerPC RouterOS devices have no container support",
}

// All returns the supported arches in build order.
func All() []Arch { return append([]Arch(nil), supported...) }

// Index is the position of the platform named name in All(), or -1.
func Index(name string) int {
	for i, a := range supported {
		if a.Name == name {
			return i
		}
	}
	return -1
}

// Names returns the canonical names of the supported arches.
func Names() []string {
	names := make([]string, len(supported))
	for i, a := range supported {
		names[i] = a.Name
	}
	return names
}

// ByDebian is the supported arch whose Debian architecture is deb.
func ByDebian(deb string) (Arch, bool) {
	for _, a := range supported {
		if a.Debian == deb {
			return a, true
		}
	}
	return Arch{}, false
}

// DebianArches returns each supported arch's Debian architecture, in
// build order.
func DebianArches() []string {
	out := make([]string, len(supported))
	for i, a := range supported {
		out[i] = a.Debian
	}
	return out
}

// Parse resolves a user-supplied arch ("arm/v7", "linux/arm/v7", "armv7",
// "aarch64", ...) to a supported Arch, or explains which ones exist.
func Parse(s string) (Arch, error) {
	key := strings.ToLower(strings.TrimSpace(s))
	key = strings.TrimPrefix(key, "linux/")
	if canonical, ok := aliases[key]; ok {
		key = canonical
	}
	for _, a := range supported {
		if a.Name == key {
			return a, nil
		}
	}
	msg := fmt.Sprintf("unsupported arch %q: choose one of %s (also accepted: linux/<arch>, aarch64, armv7, armv5, armel, x86_64)",
		s, strings.Join(Names(), ", "))
	if why, ok := unsupported[key]; ok {
		msg += "; " + why
	}
	return Arch{}, fmt.Errorf("%s", msg)
}

// ParseList resolves a comma-separated list of arches; "all" or an empty
// string means every supported arch. Duplicates are dropped.
func ParseList(s string) ([]Arch, error) {
	if t := strings.TrimSpace(s); t == "" || strings.EqualFold(t, "all") {
		return All(), nil
	}
	var out []Arch
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		a, err := Parse(part)
		if err != nil {
			return nil, err
		}
		if !seen[a.Name] {
			seen[a.Name] = true
			out = append(out, a)
		}
	}
	return out, nil
}

// QemuArgv is the command prefix that runs one of this arch's binaries on
// an amd64 host: nil for amd64, else qemu-user with QemuCPU.
func (a Arch) QemuArgv() []string {
	if a.Qemu == "" {
		return nil
	}
	if a.QemuCPU == "" {
		return []string{a.Qemu}
	}
	return []string{a.Qemu, "-cpu", a.QemuCPU}
}

// QemuEnv is QemuCPU for qemu started by binfmt_misc, which passes no
// options but reads QEMU_CPU from the environment. Nil when unset.
func (a Arch) QemuEnv() []string {
	if a.Qemu == "" || a.QemuCPU == "" {
		return nil
	}
	return []string{"QEMU_CPU=" + a.QemuCPU}
}

// GoEnv is the environment a `go build` for this arch needs. CGO is off:
// the binary must be static to run in a FROM scratch image.
func (a Arch) GoEnv() []string {
	env := []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + a.GOARCH}
	if a.GOARM != "" {
		env = append(env, "GOARM="+a.GOARM)
	}
	return env
}
