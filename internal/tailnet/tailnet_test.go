package tailnet

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCAChainsAndIsDeterministic(t *testing.T) {
	a, err := NewCA("arch amd64", []string{ControlHost}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewCA("arch amd64", []string{ControlHost}, nil)
	if !bytes.Equal(a.CAPEM, b.CAPEM) || !bytes.Equal(a.CertPEM, b.CertPEM) || !bytes.Equal(a.KeyPEM, b.KeyPEM) {
		t.Error("the same seed gave different bytes: the engine could not reuse the lab's cached steps")
	}
	c, _ := NewCA("arch arm/v7", []string{ControlHost}, nil)
	if bytes.Equal(a.CAPEM, c.CAPEM) {
		t.Error("another seed gave the same CA")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(a.CAPEM) {
		t.Fatal("CA PEM does not parse")
	}
	blk, _ := pem.Decode(a.CertPEM)
	leaf, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: ControlHost, Roots: pool, CurrentTime: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Errorf("server certificate does not verify for %s: %v", ControlHost, err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "other", Roots: pool}); err == nil {
		t.Error("server certificate verifies for a name it was not made for")
	}
}

func TestHeadscaleConfig(t *testing.T) {
	c := HeadscaleConfig(LabHeadscale())
	for _, want := range []string{
		"server_url: https://control:8443\n",
		"listen_addr: 0.0.0.0:8443\n",
		"stun_listen_addr: 0.0.0.0:3478\n",
		"path: /lab/headscale/db.sqlite\n",
		"tls_cert_path: /lab/headscale/tls.crt\n",
		`path: "/lab/headscale/policy.hujson"`,
		"unix_socket: /lab/headscale/hs.sock\n",
	} {
		if !strings.Contains(c, want) {
			t.Errorf("lab config lacks %q", want)
		}
	}
	if strings.Contains(c, "ipv4:") {
		t.Error("lab config pins a DERP address; nodes must resolve the service name")
	}
	h := HeadscaleConfig(HeadscaleOptions{ServerURL: "https://10.99.0.1:8443", ListenAddr: "10.99.0.1:8443", STUNAddr: "10.99.0.1:3478", DERPIPv4: "10.99.0.1", Socket: "/tmp/x/hs.sock"})
	for _, want := range []string{"    ipv4: 10.99.0.1\n", "path: db.sqlite\n", "tls_key_path: tls.key\n", `path: ""`} {
		if !strings.Contains(h, want) {
			t.Errorf("host config lacks %q", want)
		}
	}
	if strings.Contains(h, "\t") {
		t.Error("YAML with a tab")
	}
}

func TestPolicy(t *testing.T) {
	var p struct {
		ACLs []struct {
			Src   []string `json:"src"`
			Dst   []string `json:"dst"`
			Proto string   `json:"proto"`
		} `json:"acls"`
		AutoApprovers struct {
			Routes   map[string][]string `json:"routes"`
			ExitNode []string            `json:"exitNode"`
		} `json:"autoApprovers"`
	}
	if err := json.Unmarshal([]byte(Policy()), &p); err != nil {
		t.Fatal(err)
	}
	if len(p.AutoApprovers.Routes[LANNet]) == 0 || len(p.AutoApprovers.ExitNode) == 0 {
		t.Errorf("the router's route and exit node are not auto-approved: %+v", p.AutoApprovers)
	}
	// The rejection check needs TCP to RejectedPort and to the nodes
	// themselves to be allowed by no rule.
	for _, a := range p.ACLs {
		for _, d := range a.Dst {
			if a.Proto == "" && (strings.HasPrefix(d, User+"@:") || strings.HasSuffix(d, ":*") && !strings.HasPrefix(d, "autogroup:internet")) {
				t.Errorf("rule %v allows TCP the rejection check expects dropped", a)
			}
		}
	}
}

func TestParseResults(t *testing.T) {
	out := "noise\n" + Result{ID: "login", Passed: true, Detail: "ok", Seconds: 2}.Line() + "\n" +
		Result{ID: "routes", Passed: false, Detail: "no route"}.Line() + "\n"
	rs, err := ParseResults(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != len(Checks) {
		t.Fatalf("%d results, want one per check (%d)", len(rs), len(Checks))
	}
	if !rs[0].Passed || rs[1].Passed || rs[1].Detail != "no route" {
		t.Errorf("results as printed were not kept: %+v", rs[:2])
	}
	for _, r := range rs[2:] {
		if r.Passed || !strings.Contains(r.Detail, "not reached") {
			t.Errorf("a check with no line must fail as not reached: %+v", r)
		}
	}
	if _, err := ParseResults(Result{ID: "nonsense"}.Line()); err == nil {
		t.Error("an unknown check was accepted")
	}
	if _, err := ParseResults(Result{ID: "login"}.Line() + "\n" + Result{ID: "login"}.Line()); err == nil {
		t.Error("a check reported twice was accepted")
	}
}

func TestParsePongs(t *testing.T) {
	out := "pong from router (100.64.0.1) via DERP(headscale) in 12ms\n" +
		"pong from router (100.64.0.1, 41641) via 10.87.0.5:41641 in 1ms\n" +
		"pong from router (100.64.0.1) via TSMP in 3ms\n"
	ps := ParsePongs(out)
	if len(ps) != 3 {
		t.Fatalf("pongs: %+v", ps)
	}
	if ps[0].Direct() || !ps[1].Direct() || ps[2].Direct() || ps[1].Via != "10.87.0.5:41641" || ps[2].Latency != "3ms" {
		t.Errorf("pongs: %+v", ps)
	}
	if len(ParsePongs("ping \"100.64.0.1\" timed out\n")) != 0 {
		t.Error("a timeout read as a pong")
	}
}

func TestParseEchoAndStatus(t *testing.T) {
	if n, f, err := ParseEcho("lan from 10.87.0.5\n"); err != nil || n != "lan" || f != "10.87.0.5" {
		t.Errorf("ParseEcho: %q %q %v", n, f, err)
	}
	if _, _, err := ParseEcho("<html>proxy error</html>"); err == nil {
		t.Error("ParseEcho accepted a non-echo")
	}
	s, err := ParseStatus(`{"BackendState":"Running","Self":{"HostName":"client","TailscaleIPs":["100.64.0.2","fd7a:115c:a1e0::2"]},
		"Peer":{"k":{"HostName":"router","TailscaleIPs":["fd7a:115c:a1e0::1","100.64.0.1"],"PrimaryRoutes":["192.168.88.0/24"],"ExitNodeOption":true}}}`)
	if err != nil {
		t.Fatal(err)
	}
	if s.Self.IPv4() != "100.64.0.2" || s.PeerNamed("router").IPv4() != "100.64.0.1" || s.PeerNamed("nobody") != nil {
		t.Errorf("status: %+v", s)
	}
}

func TestVolumeNamesDiffer(t *testing.T) {
	a, b := VolumeName("state", "armv7", "sha256:aa"), VolumeName("state", "armv7", "sha256:bb")
	if a == b || VolumeName("run", "armv7", "sha256:aa") == a || VolumeName("state", "arm64", "sha256:aa") == a {
		t.Errorf("volume names collide: %s %s", a, b)
	}
}

func TestTitlesUniqueAndKnown(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Checks {
		if seen[c.Title] || seen[c.ID] {
			t.Errorf("duplicate check %q", c.ID)
		}
		seen[c.Title], seen[c.ID] = true, true
		if Title(c.ID) != c.Title {
			t.Errorf("Title(%q) = %q", c.ID, Title(c.ID))
		}
	}
}

func TestClientRunsEveryCheckInOrder(t *testing.T) {
	steps := (&lab{}).steps()
	if len(steps) != len(Checks) {
		t.Fatalf("client runs %d steps, Checks lists %d", len(steps), len(Checks))
	}
	for i, s := range steps {
		if s.id != Checks[i].ID {
			t.Errorf("step %d is %q, Checks has %q there", i, s.id, Checks[i].ID)
		}
	}
}

func TestReadStateDir(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"tailscaled.state":            "{}",
		"derpmap.cached.json":         "{}",
		"derpmap.cached.json.tmp1234": "{",
		"extra-ca/" + CAName:          "pem",
		"tailscaled.log.conf":         "{}",
		"extra-ca/other.pem":          "pem",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sd, err := ReadStateDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(sd.Files) != 6 || !slices.Equal(sd.Unexpected, []string{"extra-ca/other.pem", "tailscaled.log.conf"}) {
		t.Errorf("files %v, unexpected %v", sd.Names(), sd.Unexpected)
	}
}

func TestDiagnosticsLastLinesAllPassed(t *testing.T) {
	out := Result{ID: "login", Passed: true}.Line() + "\n--- router status\nx\n\n" + Result{ID: "routes"}.Line() + "\ny\n"
	if got := Diagnostics(out); got != "--- router status\nx\ny\n" {
		t.Errorf("Diagnostics = %q", got)
	}
	if got := LastLines("a\nb\nc\n", 2); got != "b\nc" {
		t.Errorf("LastLines = %q", got)
	}
	if got := LastLines("a\n", 5); got != "a" {
		t.Errorf("LastLines short = %q", got)
	}
	if !AllPassed([]Result{{Passed: true}}) || AllPassed([]Result{{Passed: true}, {}}) {
		t.Error("AllPassed")
	}
}
