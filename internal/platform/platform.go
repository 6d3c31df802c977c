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
	// Qemu runs this arch's binaries on an amd64 host; empty for amd64.
	Qemu string
	// RouterOS is the architecture name RouterOS prints in
	// /system/resource (and its container docs use).
	RouterOS string
}

var supported = []Arch{
	{Name: "amd64", Platform: "linux/amd64", GOARCH: "amd64", Dir: "amd64", RouterOS: "x86_64"},
	{Name: "arm64", Platform: "linux/arm64", GOARCH: "arm64", Dir: "arm64", Qemu: "qemu-aarch64-static", RouterOS: "arm64"},
	{Name: "arm/v7", Platform: "linux/arm/v7", GOARCH: "arm", GOARM: "7", Dir: "armv7", Qemu: "qemu-arm-static", RouterOS: "arm"},
}

// aliases are the other spellings people and tools use for the same targets
// (uname -m, Debian, Docker without the linux/ prefix).
var aliases = map[string]string{
	"x86_64": "amd64", "x86-64": "amd64", "x64": "amd64",
	"aarch64": "arm64", "arm64/v8": "arm64", "armv8": "arm64",
	"armv7": "arm/v7", "armv7l": "arm/v7", "armhf": "arm/v7", "arm": "arm/v7", "arm32v7": "arm/v7",
}

// unsupported explains targets people ask for that we deliberately do not
// build, so the error says why instead of only "no".
var unsupported = map[string]string{
	"arm/v5":  "arm/v5 (RouterOS arm32v5: hAP ax S, hEX refresh) is not built yet",
	"armv5":   "arm/v5 (RouterOS arm32v5: hAP ax S, hEX refresh) is not built yet",
	"armel":   "arm/v5 (RouterOS arm32v5: hAP ax S, hEX refresh) is not built yet",
	"arm32v5": "arm/v5 (RouterOS arm32v5: hAP ax S, hEX refresh) is not built yet",
	"arm/v6":  "arm/v6 has no RouterOS device with container support",
	"mips":    "MIPS RouterOS devices (mmips, mipsbe) have no container support",
	"mipsle":  "MIPS RouterOS devices (mmips, mipsbe) have no container support",
	"mmips":   "MIPS RouterOS devices (mmips, mipsbe) have no container support",
	"mipsbe":  "MIPS RouterOS devices (mmips, mipsbe) have no container support",
	"tile":    "TILE RouterOS devices have no container support",
	"ppc":     "PowerPC RouterOS devices have no container support",
}

// All returns the supported arches in build order.
func All() []Arch { return append([]Arch(nil), supported...) }

// Names returns the canonical names of the supported arches.
func Names() []string {
	names := make([]string, len(supported))
	for i, a := range supported {
		names[i] = a.Name
	}
	return names
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
	msg := fmt.Sprintf("unsupported arch %q: choose one of %s (also accepted: linux/<arch>, aarch64, armv7, x86_64)",
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

// GoEnv is the environment a `go build` for this arch needs. CGO is off:
// the binary must be static to run in a FROM scratch image.
func (a Arch) GoEnv() []string {
	env := []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + a.GOARCH}
	if a.GOARM != "" {
		env = append(env, "GOARM="+a.GOARM)
	}
	return env
}
