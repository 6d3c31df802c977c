package tests

// renovate.json checked by Renovate itself (the npm package tests/run-all.sh
// installs, the version .woodpecker/renovate.yaml runs): its validator, its
// extractor on this repository, and its own package-rule and version-filter
// code for the automerge policy. Everything runs without network, in an
// empty network namespace.

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"dagger/mikrotik-tailscale/internal/pins"
)

// renovatePrefix is where tests/run-all.sh installed Renovate (npm
// --prefix). It fails, never skips, when Renovate is not there.
func renovatePrefix(t testing.TB) string {
	t.Helper()
	version := runAllRenovateVersion(t)
	prefix := os.Getenv("RENOVATE_PREFIX")
	if prefix == "" {
		prefix = "/var/cache/mikrotik-tailscale/renovate-" + version
	}
	bin := filepath.Join(prefix, "node_modules", ".bin", "renovate")
	r := run(t, ".", os.Environ(), time.Minute, bin, "--version")
	if r.Err != nil || strings.TrimSpace(r.Stdout) != version {
		t.Fatalf("Renovate %s is not installed under %s (RENOVATE_PREFIX); tests/run-all.sh installs it: %s", version, prefix, r)
	}
	return prefix
}

// renovateEnv is the environment without any RENOVATE_* setting of the
// caller's, plus extra.
func renovateEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RENOVATE_") && !strings.HasPrefix(kv, "LOG_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// offline runs argv in an empty network namespace: proof that nothing it
// does needs the network.
func offline(argv ...string) []string {
	return append([]string{"unshare", "--net"}, argv...)
}

func TestRenovateConfigValidator(t *testing.T) {
	requireRoot(t)
	bin := filepath.Join(renovatePrefix(t), "node_modules", ".bin", "renovate-config-validator")
	cfg, err := filepath.Abs(filepath.Join(repoRoot, "renovate.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, repoRoot, renovateEnv("RENOVATE_CONFIG_FILE="+cfg), 2*time.Minute, offline(bin, "--strict", cfg)...)
	if r.Err != nil || !strings.Contains(r.Stdout, "Config validated successfully") {
		t.Fatalf("renovate-config-validator --strict renovate.json: %s", r)
	}

	// The validator is not a rubber stamp: the same file with an option
	// Renovate does not know and a field a custom manager may not carry
	// is refused, naming both.
	var doc map[string]any
	readJSON(t, cfg, &doc)
	doc["automergeEverything"] = true
	doc["customManagers"].([]any)[0].(map[string]any)["pinDigests"] = true
	bad := filepath.Join(t.TempDir(), "renovate.json")
	writeJSON(t, bad, doc)
	r = run(t, repoRoot, renovateEnv("RENOVATE_CONFIG_FILE="+bad), 2*time.Minute, offline(bin, "--strict", bad)...)
	if r.Err == nil || !strings.Contains(r.Stdout, "automergeEverything") || !strings.Contains(r.Stdout, "pinDigests") {
		t.Fatalf("a broken renovate.json passed or was refused for other reasons: %s", r)
	}
}

// renovateDep is one dependency as Renovate's extraction reports it.
type renovateDep struct {
	File, DepName, Datasource, CurrentValue, CurrentDigest string
}

func (d renovateDep) String() string {
	s := fmt.Sprintf("%s: %s (%s) %s", d.File, d.DepName, d.Datasource, d.CurrentValue)
	if d.CurrentDigest != "" {
		s += "@" + d.CurrentDigest
	}
	return s
}

// TestRenovateExtractsEveryPin runs Renovate's extraction on a copy of the
// repository (platform local, dry-run=extract: no lookups) and requires it
// to find exactly the pins this repository has, with the values the
// sources hold.
func TestRenovateExtractsEveryPin(t *testing.T) {
	requireRoot(t)
	bin := filepath.Join(renovatePrefix(t), "node_modules", ".bin", "renovate")
	work := t.TempDir()
	repo := filepath.Join(work, "repo")
	copyTree(t, repoRoot, repo, ".git", "artifacts", "node_modules")
	report := filepath.Join(work, "report.json")
	r := run(t, repo, renovateEnv(
		// No git: the local platform then lists files itself, so the
		// working tree is what gets extracted, committed or not.
		"GIT_DIR=/nonexistent",
		"RENOVATE_BASE_DIR="+filepath.Join(work, "base"),
		// In CI the github_token secret provides it; without one Renovate
		// marks GitHub-hosted deps (dagger/dagger) as skipped. Never sent:
		// extraction makes no requests.
		"RENOVATE_GITHUB_COM_TOKEN=not-a-token",
		"LOG_LEVEL=info",
	), 5*time.Minute, offline(bin,
		"--platform=local", "--dry-run=extract", "--onboarding=false", "--require-config=optional",
		"--report-type=file", "--report-path="+report)...)
	if r.Err != nil {
		t.Fatalf("renovate --platform=local --dry-run=extract: %s", r)
	}
	var rep struct {
		Problems     []json.RawMessage `json:"problems"`
		Repositories map[string]struct {
			Problems     []json.RawMessage `json:"problems"`
			PackageFiles map[string][]struct {
				PackageFile string `json:"packageFile"`
				Deps        []struct {
					DepName       string   `json:"depName"`
					Datasource    string   `json:"datasource"`
					CurrentValue  string   `json:"currentValue"`
					CurrentDigest string   `json:"currentDigest"`
					RegistryURLs  []string `json:"registryUrls"`
					SkipReason    string   `json:"skipReason"`
				} `json:"deps"`
			} `json:"packageFiles"`
		} `json:"repositories"`
	}
	readJSON(t, report, &rep)
	got := map[renovateDep]bool{}
	registries := map[renovateDep][]string{}
	for name, repository := range rep.Repositories {
		for _, p := range append(rep.Problems, repository.Problems...) {
			t.Errorf("Renovate reported a problem for %s: %s", name, p)
		}
		for manager, files := range repository.PackageFiles {
			for _, pf := range files {
				for _, d := range pf.Deps {
					dep := renovateDep{pf.PackageFile, d.DepName, d.Datasource, d.CurrentValue, d.CurrentDigest}
					if d.SkipReason != "" {
						t.Errorf("%s (manager %s) is skipped: %s", dep, manager, d.SkipReason)
					}
					got[dep] = true
					registries[dep] = d.RegistryURLs
				}
			}
		}
	}

	want := expectedPins(t)
	var lines []string
	for _, d := range sortedDeps(got) {
		lines = append(lines, d.String())
	}
	t.Logf("Renovate extracted %d dependencies:\n%s", len(got), strings.Join(lines, "\n"))
	for _, d := range sortedDeps(want) {
		if !got[d] {
			t.Errorf("Renovate does not find %s", d)
		}
	}
	for _, d := range sortedDeps(got) {
		if !want[d] {
			t.Errorf("Renovate finds %s, which is no pin of this repository", d)
		}
	}

	// The Debian packages are looked up in the archive (suite,
	// component, architecture) their comment names, not in Renovate's
	// default (stable).
	wantRegistries := debRegistryURLs(t)
	if len(wantRegistries) != 2 {
		t.Errorf("internal/pins/pins.go names a registryUrl for %d deb pins, want 2 (upx-ucl, ca-certificates)", len(wantRegistries))
	}
	for _, d := range sortedDeps(got) {
		if d.Datasource != "deb" {
			continue
		}
		if w := []string{wantRegistries[d.DepName]}; fmt.Sprint(registries[d]) != fmt.Sprint(w) {
			t.Errorf("%s: Renovate looks it up in %q, want %q", d, registries[d], w)
		}
	}
}

// debRegistryURLs maps each deb pin of internal/pins to the registryUrl
// of its renovate comment.
func debRegistryURLs(t testing.TB) map[string]string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(repoRoot, "internal", "pins", "pins.go"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	re := regexp.MustCompile(`// renovate: datasource=deb depName=(\S+) registryUrl=(\S+)\n`)
	for _, m := range re.FindAllStringSubmatch(string(src), -1) {
		out[m[1]] = m[2]
	}
	return out
}

// expectedPins is every pinned dependency, read from where it is pinned.
func expectedPins(t *testing.T) map[renovateDep]bool {
	t.Helper()
	const pinsFile = "internal/pins/pins.go"
	image := func(file, ref string) renovateDep {
		name, rest, _ := strings.Cut(ref, ":")
		tag, digest, _ := strings.Cut(rest, "@")
		return renovateDep{file, name, "docker", tag, digest}
	}
	want := map[renovateDep]bool{
		{pinsFile, pins.TailscaleModule, "go", pins.TailscaleVersion, ""}:    true,
		{pinsFile, pins.HeadscaleModule, "go", pins.HeadscaleVersion, ""}:    true,
		{pinsFile, pins.GiteaModule, "go", pins.GiteaVersion, ""}:            true,
		{pinsFile, "go", "golang-version", pins.GoVersion, ""}:               true,
		{pinsFile, "busybox", "custom.busybox", pins.BusyBoxVersion, ""}:     true,
		{pinsFile, "upx-ucl", "deb", pins.UPXVersion, ""}:                    true,
		{pinsFile, "ca-certificates", "deb", pins.CACertificatesVersion, ""}: true,
		image(pinsFile, pins.GolangImage):                                    true,
		image(pinsFile, pins.DebianImage):                                    true,
		// The constructor's defaults (Dagger pragmas), which
		// TestConstructorDefaultsArePins (tests/module_api_test.go)
		// holds equal to the pins.
		image("main.go", pins.GolangImage): true,
		image("main.go", pins.DebianImage): true,
	}
	var meta struct {
		EngineVersion string `json:"engineVersion"`
	}
	readJSON(t, filepath.Join(repoRoot, "dagger.json"), &meta)
	want[renovateDep{"dagger.json", "dagger/dagger", "github-releases", meta.EngineVersion, ""}] = true
	engine := regexp.MustCompile(regexp.QuoteMeta(daggerEngineImage) + `:(\S+)`)
	for file, w := range loadWorkflows(t) {
		for _, m := range engine.FindAllStringSubmatch(w.raw, -1) {
			want[renovateDep{".woodpecker/" + file, "dagger/dagger", "github-releases", m[1], ""}] = true
		}
		for _, s := range w.steps {
			if repo, tag, ok := strings.Cut(s.image, ":"); ok && repo == "renovate/renovate" {
				want[renovateDep{".woodpecker/" + file, repo, "docker", tag, ""}] = true
			}
		}
	}
	want[renovateDep{"tests/run-all.sh", "renovate", "npm", runAllRenovateVersion(t), ""}] = true
	return want
}

func sortedDeps(m map[renovateDep]bool) []renovateDep {
	var out []renovateDep
	for d := range m {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// renovatePolicyDriver evaluates renovate.json with Renovate's own code:
// preset resolution, config massaging, packageRules matching (stage
// "update", as for a proposed update) and the lookup's version filter with
// extractVersion. Renovate's logger writes to stdout, so results go to a
// file.
const renovatePolicyDriver = `'use strict';
const fs = require('fs');
const path = require('path');
const [prefix, configFile, casesFile, outFile] = process.argv.slice(2);
const dist = (m) => require(path.join(prefix, 'node_modules', 'renovate', 'dist', m));
(async () => {
  const { getConfig } = dist('config/defaults');
  const { resolveConfigPresets } = dist('config/presets');
  const { massageConfig } = dist('config/massage');
  const { mergeChildConfig } = dist('config/utils');
  const { applyPackageRules } = dist('util/package-rules');
  const { filterVersions } = dist('workers/repository/process/lookup/filter');
  const { applyExtractVersion, getDefaultVersioning } = dist('modules/datasource/common');
  const { getUpdateType } = dist('workers/repository/process/lookup/update-type');
  const versioning = dist('modules/versioning');
  const repo = await resolveConfigPresets(JSON.parse(fs.readFileSync(configFile, 'utf8')));
  const config = mergeChildConfig(getConfig(), massageConfig(repo));
  const cases = JSON.parse(fs.readFileSync(casesFile, 'utf8'));
  const dep = (c) => mergeChildConfig(config, {
    manager: 'regex', depName: c.depName, packageName: c.depName, datasource: c.datasource,
  });
  const out = { rules: [], filters: [], types: [] };
  for (const c of cases.rules) {
    const res = await applyPackageRules({ ...dep(c), updateType: c.updateType }, 'update');
    out.rules.push({ ...c, automerge: res.automerge === true, groupName: res.groupName || '' });
  }
  for (const f of cases.filters) {
    const cfg = await applyPackageRules(dep(f), 'pre-lookup');
    let releases = f.releases.map((version) => ({ version }));
    if (cfg.extractVersion) {
      releases = applyExtractVersion({ releases }, cfg.extractVersion).releases;
    }
    const api = versioning.get(cfg.versioning || getDefaultVersioning(f.datasource));
    out.filters.push({ ...f, kept: filterVersions(cfg, f.currentValue, null, releases, api).map((r) => r.version) });
  }
  for (const u of cases.types) {
    const cfg = await applyPackageRules(dep(u), 'pre-lookup');
    const api = versioning.get(cfg.versioning || getDefaultVersioning(u.datasource));
    out.types.push({ ...u, updateType: getUpdateType(cfg, api, u.currentValue, u.newValue) });
  }
  fs.writeFileSync(outFile, JSON.stringify(out));
})().catch((err) => { console.error(err); process.exit(1); });
`

type policyRule struct {
	DepName    string `json:"depName"`
	Datasource string `json:"datasource"`
	UpdateType string `json:"updateType"`
	Automerge  bool   `json:"automerge"`
	GroupName  string `json:"groupName"`
}

// policyType is the update type Renovate's versioning (the datasource's
// default unless renovate.json sets one) gives currentValue -> newValue.
type policyType struct {
	DepName      string `json:"depName"`
	Datasource   string `json:"datasource"`
	CurrentValue string `json:"currentValue"`
	NewValue     string `json:"newValue"`
	UpdateType   string `json:"updateType"`
}

type policyFilter struct {
	DepName      string   `json:"depName"`
	Datasource   string   `json:"datasource"`
	CurrentValue string   `json:"currentValue"`
	Releases     []string `json:"releases"`
	Kept         []string `json:"kept"`
}

// TestRenovatePolicy: the automerge policy of docs/DEVELOPMENT.md ("CI"),
// as Renovate evaluates renovate.json: Tailscale patch and minor, base-image
// digests, Go/BusyBox patches, Debian point releases and every
// ca-certificates update (the trust store: a new ~deb12uN is a patch to
// Renovate's deb versioning, a new upstream date a major) automerge;
// minor and major of Go and BusyBox, Debian's next release, Tailscale
// majors, every upx-ucl update (a new UPX changes every packed byte and the
// ARMv5 stub) and all tooling wait for a human;
// Tailscale follows stable (even-minor) releases only; BusyBox versions are
// read from the tarball names of the download listing.
func TestRenovatePolicy(t *testing.T) {
	requireRoot(t)
	prefix := renovatePrefix(t)
	rules := []policyRule{
		{"tailscale.com", "go", "patch", true, ""},
		{"tailscale.com", "go", "minor", true, ""},
		{"tailscale.com", "go", "major", false, ""},
		{"golang", "docker", "pinDigest", true, "Go toolchain"},
		{"golang", "docker", "digest", true, "Go toolchain"},
		{"golang", "docker", "patch", true, "Go toolchain"},
		{"golang", "docker", "minor", false, "Go toolchain"},
		{"go", "golang-version", "patch", true, "Go toolchain"},
		{"go", "golang-version", "minor", false, "Go toolchain"},
		{"go", "golang-version", "major", false, "Go toolchain"},
		{"debian", "docker", "pinDigest", true, ""},
		{"debian", "docker", "digest", true, ""},
		{"debian", "docker", "minor", true, ""},
		{"debian", "docker", "major", false, ""},
		{"busybox", "custom.busybox", "patch", true, ""},
		{"busybox", "custom.busybox", "minor", false, ""},
		{"busybox", "custom.busybox", "major", false, ""},
		{"ca-certificates", "deb", "patch", true, ""},
		{"ca-certificates", "deb", "minor", true, ""},
		{"ca-certificates", "deb", "major", true, ""},
		{"upx-ucl", "deb", "patch", false, ""},
		{"upx-ucl", "deb", "minor", false, ""},
		{"upx-ucl", "deb", "major", false, ""},
		{"dagger/dagger", "github-releases", "patch", false, "Dagger engine"},
		{"dagger/dagger", "github-releases", "minor", false, "Dagger engine"},
		{"renovate/renovate", "docker", "patch", false, "Renovate"},
		{"renovate/renovate", "docker", "major", false, "Renovate"},
		{"renovate", "npm", "minor", false, "Renovate"},
	}

	// Releases around the pinned versions, so the cases follow the pins.
	var major, minor, patch int
	if _, err := fmt.Sscanf(pins.TailscaleVersion, "v%d.%d.%d", &major, &minor, &patch); err != nil {
		t.Fatal(err)
	}
	ts := func(mi, pa int, suffix string) string { return fmt.Sprintf("v%d.%d.%d%s", major, mi, pa, suffix) }
	bbParts := strings.Split(pins.BusyBoxVersion, ".")
	if len(bbParts) != 3 {
		t.Fatalf("BusyBoxVersion %q", pins.BusyBoxVersion)
	}
	bbMinor, err := strconv.Atoi(bbParts[1])
	if err != nil {
		t.Fatal(err)
	}
	bbPatch, err := strconv.Atoi(bbParts[2])
	if err != nil {
		t.Fatal(err)
	}
	bb := func(mi, pa int) string { return fmt.Sprintf("%s.%d.%d", bbParts[0], mi, pa) }
	tarball := func(v string) string { return "busybox-" + v + ".tar.bz2" }
	filters := []policyFilter{
		{
			DepName: pins.TailscaleModule, Datasource: "go", CurrentValue: pins.TailscaleVersion,
			Releases: []string{ts(minor, patch, ""), ts(minor, patch+1, ""), ts(minor+1, 0, ""), ts(minor+1, 1, ""),
				ts(minor+2, 0, ""), ts(minor+2, 1, ""), ts(minor+3, 0, ""), ts(minor+4, 0, "-pre")},
			Kept: []string{ts(minor, patch+1, ""), ts(minor+2, 0, ""), ts(minor+2, 1, "")},
		},
		{
			DepName: "busybox", Datasource: "custom.busybox", CurrentValue: pins.BusyBoxVersion,
			Releases: []string{"../", "?C=M;O=A", tarball(bb(bbMinor-1, 0)), tarball(pins.BusyBoxVersion),
				tarball(pins.BusyBoxVersion) + ".sha256", tarball(pins.BusyBoxVersion) + ".sig",
				tarball(bb(bbMinor, bbPatch+1)), tarball(bb(bbMinor+1, 0)), tarball(bb(bbMinor+1, 0)) + ".sig",
				"busybox-snapshot.tar.bz2"},
			Kept: []string{bb(bbMinor, bbPatch+1), bb(bbMinor+1, 0)},
		},
	}

	// The update types the rules above are keyed by, for the Debian
	// packages as Renovate's deb versioning classifies their versions.
	types := []policyType{
		{"ca-certificates", "deb", pins.CACertificatesVersion, nextCACertificates(t, pins.CACertificatesVersion, false), "patch"},
		{"ca-certificates", "deb", pins.CACertificatesVersion, nextCACertificates(t, pins.CACertificatesVersion, true), "major"},
		{"upx-ucl", "deb", pins.UPXVersion, nextBackport(t, pins.UPXVersion, -1), "patch"},
		{"upx-ucl", "deb", pins.UPXVersion, nextBackport(t, pins.UPXVersion, 2), "patch"},
		{"upx-ucl", "deb", pins.UPXVersion, nextBackport(t, pins.UPXVersion, 1), "minor"},
		{"upx-ucl", "deb", pins.UPXVersion, nextBackport(t, pins.UPXVersion, 0), "major"},
	}

	dir := t.TempDir()
	driver := filepath.Join(dir, "policy.js")
	if err := os.WriteFile(driver, []byte(renovatePolicyDriver), 0o644); err != nil {
		t.Fatal(err)
	}
	in := map[string]any{"rules": rules, "filters": filters, "types": types}
	writeJSON(t, filepath.Join(dir, "cases.json"), in)
	cfg, err := filepath.Abs(filepath.Join(repoRoot, "renovate.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.json")
	r := run(t, dir, renovateEnv("LOG_LEVEL=fatal"), 2*time.Minute,
		offline("node", driver, prefix, cfg, filepath.Join(dir, "cases.json"), out)...)
	if r.Err != nil {
		t.Fatalf("Renovate policy driver: %s", r)
	}
	var res struct {
		Rules   []policyRule   `json:"rules"`
		Filters []policyFilter `json:"filters"`
		Types   []policyType   `json:"types"`
	}
	readJSON(t, out, &res)
	if len(res.Rules) != len(rules) || len(res.Filters) != len(filters) || len(res.Types) != len(types) {
		t.Fatalf("driver answered %d rules, %d filters, %d update types", len(res.Rules), len(res.Filters), len(res.Types))
	}
	for i, got := range res.Rules {
		want := rules[i]
		if got != want {
			t.Errorf("%s (%s) %s update: automerge %v, group %q; want automerge %v, group %q",
				want.DepName, want.Datasource, want.UpdateType, got.Automerge, got.GroupName, want.Automerge, want.GroupName)
		}
	}
	for i, got := range res.Filters {
		if fmt.Sprint(got.Kept) != fmt.Sprint(filters[i].Kept) {
			t.Errorf("%s from %s: Renovate would offer %v, want %v (of %v)", got.DepName, got.CurrentValue, got.Kept, filters[i].Kept, got.Releases)
		}
	}
	for i, got := range res.Types {
		if want := types[i]; got != want {
			t.Errorf("%s (%s) %s -> %s: Renovate calls it a %s update, want %s",
				want.DepName, want.Datasource, want.CurrentValue, want.NewValue, got.UpdateType, want.UpdateType)
		}
	}
}

// nextCACertificates is the ca-certificates version after v
// (DATE~debNNuM): the next stable update of the same upstream release, or,
// with newUpstream, the first update of an upstream release a year later.
func nextCACertificates(t testing.TB, v string, newUpstream bool) string {
	t.Helper()
	m := regexp.MustCompile(`^(\d{8})~deb(\d+)u(\d+)$`).FindStringSubmatch(v)
	if m == nil {
		t.Fatalf("ca-certificates version %q is not DATE~debNNuM", v)
	}
	date, _ := strconv.Atoi(m[1])
	update, _ := strconv.Atoi(m[3])
	if newUpstream {
		return fmt.Sprintf("%d~deb%su1", date+10000, m[2])
	}
	return fmt.Sprintf("%s~deb%su%d", m[1], m[2], update+1)
}

// nextBackport is the backport after v (X.Y.Z-R~bpoNN+B): with part -1 the
// next Debian revision of the same upstream version, else the upstream
// version with part bumped (bumpVersion) and its first revision.
func nextBackport(t testing.TB, v string, part int) string {
	t.Helper()
	m := regexp.MustCompile(`^(\d+\.\d+\.\d+)-(\d+)(~bpo\d+\+)\d+$`).FindStringSubmatch(v)
	if m == nil {
		t.Fatalf("backport version %q is not X.Y.Z-R~bpoNN+B", v)
	}
	if part < 0 {
		rev, _ := strconv.Atoi(m[2])
		return fmt.Sprintf("%s-%d%s1", m[1], rev+1, m[3])
	}
	return bumpVersion(t, m[1], part) + "-1" + m[3] + "1"
}

// renovateReplaceDriver applies updates the way a Renovate branch does:
// the file's custom managers extract the dependency, Renovate's
// doAutoReplace rewrites the file (autoReplaceStringTemplate included) and
// itself re-extracts the result to confirm the new value and digest.
const renovateReplaceDriver = `'use strict';
const fs = require('fs');
const path = require('path');
const [prefix, configFile, localDir, casesFile, outFile] = process.argv.slice(2);
const dist = (m) => require(path.join(prefix, 'node_modules', 'renovate', 'dist', m));
(async () => {
  const { GlobalConfig } = dist('config/global');
  const { extractPackageFile } = dist('modules/manager');
  const { doAutoReplace } = dist('workers/repository/update/branch/auto-replace');
  GlobalConfig.set({ localDir });
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  const out = [];
  for (const c of JSON.parse(fs.readFileSync(casesFile, 'utf8'))) {
    const content = fs.readFileSync(path.join(localDir, c.file), 'utf8');
    let found = null;
    for (const m of config.customManagers) {
      if (found || !m.fileMatch.some((re) => new RegExp(re).test(c.file))) continue;
      const res = await extractPackageFile('regex', content, c.file, { ...m, manager: 'regex' });
      (res?.deps || []).forEach((dep, depIndex) => {
        if (!found && dep.depName === c.depName) found = { m, dep, depIndex };
      });
    }
    if (!found) {
      out.push({ ...c, result: null });
      continue;
    }
    const upgrade = { ...found.m, ...found.dep, manager: 'regex', packageFile: c.file, depIndex: found.depIndex,
      updateType: c.updateType, newValue: c.newValue || found.dep.currentValue, newDigest: c.newDigest || undefined };
    const result = await doAutoReplace(upgrade, content, false);
    fs.writeFileSync(path.join(localDir, c.file), content);
    out.push({ ...c, result });
  }
  fs.writeFileSync(outFile, JSON.stringify(out));
})().catch((err) => { console.error(err); process.exit(1); });
`

type replaceCase struct {
	File       string  `json:"file"`
	DepName    string  `json:"depName"`
	UpdateType string  `json:"updateType"`
	NewValue   string  `json:"newValue,omitempty"`
	NewDigest  string  `json:"newDigest,omitempty"`
	Result     *string `json:"result"`
	old, new   string  // the text the update must turn into the other
}

// bumpVersion raises part (0 major, 1 minor, 2 patch) of [v]X.Y.Z[-suffix],
// zeroing the parts after it.
func bumpVersion(t testing.TB, v string, part int) string {
	t.Helper()
	prefix := ""
	if strings.HasPrefix(v, "v") {
		prefix, v = "v", v[1:]
	}
	core, suffix, hasSuffix := strings.Cut(v, "-")
	nums := strings.Split(core, ".")
	if len(nums) != 3 {
		t.Fatalf("version %q is not X.Y.Z", v)
	}
	for i := range nums {
		n, err := strconv.Atoi(nums[i])
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case i == part:
			n++
		case i > part:
			n = 0
		}
		nums[i] = strconv.Itoa(n)
	}
	out := prefix + strings.Join(nums, ".")
	if hasSuffix {
		out += "-" + suffix
	}
	return out
}

// debianPointRelease is the next point release of a 12.N-slim tag.
func debianPointRelease(t testing.TB, tag string) string {
	t.Helper()
	var major, point int
	if _, err := fmt.Sscanf(tag, "%d.%d-slim", &major, &point); err != nil {
		t.Fatalf("Debian tag %q is not N.M-slim: %v", tag, err)
	}
	return fmt.Sprintf("%d.%d-slim", major, point+1)
}

// TestRenovateRewritesPins: every update Renovate can propose changes
// exactly the pinned value (and digest) and nothing else: the constants of
// internal/pins keep their names, GolangImage and the constructor's
// --golang-image default get their first digest by pinning, the images
// move in pins.go and main.go alike, the Debian packages keep their
// archive, the Dagger and Renovate versions move in every file that pins
// them.
func TestRenovateRewritesPins(t *testing.T) {
	requireRoot(t)
	prefix := renovatePrefix(t)
	const pinsFile = "internal/pins/pins.go"
	digest := func(c byte) string { return "sha256:" + strings.Repeat(string(c), 64) }
	q := func(s string) string { return `"` + s + `"` }
	pragma := func(ref string) string { return "// +default=" + q(ref) }
	golangTag := strings.TrimPrefix(pins.GolangImage, "golang:")
	debianTag, _, _ := strings.Cut(strings.TrimPrefix(pins.DebianImage, "debian:"), "@")
	var meta struct {
		EngineVersion string `json:"engineVersion"`
	}
	readJSON(t, filepath.Join(repoRoot, "dagger.json"), &meta)
	dagger := bumpVersion(t, meta.EngineVersion, 2)
	renovate := runAllRenovateVersion(t)
	renovateNext := bumpVersion(t, renovate, 1)
	cases := []replaceCase{
		{File: pinsFile, DepName: "golang", UpdateType: "pinDigest", NewDigest: digest('1'),
			old: q(pins.GolangImage), new: q(pins.GolangImage + "@" + digest('1'))},
		{File: pinsFile, DepName: "golang", UpdateType: "patch", NewValue: bumpVersion(t, golangTag, 2), NewDigest: digest('2'),
			old: q(pins.GolangImage), new: q("golang:" + bumpVersion(t, golangTag, 2) + "@" + digest('2'))},
		{File: pinsFile, DepName: "debian", UpdateType: "digest", NewDigest: digest('5'),
			old: q(pins.DebianImage), new: q("debian:" + debianTag + "@" + digest('5'))},
		{File: pinsFile, DepName: "debian", UpdateType: "minor", NewValue: debianPointRelease(t, debianTag), NewDigest: digest('6'),
			old: q(pins.DebianImage), new: q("debian:" + debianPointRelease(t, debianTag) + "@" + digest('6'))},
		{File: "main.go", DepName: "golang", UpdateType: "pinDigest", NewDigest: digest('3'),
			old: pragma(pins.GolangImage), new: pragma(pins.GolangImage + "@" + digest('3'))},
		{File: "main.go", DepName: "golang", UpdateType: "patch", NewValue: bumpVersion(t, golangTag, 2), NewDigest: digest('4'),
			old: pragma(pins.GolangImage), new: pragma("golang:" + bumpVersion(t, golangTag, 2) + "@" + digest('4'))},
		{File: "main.go", DepName: "debian", UpdateType: "digest", NewDigest: digest('7'),
			old: pragma(pins.DebianImage), new: pragma("debian:" + debianTag + "@" + digest('7'))},
		{File: "main.go", DepName: "debian", UpdateType: "minor", NewValue: debianPointRelease(t, debianTag), NewDigest: digest('8'),
			old: pragma(pins.DebianImage), new: pragma("debian:" + debianPointRelease(t, debianTag) + "@" + digest('8'))},
		{File: pinsFile, DepName: "upx-ucl", UpdateType: "patch", NewValue: nextBackport(t, pins.UPXVersion, 2),
			old: "UPXVersion = " + q(pins.UPXVersion), new: "UPXVersion = " + q(nextBackport(t, pins.UPXVersion, 2))},
		{File: pinsFile, DepName: "ca-certificates", UpdateType: "patch", NewValue: nextCACertificates(t, pins.CACertificatesVersion, false),
			old: "CACertificatesVersion = " + q(pins.CACertificatesVersion), new: "CACertificatesVersion = " + q(nextCACertificates(t, pins.CACertificatesVersion, false))},
		{File: pinsFile, DepName: pins.TailscaleModule, UpdateType: "minor", NewValue: bumpVersion(t, bumpVersion(t, pins.TailscaleVersion, 1), 1),
			old: q(pins.TailscaleVersion), new: q(bumpVersion(t, bumpVersion(t, pins.TailscaleVersion, 1), 1))},
		{File: pinsFile, DepName: "go", UpdateType: "patch", NewValue: bumpVersion(t, pins.GoVersion, 2),
			old: "GoVersion = " + q(pins.GoVersion), new: "GoVersion = " + q(bumpVersion(t, pins.GoVersion, 2))},
		{File: pinsFile, DepName: "busybox", UpdateType: "patch", NewValue: bumpVersion(t, pins.BusyBoxVersion, 2),
			old: q(pins.BusyBoxVersion), new: q(bumpVersion(t, pins.BusyBoxVersion, 2))},
		{File: "dagger.json", DepName: "dagger/dagger", UpdateType: "patch", NewValue: dagger,
			old: q(meta.EngineVersion), new: q(dagger)},
		{File: "tests/run-all.sh", DepName: "renovate", UpdateType: "minor", NewValue: renovateNext,
			old: "RENOVATE_VERSION=" + renovate, new: "RENOVATE_VERSION=" + renovateNext},
	}
	for file, w := range loadWorkflows(t) {
		if strings.Contains(w.raw, daggerEngineImage+":") {
			cases = append(cases, replaceCase{File: ".woodpecker/" + file, DepName: "dagger/dagger", UpdateType: "patch", NewValue: dagger,
				old: daggerEngineImage + ":" + meta.EngineVersion, new: daggerEngineImage + ":" + dagger})
		}
		if strings.Contains(w.raw, "renovate/renovate:") {
			cases = append(cases, replaceCase{File: ".woodpecker/" + file, DepName: "renovate/renovate", UpdateType: "minor", NewValue: renovateNext,
				old: "renovate/renovate:" + renovate, new: "renovate/renovate:" + renovateNext})
		}
	}

	dir := t.TempDir()
	local := filepath.Join(dir, "repo")
	copyTree(t, repoRoot, local, ".git", "artifacts", "node_modules")
	driver := filepath.Join(dir, "replace.js")
	if err := os.WriteFile(driver, []byte(renovateReplaceDriver), 0o644); err != nil {
		t.Fatal(err)
	}
	writeJSON(t, filepath.Join(dir, "cases.json"), cases)
	cfg, err := filepath.Abs(filepath.Join(repoRoot, "renovate.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.json")
	r := run(t, dir, renovateEnv("LOG_LEVEL=fatal"), 2*time.Minute,
		offline("node", driver, prefix, cfg, local, filepath.Join(dir, "cases.json"), out)...)
	if r.Err != nil {
		t.Fatalf("Renovate replace driver: %s", r)
	}
	var got []replaceCase
	readJSON(t, out, &got)
	if len(got) != len(cases) {
		t.Fatalf("driver answered %d of %d cases", len(got), len(cases))
	}
	for i, g := range got {
		c := cases[i]
		name := fmt.Sprintf("%s %s update of %s", c.DepName, c.UpdateType, c.File)
		orig, err := os.ReadFile(filepath.Join(repoRoot, c.File))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(string(orig), c.old) != 1 {
			t.Fatalf("%s: %q is not in the file exactly once", name, c.old)
		}
		want := strings.Replace(string(orig), c.old, c.new, 1)
		switch {
		case g.Result == nil:
			t.Errorf("%s: Renovate does not extract %s there", name, c.DepName)
		case *g.Result != want:
			t.Errorf("%s: want %q replaced by %q; Renovate's lines that differ from that:\n%s", name, c.old, c.new, changedLines(want, *g.Result))
		case strings.HasSuffix(c.File, ".go"):
			if names := constNames(t, *g.Result); fmt.Sprint(names) != fmt.Sprint(constNames(t, string(orig))) {
				t.Errorf("%s: constants after the update: %v", name, names)
			}
		}
	}
}

// changedLines lists the lines of got that differ from want, by line number.
func changedLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var out []string
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			out = append(out, fmt.Sprintf("%d: want %q\n%d: got  %q", i+1, a, i+1, b))
		}
	}
	return strings.Join(out, "\n")
}

// constNames are the constants a Go file declares, in order.
func constNames(t testing.TB, src string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "updated.go", src, 0)
	if err != nil {
		t.Fatalf("Go source after the update does not parse: %v", err)
	}
	var names []string
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.CONST {
			for _, s := range g.Specs {
				for _, n := range s.(*ast.ValueSpec).Names {
					names = append(names, n.Name)
				}
			}
		}
	}
	return names
}

// copyTree copies the regular files under src to dst, leaving out the
// named directories.
func copyTree(t testing.TB, src, dst string, skipDirs ...string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			for _, s := range skipDirs {
				if d.Name() == s {
					return filepath.SkipDir
				}
			}
			return os.MkdirAll(target, 0o755)
		case !d.Type().IsRegular():
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
}

func writeJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
