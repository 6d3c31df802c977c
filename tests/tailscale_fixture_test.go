package tests

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"dagger/mikrotik-tailscale/internal/features"
	"dagger/mikrotik-tailscale/internal/pins"
	"dagger/mikrotik-tailscale/internal/platform"
	"dagger/mikrotik-tailscale/internal/tsbuild"
	"dagger/mikrotik-tailscale/internal/tsstage"
)

// tailscaleStage is what the Tailscale stage produced on this host, built
// once per run and shared by the tests that examine it.
type tailscaleStage struct {
	Src       string // writable copy of the pinned module
	GoVersion string // the builder's `go env GOVERSION`
	Known     features.Known
	Review    features.Review
	Raw       map[string]string // arch name → raw binary
	UPX       map[string]string // arch name → UPX'd binary (as shipped)
}

var (
	stageOnce sync.Once
	stage     *tailscaleStage
)

// tailscaleBuild runs the Tailscale stage for every arch once per run:
// the source checks and the review through the functions tailscale.go
// runs (tsstage.CheckSource, tsstage.Review), then the build's argv. The test that
// triggers it reports any build failure; later callers fail too.
func tailscaleBuild(t *testing.T) *tailscaleStage {
	t.Helper()
	requireRoot(t)
	stageOnce.Do(func() { stage = buildTailscaleStage(t) })
	if stage == nil {
		t.Fatal("the Tailscale stage failed to build; see the first failing test")
	}
	return stage
}

func buildTailscaleStage(t *testing.T) *tailscaleStage {
	s := &tailscaleStage{Raw: map[string]string{}, UPX: map[string]string{}}
	s.Src = fetchTailscale(t, "src")

	// The stage's checks and review, as tailscale.go runs them in the
	// golang container.
	out := func(argv []string) (string, error) { return runOK(s.Src, goEnv(), 10*time.Minute, argv...) }
	gomod, err := os.ReadFile(filepath.Join(s.Src, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if err := tsstage.CheckSource(out, gomod, pins.GoVersion, pins.TailscaleVersion); err != nil {
		t.Fatal(err)
	}
	s.GoVersion = strings.TrimSpace(mustRun(t, s.Src, goEnv(), time.Minute, tsstage.GoVersionArgs()...))
	if s.Review, s.Known, err = tsstage.Review(out, nil); err != nil {
		t.Fatal(err)
	}

	// The four platforms build side by side, as the pipeline's do: one
	// core links or packs with UPX while the other compiles.
	for _, a := range platform.All() {
		dir := archDir(t, a)
		s.Raw[a.Name] = filepath.Join(dir, tsbuild.Output+".raw")
		s.UPX[a.Name] = filepath.Join(dir, tsbuild.Output)
	}
	err = platform.Each(func(_ int, a platform.Arch) error {
		raw, packed := s.Raw[a.Name], s.UPX[a.Name]
		if _, err := runOK(s.Src, buildEnv(a, nil), 30*time.Minute, tsbuild.BuildArgs(pins.TailscaleVersion, s.Review.Tags, raw, tsbuild.Options{})...); err != nil {
			return err
		}
		if _, err := runOK("", nil, time.Minute, "cp", raw, packed); err != nil {
			return err
		}
		_, err := runOK(filepath.Dir(packed), nil, 10*time.Minute, tsbuild.UPXArgs(packed)...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fetchTailscale downloads the pinned module through the proxy (verified by
// the checksum database), copies it to a writable directory and adds the
// recipe's own files, as the pipeline does.
func fetchTailscale(t testing.TB, name string) string {
	out := mustRun(t, "", goEnv(), 10*time.Minute, tsbuild.ModDownloadArgs(pins.TailscaleModule, pins.TailscaleVersion)...)
	mod, err := tsbuild.ParseModDownload([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(scratchDir(t, name), "tailscale")
	os.RemoveAll(src)
	mustRun(t, "", nil, time.Minute, "cp", "-R", mod.Dir, src)
	mustRun(t, "", nil, time.Minute, "chmod", "-R", "u+w", src)
	for _, f := range tsbuild.AddedFiles() {
		if err := os.WriteFile(filepath.Join(src, f.Path), []byte(f.Content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return src
}

// buildTailscale runs the recipe's go build for one arch into out.
func buildTailscale(t testing.TB, src string, a platform.Arch, tags []string, out string, extraEnv []string) {
	mustRun(t, src, buildEnv(a, extraEnv), 20*time.Minute, tsbuild.BuildArgs(pins.TailscaleVersion, tags, out, tsbuild.Options{})...)
}

// buildEnv is the recipe's build environment for one arch.
func buildEnv(a platform.Arch, extra []string) []string {
	return goEnv(append(tsbuild.BuildEnv(a), extra...)...)
}
