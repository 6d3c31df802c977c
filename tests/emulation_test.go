package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dagger/mikrotik-tailscale/internal/busybox"
)

// probeProgram uses what differs between ARM generations: floating point
// (VFP or soft-float), 64-bit atomics (kernel helpers on ARMv5, LDREXD on
// ARMv7) and a goroutine.
const probeProgram = `package main

import (
	"fmt"
	"math"
	"os"
	"sync/atomic"
)

func main() {
	var n atomic.Int64
	done := make(chan bool)
	go func() { n.Add(int64(len(os.Args))); done <- true }()
	<-done
	fmt.Printf("probe %.3f\n", math.Sqrt(float64(n.Load())+1.25))
}
`

// TestArmV5EmulationIsStrict is the negative control for every arm/v5
// result of this suite: the emulated CPU must refuse code the routers
// cannot run (ARMv6+ instructions, VFP), both when qemu is started
// explicitly (archArgv) and through binfmt in a chroot (QEMU_CPU). A
// GOARM=5 soft-float probe must run, and hard-float or ARMv7 builds of the
// same probe must die.
func TestArmV5EmulationIsStrict(t *testing.T) {
	requireRoot(t)
	a := mustArch(t, "arm/v5")
	dir := scratchDir(t, "emulation-probe")
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(probeProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module probe\n\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	builds := map[string]bool{"5": true, "5,hardfloat": false, "6": false, "7": false} // GOARM → runs on arm/v5
	bins := map[string]string{}
	for goarm := range builds {
		bin := filepath.Join(dir, "probe-goarm"+strings.ReplaceAll(goarm, ",", "-"))
		mustRun(t, dir, goEnv("CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm", "GOARM="+goarm), 5*time.Minute,
			"go", "build", "-trimpath", "-o", bin, ".")
		bins[goarm] = bin
	}

	t.Run("qemu", func(t *testing.T) {
		for goarm, ok := range builds {
			r := run(t, dir, nil, time.Minute, archArgv(a, bins[goarm])...)
			if ran := r.Err == nil && strings.HasPrefix(r.Stdout, "probe 1.500"); ran != ok {
				t.Errorf("GOARM=%s under %v: ran=%v, want %v\n%s", goarm, a.QemuArgv(), ran, ok, r)
			}
		}
	})

	t.Run("binfmt-chroot", func(t *testing.T) {
		b := busyboxBuild(t, a, busybox.Chosen)
		root := bbRootfs(t, b, "armv5-emulation")
		var script []string
		for goarm, ok := range builds {
			name := "/probe-" + strings.ReplaceAll(goarm, ",", "-")
			copyFile(t, bins[goarm], filepath.Join(root, name), 0o755)
			if ok {
				script = append(script, name)
			} else {
				script = append(script, "if "+name+"; then echo "+name+" ran; exit 1; fi")
			}
		}
		r := chrootRun(t, a, root, nil, strings.Join(script, "\n"))
		if r.Err != nil || strings.Count(r.Stdout, "probe 1.500") != 1 {
			t.Errorf("chroot with QEMU_CPU: %s", r)
		}
	})
}
