package tests

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
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
// network) instead of delaying the tailnet by its cold build (334 s
// measured on 2 cores, 2026-12-02). headscaleBinary then waits for it.
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
	env := append(os.Environ(), "GOTOOLCHAIN=go"+pins.GoVersion, "CGO_ENABLED=0", "GOFLAGS=-mod=readonly")
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
	if _, err := runOK(mod.Dir, env, 30*time.Minute, "nice", "-n", "10", "go", "build", "-trimpath", "-o", tmp, "./cmd/headscale"); err != nil {
		return "", err
	}
	return bin, os.Rename(tmp, bin)
}

// testCA is a throwaway CA and a server certificate it signed.
type testCA struct {
	CAPEM             []byte
	CertPEM, KeyPEM   []byte
	CAFile, CertFile  string
	KeyFile, CertName string
}

// newTestCA writes a CA and a leaf for ip (IP SAN) into dir.
func newTestCA(t *testing.T, dir string, ip net.IP) *testCA {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mikrotik-tailscale tailnet test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: ip.String()},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{ip},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	c := &testCA{
		CAPEM:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		CertPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}),
		KeyPEM:   pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		CAFile:   filepath.Join(dir, "test-ca.pem"),
		CertFile: filepath.Join(dir, "tls.crt"),
		KeyFile:  filepath.Join(dir, "tls.key"),
		CertName: "tailnet-test-ca.pem",
	}
	for f, b := range map[string][]byte{c.CAFile: c.CAPEM, c.CertFile: c.CertPEM, c.KeyFile: c.KeyPEM} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return c
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

// headscaleConfig is Headscale's config for a server at ip with the
// embedded DERP (TLS on the main listener, STUN on 3478), MagicDNS under
// tailnet.test and no policy (allow all; routes approved by the CLI).
func headscaleConfig(ip, socket string) string {
	return `server_url: https://` + ip + `:8443
listen_addr: ` + ip + `:8443
metrics_listen_addr: ""
grpc_listen_addr: 127.0.0.1:50443
grpc_allow_insecure: false
disable_check_updates: true
noise:
  private_key_path: noise_private.key
prefixes:
  v4: 100.64.0.0/10
  v6: fd7a:115c:a1e0::/48
  allocation: sequential
derp:
  server:
    enabled: true
    region_id: 999
    region_code: headscale
    region_name: Headscale Embedded DERP
    verify_clients: true
    stun_listen_addr: ` + ip + `:3478
    private_key_path: derp_server_private.key
    automatically_add_embedded_derp_region: true
    ipv4: ` + ip + `
  urls: []
  paths: []
  auto_update_enabled: false
  update_frequency: 3h
node:
  expiry: 0
database:
  type: sqlite
  sqlite:
    path: db.sqlite
    write_ahead_log: true
tls_letsencrypt_hostname: ""
tls_cert_path: tls.crt
tls_key_path: tls.key
log:
  level: info
  format: text
policy:
  mode: file
  path: ""
dns:
  magic_dns: true
  base_domain: ` + tailnetDomain + `
  override_local_dns: false
  nameservers:
    global: []
    split: {}
  search_domains: []
unix_socket: ` + socket + `
unix_socket_permission: "0770"
logtail:
  enabled: false
taildrop:
  enabled: false
`
}

// tailnetDomain is MagicDNS's base domain.
const tailnetDomain = "tailnet.test"

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
