package debtools

import (
	"strings"
	"testing"

	"dagger/mikrotik-tailscale/internal/pins"
)

// The container installs exactly the pinned UPX and downloads exactly the
// pinned CA package, from the backports source it adds itself.
func TestAptArgsPinExactVersions(t *testing.T) {
	args := AptArgs()
	if len(args) != 3 || args[0] != "sh" || args[1] != "-c" {
		t.Fatalf("AptArgs = %q", args)
	}
	script := args[2]
	for _, want := range []string{
		"set -e",
		"apt-get install -y -qq --no-install-recommends 'upx-ucl=" + pins.UPXVersion + "'",
		"cd '" + DebDir + "'",
		"apt-get download -qq 'ca-certificates=" + pins.CACertificatesVersion + "'",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q:\n%s", want, script)
		}
	}
	if strings.Index(script, "apt-get update") > strings.Index(script, "apt-get install") {
		t.Error("install before update")
	}
	if !strings.Contains(BackportsLine, "bookworm-backports") || !strings.HasSuffix(BackportsLine, "\n") {
		t.Errorf("BackportsLine %q", BackportsLine)
	}
}

func TestCheckUPXVersion(t *testing.T) {
	if err := CheckUPXVersion(pins.UPXVersion + "\n"); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"", "4.2.2-3", "4.2.4-1~bpo12+1"} {
		if err := CheckUPXVersion(v); err == nil || !strings.Contains(err.Error(), pins.UPXVersion) {
			t.Errorf("%q: %v", v, err)
		}
	}
}
