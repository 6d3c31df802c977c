//go:build engine

package engine

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "code.gitea.io/sdk/gitea"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"dagger/mikrotik-tailscale/internal/forgelab"
	"dagger/mikrotik-tailscale/internal/pins"
	"dagger/mikrotik-tailscale/internal/routeros"
	labnet "dagger/mikrotik-tailscale/internal/tailnet"
	"dagger/mikrotik-tailscale/internal/tsbuild"
)

// forgeCache keeps the built Gitea between runs, one per version: a cold
// build costs minutes and its inputs are fixed by the pin.
const forgeCache = "/var/cache/mikrotik-tailscale"

// giteaBuild is the pinned Gitea and its module source (its templates
// and locales), built once.
type giteaBuild struct{ bin, moduleDir string }

var (
	giteaOnce  sync.Once
	giteaBuilt giteaBuild
	giteaErr   error
)

// prefetchGitea starts the build in the background, niced, when the suite
// starts: the steps before the first release leave it the time.
func prefetchGitea() { go giteaOnce.Do(buildGitea) }

func buildGitea() {
	env := append(append(os.Environ(), "GOTOOLCHAIN=go"+pins.GoVersion, "GOFLAGS=-mod=readonly"), forgelab.BuildEnv()...)
	out, err := runCmd("", env, 10*time.Minute, tsbuild.ModDownloadArgs(pins.GiteaModule, pins.GiteaVersion)...)
	if err != nil {
		giteaErr = err
		return
	}
	mod, err := tsbuild.ParseModDownload(out)
	if err != nil {
		giteaErr = err
		return
	}
	dir := filepath.Join(forgeCache, "gitea-"+pins.GiteaVersion)
	bin := filepath.Join(dir, "gitea")
	giteaBuilt = giteaBuild{bin, mod.Dir}
	if st, err := os.Stat(bin); err == nil && st.Mode().IsRegular() {
		return
	}
	if giteaErr = os.MkdirAll(dir, 0o755); giteaErr != nil {
		return
	}
	start := time.Now()
	tmp := bin + ".tmp"
	// Renamed into place only once complete.
	if _, giteaErr = runCmd(mod.Dir, env, 30*time.Minute, append([]string{"nice", "-n", "10"}, forgelab.BuildArgs(tmp, pins.GiteaVersion)...)...); giteaErr != nil {
		return
	}
	giteaErr = os.Rename(tmp, bin)
	giteaBuildSeconds = time.Since(start).Round(time.Second).Seconds()
}

var giteaBuildSeconds float64 // 0 when the cached binary was used

// runCmd runs argv in dir, bounded by timeout, and returns its stdout.
func runCmd(dir string, env []string, timeout time.Duration, argv ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = dir, env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, lastLines(stderr.String(), 30))
	}
	return out, nil
}

// forge is the running Gitea: its server, the release token, the admin's
// password (setup only), the CA its certificate chains to, and the
// repository's commits (oldest first).
type forge struct {
	srv      forgelab.Server
	bin      string
	token    string
	password string
	caFile   string
	client   *http.Client // trusts the forge's CA, sends no credentials
	commits  []string
	cmd      *exec.Cmd
	exited   chan error
}

var (
	forgeOnce sync.Once
	theForge  *forge
	forgeErr  error
)

// startForge starts the forge once for the suite (stopForge ends it).
func startForge(t *testing.T) *forge {
	t.Helper()
	forgeOnce.Do(func() {
		start := time.Now()
		theForge, forgeErr = newForge()
		if forgeErr == nil {
			mergeReport(t, map[string]any{"forge": map[string]any{
				"gitea_version": pins.GiteaVersion, "build_seconds": giteaBuildSeconds,
				"ready_seconds": time.Since(start).Round(time.Second).Seconds()}})
		}
	})
	if forgeErr != nil {
		t.Fatal(forgeErr)
	}
	return theForge
}

func stopForge() {
	if theForge != nil {
		theForge.stop()
	}
}

// stop kills the forge and waits for it.
func (f *forge) stop() {
	if f.cmd != nil && f.cmd.Process != nil {
		f.cmd.Process.Kill()
		f.exited <- <-f.exited // leave the exit status for a later stop
	}
}

func newForge() (*forge, error) {
	giteaOnce.Do(buildGitea)
	if giteaErr != nil {
		return nil, giteaErr
	}
	host, err := registryHost()
	if err != nil {
		return nil, err
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return nil, fmt.Errorf("the forge needs an IP address to listen on, got %q", host)
	}
	port, err := freePort(host)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(engineDir, "forge")
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ca, err := labnet.NewCA("engine suite forge "+host, nil, []net.IP{ip})
	if err != nil {
		return nil, err
	}
	f := &forge{
		srv: forgelab.Server{Dir: dir, StaticRoot: giteaBuilt.moduleDir, IP: host, Port: port,
			CertFile: filepath.Join(dir, "tls.crt"), KeyFile: filepath.Join(dir, "tls.key")},
		bin:      giteaBuilt.bin,
		password: randomHex(16),
		caFile:   filepath.Join(dir, "ca.crt"),
	}
	for file, b := range map[string][]byte{f.srv.CertFile: ca.CertPEM, f.srv.KeyFile: ca.KeyPEM, f.caFile: ca.CAPEM,
		filepath.Join(dir, "app.ini"): []byte(f.srv.AppIni())} {
		if err := os.WriteFile(file, b, 0o600); err != nil {
			return nil, err
		}
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.CAPEM)
	f.client = &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}

	// The database, the admin and the release token through Gitea's own
	// CLI, before the server starts.
	// Gitea's git hooks call its internal API at this very address and
	// verify the certificate (not loopback): its system roots are the CA.
	env := append(os.Environ(), "HOME="+dir, "SSL_CERT_FILE="+f.caFile)
	if _, err := runCmd(dir, env, 2*time.Minute, f.srv.Command(f.bin, forgelab.MigrateArgs()...)...); err != nil {
		return nil, err
	}
	if _, err := runCmd(dir, env, time.Minute, f.srv.Command(f.bin, forgelab.AdminCreateArgs(f.password)...)...); err != nil {
		return nil, err
	}
	tok, err := runCmd(dir, env, time.Minute, f.srv.Command(f.bin, forgelab.TokenArgs()...)...)
	if err != nil {
		return nil, err
	}
	f.token = strings.TrimSpace(string(tok))

	log, err := os.Create(filepath.Join(dir, "web.log"))
	if err != nil {
		return nil, err
	}
	argv := f.srv.Command(f.bin, "web")
	f.cmd = exec.Command(argv[0], argv[1:]...)
	f.cmd.Dir, f.cmd.Env, f.cmd.Stdout, f.cmd.Stderr = dir, env, log, log
	if err := f.cmd.Start(); err != nil {
		return nil, err
	}
	f.exited = make(chan error, 1)
	go func() { f.exited <- f.cmd.Wait(); log.Close() }()
	// A forge that does not come up is stopped, not left running.
	if err := f.waitReady(time.Minute); err != nil {
		f.stop()
		return nil, err
	}
	if err := f.setUp(); err != nil {
		f.stop()
		return nil, err
	}
	return f, nil
}

// waitReady polls the API's version until the forge answers over TLS.
func (f *forge) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case err := <-f.exited:
			f.exited <- err
			return fmt.Errorf("gitea exited at start: %v (see %s)", err, filepath.Join(f.srv.Dir, "web.log"))
		default:
		}
		resp, err := f.client.Get(f.srv.RootURL() + "api/v1/version")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s", resp.Status)
		}
		last = err
		time.Sleep(500 * time.Millisecond)
	}
	return fmt.Errorf("gitea did not answer within %s: %v (see %s)", timeout, last, filepath.Join(f.srv.Dir, "web.log"))
}

// admin is an API client with the admin's password (setup and checks
// only; the module gets the token).
func (f *forge) admin() (*sdk.Client, error) {
	return sdk.NewClient(f.srv.RootURL(), sdk.SetHTTPClient(f.client), sdk.SetBasicAuth(forgelab.Admin, f.password))
}

// setUp makes the public org that owns the package and the repository, and
// gives the repository a small history: its first commit and one more.
func (f *forge) setUp() error {
	api, err := f.admin()
	if err != nil {
		return err
	}
	if _, _, err := api.CreateOrg(sdk.CreateOrgOption{Name: forgelab.Org, Visibility: sdk.VisibleTypePublic}); err != nil {
		return fmt.Errorf("creating org %s: %w", forgelab.Org, err)
	}
	if _, _, err := api.CreateOrgRepo(forgelab.Org, sdk.CreateRepoOption{Name: forgelab.Repo, AutoInit: true, DefaultBranch: "main", Readme: "Default"}); err != nil {
		return fmt.Errorf("creating repository %s/%s: %w", forgelab.Org, forgelab.Repo, err)
	}
	if _, _, err := api.CreateFile(forgelab.Org, forgelab.Repo, "VERSION", sdk.CreateFileOptions{
		FileOptions: sdk.FileOptions{Message: "Second commit", BranchName: "main"}, Content: "MQo="}); err != nil {
		return fmt.Errorf("adding a commit: %w", err)
	}
	commits, _, err := api.ListRepoCommits(forgelab.Org, forgelab.Repo, sdk.ListCommitOptions{SHA: "main"})
	if err != nil {
		return fmt.Errorf("listing commits: %w", err)
	}
	for i := len(commits) - 1; i >= 0; i-- {
		f.commits = append(f.commits, commits[i].SHA)
	}
	if len(f.commits) != 2 {
		return fmt.Errorf("the repository has %d commits, want 2", len(f.commits))
	}
	return nil
}

// setVisibility makes the org, and with it its packages, public or
// private.
func (f *forge) setVisibility(t *testing.T, v sdk.VisibleType) {
	t.Helper()
	api, err := f.admin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.EditOrg(forgelab.Org, sdk.EditOrgOption{Visibility: v}); err != nil {
		t.Fatalf("making %s %s: %v", forgelab.Org, v, err)
	}
}

// repository is the release's image repository, as the module and this
// process reach it alike.
func (f *forge) repository() string { return f.srv.Repository() }

// digestOf is what a tag of the repository points to ("" if absent), read
// anonymously, as routers read it.
func (f *forge) digestOf(t *testing.T, tag string) string {
	t.Helper()
	ref, err := name.NewTag(f.repository() + ":" + tag)
	if err != nil {
		t.Fatal(err)
	}
	d, err := remote.Head(ref, remote.WithTransport(f.client.Transport))
	if err != nil {
		if strings.Contains(err.Error(), "404") || strings.Contains(err.Error(), "MANIFEST_UNKNOWN") {
			return ""
		}
		t.Fatal(err)
	}
	return d.Digest.String()
}

// withForgeSecrets puts the release token where the calls read it
// (--password env:REGISTRY_PASSWORD, --token env:GITEA_TOKEN), for t and
// its subtests. Not from a parallel test: t.Setenv refuses.
func withForgeSecrets(t *testing.T, f *forge) {
	t.Setenv("REGISTRY_PASSWORD", f.token)
	t.Setenv("GITEA_TOKEN", f.token)
}

func freePort(host string) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// routerQuery makes the requests routeros/update-tailscale.rsc makes for
// the digest of tag, with the URLs, headers and token key read from the
// script itself (internal/routeros): an anonymous token, then the
// manifest, TLS verified (check-certificate=yes) against the forge's CA
// as a router's trust store would. It returns the digest as the script's
// parseDigest takes it ("" where the script would get none) and what each
// request answered.
func (f *forge) routerQuery(t *testing.T, tag string) (digest string, answers []string) {
	t.Helper()
	script, err := os.ReadFile(filepath.Join(repoRoot, "routeros", "update-tailscale.rsc"))
	if err != nil {
		t.Fatal(err)
	}
	q, err := routeros.DigestQueryOf(string(script))
	if err != nil {
		t.Fatal(err)
	}
	rules, probs := routeros.DigestRulesOf(string(script))
	if len(probs) > 0 {
		t.Fatalf("the updater's parseDigest: %v", probs)
	}
	if !q.CheckCertificate {
		t.Fatal("the updater's fetches no longer verify the registry's certificate")
	}
	repo := forgelab.Org + "/" + forgelab.Repo
	resp, err := f.client.Get(q.TokenURL(f.srv.Host(), repo))
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	decodeErr := json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	answers = append(answers, "token: "+resp.Status)
	tok, _ := body[q.TokenKey].(string)
	if resp.StatusCode != http.StatusOK || decodeErr != nil || tok == "" {
		return "", answers
	}
	req, err := http.NewRequest(http.MethodGet, q.ManifestURL(f.srv.Host(), repo, tag), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range q.Headers(tok) {
		req.Header.Add(h.Name, h.Value)
	}
	resp, err = f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	answers = append(answers, "manifest: "+resp.Status)
	// /tool/fetch fails on an error status: the script's on-error leaves
	// the digest empty.
	if resp.StatusCode/100 != 2 {
		return "", answers
	}
	var lines []string
	for k, vs := range resp.Header {
		for _, v := range vs {
			lines = append(lines, k+": "+v)
		}
	}
	return rules.Parse(lines), answers
}
