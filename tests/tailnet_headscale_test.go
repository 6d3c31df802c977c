package tests

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"dagger/mikrotik-tailscale/internal/pins"
	labnet "dagger/mikrotik-tailscale/internal/tailnet"
	"dagger/mikrotik-tailscale/internal/tsbuild"
)

// headscaleCache keeps built Headscale binaries between runs, one per
// version: a build costs minutes and its inputs are fixed by the pin.
const headscaleCache = "/var/cache/mikrotik-tailscale"

var (
	headscaleOnce sync.Once
	headscaleBin  string
	headscaleErr  error
)

// headscaleBinary is the pinned Headscale, built once with the builder's Go
// from the module proxy (exact version, verified by the checksum
// database) and cached under headscaleCache.
func headscaleBinary(t *testing.T) string {
	t.Helper()
	headscaleOnce.Do(func() { headscaleBin, headscaleErr = buildHeadscale() })
	if headscaleErr != nil {
		t.Fatal(headscaleErr)
	}
	return headscaleBin
}

// prefetchHeadscale starts the Headscale build in the background when
// TestTailnet is among the tests to run, niced: it fills what the image
// builds leave idle (UPX packs on one core, downloads wait on the
// network) instead of delaying the tailnet by its cold build, which
// takes minutes (docs/DEVELOPMENT.md). headscaleBinary then waits for it.
func prefetchHeadscale() {
	if !flag.Parsed() {
		flag.Parse()
	}
	if run := flag.Lookup("test.run"); run != nil && run.Value.String() != "" && !strings.Contains(run.Value.String(), "Tailnet") {
		return
	}
	go headscaleOnce.Do(func() { headscaleBin, headscaleErr = buildHeadscale() })
}

func buildHeadscale() (string, error) {
	dir := filepath.Join(headscaleCache, "headscale-"+pins.HeadscaleVersion)
	bin := filepath.Join(dir, "headscale")
	// The name carries the version; a build is renamed into place only
	// once complete.
	if st, err := os.Stat(bin); err == nil && st.Mode().IsRegular() {
		return bin, nil
	}
	env := append(append(os.Environ(), "GOTOOLCHAIN=go"+pins.GoVersion, "GOFLAGS=-mod=readonly"), labnet.HeadscaleBuildEnv()...)
	out, err := runOK("", env, 10*time.Minute, tsbuild.ModDownloadArgs(pins.HeadscaleModule, pins.HeadscaleVersion)...)
	if err != nil {
		return "", err
	}
	mod, err := tsbuild.ParseModDownload([]byte(out))
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp := bin + ".tmp"
	// The module's own go.mod and go.sum decide every dependency.
	// Niced: it may run beside the image builds (prefetchHeadscale).
	if _, err := runOK(mod.Dir, env, 30*time.Minute, append([]string{"nice", "-n", "10"}, labnet.HeadscaleBuildArgs(tmp)...)...); err != nil {
		return "", err
	}
	return bin, os.Rename(tmp, bin)
}

// testCA is the lab CA (labnet.NewCA, as the engine's tailnet check
// makes it) written where Headscale and the nodes read it.
type testCA struct {
	labnet.CA
	CertName string
}

// newTestCA writes a CA and a server certificate for ip into dir.
func newTestCA(t *testing.T, dir string, ip net.IP) *testCA {
	t.Helper()
	ca, err := labnet.NewCA("host suite "+dir, nil, []net.IP{ip})
	if err != nil {
		t.Fatal(err)
	}
	for f, b := range map[string][]byte{"tls.crt": ca.CertPEM, "tls.key": ca.KeyPEM} {
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return &testCA{CA: ca, CertName: labnet.CAName}
}

// headscale is one control server: its config dir, the netns it listens
// in and the running process.
type headscale struct {
	bin, dir, config, socket string
	netnsPID                 int
	ip                       string
	cmd                      *exec.Cmd
	done                     chan struct{}
	log                      *os.File
}

// ServerURL is what the nodes log in to (an IP literal: no DNS anywhere).
func (h *headscale) ServerURL() string { return "https://" + h.ip + ":8443" }

// headscaleConfig is the lab's Headscale config (labnet.HeadscaleConfig)
// for a server at ip in a network namespace: no DNS anywhere, so the DERP
// node's address is pinned, and no policy (allow all; routes approved by
// the CLI).
func headscaleConfig(ip, socket string) string {
	return labnet.HeadscaleConfig(labnet.HeadscaleOptions{
		ServerURL:  "https://" + ip + ":" + fmt.Sprint(labnet.ControlPort),
		ListenAddr: ip + ":" + fmt.Sprint(labnet.ControlPort),
		STUNAddr:   ip + ":" + fmt.Sprint(labnet.STUNPort),
		DERPIPv4:   ip,
		Socket:     socket,
	})
}

// tailnetDomain is MagicDNS's base domain.
const tailnetDomain = labnet.BaseDomain

// newHeadscale writes the config, CA and TLS files into dir and starts
// Headscale inside the netns of netnsPID, listening on ip; it is stopped
// at cleanup.
func newHeadscale(t *testing.T, dir string, netnsPID int, ip string, logFile string) (*headscale, *testCA) {
	t.Helper()
	bin := headscaleBinary(t)
	ca := newTestCA(t, dir, net.ParseIP(ip))
	// unix_socket is used as given (not relative to the config) and must
	// fit sun_path: a short directory of its own.
	sockDir, err := os.MkdirTemp("", "tnhs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	h := &headscale{bin: bin, dir: dir, config: filepath.Join(dir, "config.yaml"),
		socket: filepath.Join(sockDir, "hs.sock"), netnsPID: netnsPID, ip: ip}
	if err := os.WriteFile(h.config, []byte(headscaleConfig(ip, h.socket)), 0o600); err != nil {
		t.Fatal(err)
	}
	if h.log, err = os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Stop(t); h.log.Close() })
	h.Start(t)
	return h, ca
}

// Start runs `headscale serve` and waits until its CLI answers.
func (h *headscale) Start(t *testing.T) {
	t.Helper()
	h.cmd = exec.Command("nsenter", "-t", fmt.Sprint(h.netnsPID), "-n", "--", h.bin, "-c", h.config, "serve")
	h.cmd.Dir = h.dir
	h.cmd.Stdout, h.cmd.Stderr = h.log, h.log
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h.done = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { c.Wait(); close(done) }(h.cmd, h.done)
	poll(t, 60*time.Second, "headscale health", func() (bool, string) {
		select {
		case <-h.done:
			t.Fatalf("headscale exited; see %s", h.log.Name())
		default:
		}
		r := h.run("health")
		return r.Err == nil, r.String()
	})
}

// Stop ends Headscale (SIGTERM, then SIGKILL after 10 s).
func (h *headscale) Stop(t *testing.T) {
	if h.cmd == nil {
		return
	}
	h.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-h.done:
	case <-time.After(10 * time.Second):
		h.cmd.Process.Kill()
		<-h.done
	}
	h.cmd = nil
}

// run is one CLI call over the unix socket (works from any netns).
func (h *headscale) run(args ...string) result {
	return run(nil, h.dir, os.Environ(), 30*time.Second, append([]string{h.bin, "-c", h.config}, args...)...)
}

// JSON runs a CLI call with machine output and decodes it into v.
func (h *headscale) JSON(t *testing.T, v any, args ...string) {
	t.Helper()
	r := h.run(append(args, "-o", "json")...)
	if r.Err != nil {
		t.Fatalf("headscale %s: %s", strings.Join(args, " "), r)
	}
	if err := json.Unmarshal([]byte(r.Stdout), v); err != nil {
		t.Fatalf("headscale %s: %v\n%s", strings.Join(args, " "), err, r.Stdout)
	}
}

// hsNode is the part of Headscale's node JSON the test reads.
type hsNode struct {
	ID             uint64   `json:"id"`
	Name           string   `json:"name"`
	GivenName      string   `json:"given_name"`
	IPAddresses    []string `json:"ip_addresses"`
	Online         bool     `json:"online"`
	ApprovedRoutes []string `json:"approved_routes"`
	AvailableRoute []string `json:"available_routes"`
	SubnetRoutes   []string `json:"subnet_routes"`
}

// Nodes lists the registered nodes.
func (h *headscale) Nodes(t *testing.T) []hsNode {
	t.Helper()
	var n []hsNode
	h.JSON(t, &n, "nodes", "list")
	return n
}

// PreAuthKey creates user (once) and a reusable key for it.
func (h *headscale) PreAuthKey(t *testing.T, user string) (key string, userID uint64) {
	t.Helper()
	var u struct {
		ID uint64 `json:"id"`
	}
	h.JSON(t, &u, "users", "create", user)
	key, _ = h.NewPreAuthKey(t, u.ID)
	return key, u.ID
}

// NewPreAuthKey is a reusable pre-auth key of the user, valid for an
// hour, and its ID (for ExpirePreAuthKey).
func (h *headscale) NewPreAuthKey(t *testing.T, userID uint64) (string, uint64) {
	t.Helper()
	var k struct {
		ID  uint64 `json:"id"`
		Key string `json:"key"`
	}
	h.JSON(t, &k, "preauthkeys", "create", "--user", fmt.Sprint(userID), "--reusable", "-e", "1h")
	if k.Key == "" || k.ID == 0 {
		t.Fatalf("headscale returned the pre-auth key %+v", k)
	}
	return k.Key, k.ID
}

// ExpirePreAuthKey expires a key: control refuses it from then on.
func (h *headscale) ExpirePreAuthKey(t *testing.T, id uint64) {
	t.Helper()
	if r := h.run("preauthkeys", "expire", "--id", fmt.Sprint(id)); r.Err != nil {
		t.Fatal(r)
	}
}

// poll calls f until it reports true or timeout passes (then the test
// fails with f's last detail). Every wait of the tailnet test is one.
func poll(t *testing.T, timeout time.Duration, what string, f func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	var last string
	for {
		ok, detail := f()
		if ok {
			return time.Since(start)
		}
		last = detail
		if time.Since(start) > timeout {
			t.Fatalf("%s: not reached within %s; last: %s", what, timeout, last)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
