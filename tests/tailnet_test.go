package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"dagger/mikrotik-tailscale/internal/layout"
	"dagger/mikrotik-tailscale/internal/platform"
)

// The tailnet's addresses. Every tailnet lives in namespaces of its own,
// so the two platforms' tailnets use the same numbers side by side.
const (
	ctlIP       = "10.99.0.1"
	routerWAN   = "10.99.1.1"
	clientWAN   = "10.99.2.1"
	loginWAN    = "10.99.3.1"
	lanNet      = "192.168.88.0/24"
	lanRouter   = "192.168.88.1"
	lanHost     = "192.168.88.10"
	lanNet6     = "fd88::/64"
	lanRouter6  = "fd88::1"
	lanHost6    = "fd88::10"
	inetRouter  = "198.51.100.1"
	inetGW      = "198.51.100.2"
	inetNet     = "203.0.113.0/24"
	inetHost    = "203.0.113.10"
	httpPort    = "8080"
	tsNet4      = "100.64.0.0/10"
	tsNet6      = "fd7a:115c:a1e0::/48"
	quad100     = "100.100.100.100"
	tailnetUser = "test"
)

// tailnetDevArt, for development only, names a directory holding
// <arch dir>/rootfs from an earlier host-suite run (ARTIFACTS_DIR), so
// the tailnet test can run without rebuilding Tailscale and BusyBox. By
// default the rootfs is assembled through the suite's own fixtures.
const tailnetDevArt = "TAILNET_DEV_ART"

// tailnetArches are the router platforms: amd64 natively, arm/v7 under
// qemu-user. The client is always amd64.
var tailnetArches = []string{"amd64", "arm/v7"}

// A tailnet built and torn down by the test in private namespaces:
// Headscale (embedded DERP over TLS, STUN) behind a "wan" router
// namespace, the image as a subnet router and exit node, an amd64 client,
// a LAN host behind the router and an "internet" host only the exit node
// reaches.
func TestTailnet(t *testing.T) {
	requireRoot(t)
	inTailnetPhase(t)
	for _, name := range tailnetArches {
		a := mustArch(t, name)
		t.Run(a.Dir, func(t *testing.T) {
			t.Parallel()
			testTailnet(t, a)
		})
	}
}

var (
	tailnetRootsMu sync.Mutex
	tailnetRoots   = map[string]string{}
)

// tailnetRootfs is the image's rootfs for a, as the suite builds it
// (layout.WriteRootfs from the Tailscale and BusyBox stages), written
// once per platform: both tailnets use the amd64 one for their clients,
// and nodes run in copies of it.
func tailnetRootfs(t *testing.T, a platform.Arch) string {
	t.Helper()
	if dev := os.Getenv(tailnetDevArt); dev != "" {
		root := filepath.Join(dev, a.Dir, "rootfs")
		if _, err := os.Stat(filepath.Join(root, layout.Binary)); err != nil {
			t.Fatalf("%s: %v", tailnetDevArt, err)
		}
		return root
	}
	tailnetRootsMu.Lock()
	defer tailnetRootsMu.Unlock()
	if root, ok := tailnetRoots[a.Dir]; ok {
		return root
	}
	root := filepath.Join(scratchDir(t, "tailnet-rootfs"), a.Dir)
	os.RemoveAll(root)
	if err := layout.WriteRootfs(root, imageLayers(t), imageSources(t, a)); err != nil {
		t.Fatal(err)
	}
	tailnetRoots[a.Dir] = root
	return root
}

// tailnet is one running tailnet.
type tailnet struct {
	arch                 platform.Arch
	dir                  string // logs and measurements (artifact)
	wan, ctl, lan, inet  *netns
	hs                   *headscale
	ca                   *testCA
	key                  string // the client's and other nodes' pre-auth key
	routerKey            string // the router's own, expired by the restart test
	routerKeyID          uint64
	router, client       *node
	routerIP, clientIP   string
	routerIP6, clientIP6 string
	report               map[string]any
	// noNetfilter: the router's nftables rules never reached the kernel
	// (measured; qemu-user does not carry NETLINK_NETFILTER), so nothing
	// is masqueraded and the LAN and internet hosts need routes back.
	noNetfilter bool
	// verbose: the router's log lines [from, to) printed by testLogIdle's
	// --verbose=2 run, the one stretch where debug lines are asked for.
	verbose [2]int
	mu      sync.Mutex
}

func (tn *tailnet) measure(k string, v any) {
	tn.mu.Lock()
	defer tn.mu.Unlock()
	tn.report[k] = v
}

func testTailnet(t *testing.T, a platform.Arch) {
	start := time.Now()
	tn := &tailnet{arch: a, report: map[string]any{}}
	tn.dir = filepath.Join(archDir(t, a), "tailnet")
	os.RemoveAll(tn.dir)
	if err := os.MkdirAll(tn.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	defer func() {
		tn.measure("total_s", time.Since(start).Seconds())
		mergeReport(t, map[string]any{"arches": map[string]any{a.Dir: map[string]any{"tailnet": tn.report}}})
	}()

	routerRoot := tailnetRootfs(t, a)
	clientRoot := tailnetRootfs(t, mustArch(t, "amd64"))
	tn.measure("rootfs_s", time.Since(start).Seconds())

	// Network: wan routes between control, the router's and the client's
	// uplinks; the LAN and the "internet" hang off the router only.
	tn.wan = newNetns(t, "wan")
	tn.ctl = newNetns(t, "ctl")
	tn.lan = newNetns(t, "lan")
	tn.inet = newNetns(t, "internet")
	for _, r := range []result{
		nsRun(tn.wan.pid, 10*time.Second, "sh", "-c", "echo 1 >/proc/sys/net/ipv4/ip_forward"),
	} {
		if r.Err != nil {
			t.Fatal(r)
		}
	}
	veth(t, tn.wan, "ctl0", []string{"10.99.0.254/24"}, tn.ctl, "eth0", []string{ctlIP + "/24"})
	tn.ctl.ip(t, "route", "add", "default", "via", "10.99.0.254")

	hsStart := time.Now()
	hsDir := filepath.Join(tn.dir, "headscale")
	if err := os.MkdirAll(hsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	tn.hs, tn.ca = newHeadscale(t, hsDir, tn.ctl.pid, ctlIP, filepath.Join(tn.dir, "headscale.log"))
	var userID uint64
	tn.key, userID = tn.hs.PreAuthKey(t, tailnetUser)
	tn.routerKey, tn.routerKeyID = tn.hs.NewPreAuthKey(t, userID)
	tn.measure("headscale_start_s", time.Since(hsStart).Seconds())

	// serveHTTPIn listens on the wildcard: v4 and v6.
	serveHTTPIn(t, tn.lan, ":"+httpPort)
	tn.inet.ip(t, "addr", "add", inetHost+"/32", "dev", "lo")
	serveHTTPIn(t, tn.inet, ":"+httpPort)

	joinStart := time.Now()
	// The router is configured through its environment, as docs/USAGE.md
	// tells an owner (the client through the JSON file: both paths).
	tn.router = tn.newEnvNode(t, "router", a, routerRoot, tn.routerEnv(tn.routerKey))
	tn.wireRouter(t)
	tn.client = tn.newTailnetNode(t, "client", mustArch(t, "amd64"), clientRoot, map[string]any{
		"AcceptRoutes": true,
	})
	veth(t, tn.wan, "cli0", []string{"10.99.2.254/24"}, tn.client, "eth0", []string{clientWAN + "/24"})
	nsIP(t, tn.client, "route", "add", "default", "via", "10.99.2.254")

	tn.router.Go(t)
	tn.client.Go(t)
	tn.waitRunning(t, tn.router)
	tn.waitRunning(t, tn.client)
	tn.measure("join_s", time.Since(joinStart).Seconds())

	// Approve the router's routes (one call: it replaces the set; the
	// exit route brings ::/0 along).
	var routerID uint64
	poll(t, 60*time.Second, "router advertises its routes", func() (bool, string) {
		for _, n := range tn.hs.Nodes(t) {
			if n.GivenName == "router" && len(n.AvailableRoute) >= 4 {
				routerID = n.ID
				return true, ""
			}
		}
		return false, fmt.Sprint(tn.hs.Nodes(t))
	})
	if r := tn.hs.run("nodes", "approve-routes", "-i", fmt.Sprint(routerID), "-r", strings.Join([]string{lanNet, lanNet6, "0.0.0.0/0"}, ",")); r.Err != nil {
		t.Fatal(r)
	}
	tn.routerIP, tn.routerIP6 = tn.tsIPs(t, tn.router)
	tn.clientIP, tn.clientIP6 = tn.tsIPs(t, tn.client)
	d := poll(t, 60*time.Second, "client sees the router's routes", func() (bool, string) {
		p := tn.peer(t, tn.client, "router")
		return p != nil && slices.Contains(p.PrimaryRoutes, lanNet) && slices.Contains(p.PrimaryRoutes, lanNet6) && p.ExitNodeOption, fmt.Sprintf("%+v", p)
	})
	tn.measure("routes_propagate_s", d.Seconds())
	if r := nsRun(tn.router.pid, 30*time.Second, "nft", "list", "ruleset"); r.Err != nil || !strings.Contains(r.Stdout, "ts-postrouting") {
		if a.Qemu == "" {
			t.Fatalf("router has no tailscale nftables rules: %s", r)
		}
		tn.noNetfilter = true
		t.Logf("%s under qemu-user: the router's nftables ruleset is empty (qemu-user does not pass NETLINK_NETFILTER); SNAT checks become checks without SNAT", a.Dir)
		tn.returnRoutes(t)
	}
	tn.measure("netfilter_rules_in_kernel", !tn.noNetfilter)
	tn.measure("setup_s", time.Since(start).Seconds())

	t.Run("routes", tn.testRoutes)
	t.Run("exit-node", tn.testExitNode)
	t.Run("paths", tn.testPaths)
	t.Run("magicdns", tn.testMagicDNS)
	t.Run("healthcheck", tn.testHealthCheck)
	t.Run("restart", tn.testRestart)
	t.Run("login-url", tn.testLoginURL)
	t.Run("log-idle", tn.testLogIdle)
	t.Run("flash", tn.testFlash)
	// Last: it stops Headscale.
	t.Run("control-outage", tn.testOutage)
	t.Run("log-quiet", tn.testLogQuiet)
}

// newTailnetNode copies root for one node, trusts the test CA the way
// docs/USAGE.md tells an owner of a private-CA control server (a PEM in
// extra-ca/ on the state mount; the image's start script points
// SSL_CERT_DIR there), gives it the resolv.conf a container runtime
// would, and writes the headless config docs/USAGE.md describes.
func (tn *tailnet) newTailnetNode(t *testing.T, name string, a platform.Arch, root string, conf map[string]any) *node {
	t.Helper()
	return newNode(t, name, a, tn.nodeRoot(t, name, root, conf), filepath.Join(tn.dir, name+".log"), nil)
}

// newEnvNode is newTailnetNode configured by its environment, not a JSON
// file.
func (tn *tailnet) newEnvNode(t *testing.T, name string, a platform.Arch, root string, env []string) *node {
	t.Helper()
	return newNode(t, name, a, tn.nodeRoot(t, name, root, nil), filepath.Join(tn.dir, name+".log"), env)
}

// nodeRoot is a node's copy of root (see newTailnetNode).
func (tn *tailnet) nodeRoot(t *testing.T, name, root string, conf map[string]any) string {
	t.Helper()
	dst := filepath.Join(scratchDir(t, filepath.Join("tailnet", tn.arch.Dir)), name)
	os.RemoveAll(dst)
	mustRun(t, "", nil, time.Minute, "cp", "-a", root, dst)
	extra := filepath.Join(dst, layout.ExtraCADir)
	if err := os.MkdirAll(extra, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(extra, tn.ca.CertName), tn.ca.CAPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "etc/resolv.conf"), []byte("nameserver "+lanRouter+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if conf != nil {
		c := map[string]any{"Version": "alpha0", "Locked": false, "ServerURL": tn.hs.ServerURL(),
			"AuthKey": tn.key, "Hostname": name}
		for k, v := range conf {
			c[k] = v
		}
		tn.writeConfig(t, dst, c)
	}
	return dst
}

// routerEnv is the router's container environment: docs/USAGE.md's env
// list with the test's control server, routes and the given auth key
// ("" leaves TS_AUTHKEY out).
func (tn *tailnet) routerEnv(key string) []string {
	env := []string{
		"TS_HOSTNAME=router",
		"TS_ROUTES=" + lanNet + "," + lanNet6,
		"TS_EXTRA_ARGS=--login-server=" + tn.hs.ServerURL() + " --advertise-exit-node",
	}
	if key != "" {
		env = append(env, "TS_AUTHKEY="+key)
	}
	return env
}

func (tn *tailnet) writeConfig(t *testing.T, root string, c map[string]any) {
	t.Helper()
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, layout.ConfigFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// wireRouter connects the router's network namespace: WAN uplink, the
// LAN (v4 and v6) and the "internet". The LAN and internet hosts get no
// route back to the tailnet: with SNAT they need none.
func (tn *tailnet) wireRouter(t *testing.T) {
	t.Helper()
	defer func() {
		if tn.noNetfilter {
			tn.returnRoutes(t)
		}
	}()
	veth(t, tn.wan, "rtr0", []string{"10.99.1.254/24"}, tn.router, "eth0", []string{routerWAN + "/24"})
	nsIP(t, tn.router, "route", "add", "default", "via", "10.99.1.254")
	veth(t, tn.router, "lan0", []string{lanRouter + "/24", lanRouter6 + "/64"}, tn.lan, "eth0", []string{lanHost + "/24", lanHost6 + "/64"})
	// The internet host sits one hop beyond the router's uplink: an exit
	// node never forwards to its own directly attached subnets
	// (tailscale's shrinkDefaultRoute), only beyond them.
	veth(t, tn.router, "inet0", []string{inetRouter + "/24"}, tn.inet, "eth0", []string{inetGW + "/24"})
	nsIP(t, tn.router, "route", "add", inetNet, "via", inetGW)
}

// tsStatus is the part of `tailscale status --json` the test reads.
type tsStatus struct {
	BackendState string
	Self         *tsPeer
	Peer         map[string]*tsPeer
}

type tsPeer struct {
	HostName       string
	DNSName        string
	TailscaleIPs   []string
	PrimaryRoutes  []string
	ExitNodeOption bool
	ExitNode       bool
	CurAddr        string
	Relay          string
	Online         bool
}

func (tn *tailnet) status(t *testing.T, n *node) (*tsStatus, string) {
	t.Helper()
	r := n.Exec(30*time.Second, "tailscale", "status", "--json")
	if r.Err != nil {
		return nil, r.String()
	}
	var s tsStatus
	if err := json.Unmarshal([]byte(r.Stdout), &s); err != nil {
		return nil, err.Error()
	}
	return &s, ""
}

func (tn *tailnet) peer(t *testing.T, n *node, host string) *tsPeer {
	t.Helper()
	s, _ := tn.status(t, n)
	if s == nil {
		return nil
	}
	for _, p := range s.Peer {
		if p.HostName == host {
			return p
		}
	}
	return nil
}

func (tn *tailnet) waitRunning(t *testing.T, n *node) time.Duration {
	t.Helper()
	return poll(t, 120*time.Second, n.name+" Running", func() (bool, string) {
		s, detail := tn.status(t, n)
		if s == nil {
			return false, detail
		}
		return s.BackendState == "Running", s.BackendState
	})
}

// tsIPs are n's tailnet addresses (v4, v6).
func (tn *tailnet) tsIPs(t *testing.T, n *node) (string, string) {
	t.Helper()
	s, detail := tn.status(t, n)
	if s == nil || s.Self == nil {
		t.Fatalf("%s status: %s", n.name, detail)
	}
	var v4, v6 string
	for _, ip := range s.Self.TailscaleIPs {
		if strings.Contains(ip, ":") {
			v6 = ip
		} else {
			v4 = ip
		}
	}
	return v4, v6
}

// httpGet fetches http://host:port/ from inside n with BusyBox wget; the
// answer names the server and the source address it saw.
func httpGet(n *node, host string) result {
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return n.Exec(15*time.Second, "wget", "-q", "-T", "5", "-O", "-", "http://"+host+":"+httpPort+"/")
}

// expectHTTP polls until n's request to host is answered as seen from
// wantFrom; it returns how long that took.
func expectHTTP(t *testing.T, n *node, host, wantServer, wantFrom string, timeout time.Duration) time.Duration {
	t.Helper()
	want := wantServer + " from " + wantFrom + "\n"
	return poll(t, timeout, n.name+" → http://"+host, func() (bool, string) {
		r := httpGet(n, host)
		return r.Err == nil && r.Stdout == want, r.String()
	})
}

// expectPing polls until one ICMP echo from n to host is answered.
func expectPing(t *testing.T, n *node, host string, timeout time.Duration) time.Duration {
	t.Helper()
	argv := []string{"ping", "-c", "1", "-W", "3", host}
	if strings.Contains(host, ":") {
		argv[0] = "ping6"
	}
	return poll(t, timeout, n.name+" ping "+host, func() (bool, string) {
		r := n.Exec(15*time.Second, argv...)
		return r.Err == nil, r.String()
	})
}

// 1: the client reaches the LAN host through the subnet router, over TCP
// and ICMP, v4 and v6; with SNAT (default) the LAN host sees the router's
// LAN address and needs no route back; without it, it sees the client's
// tailnet address and needs one.
func (tn *tailnet) testRoutes(t *testing.T) {
	d := expectHTTP(t, tn.client, lanHost, "lan", tn.snat(lanRouter), 60*time.Second)
	tn.measure("routes_first_tcp_s", d.Seconds())
	expectPing(t, tn.client, lanHost, 30*time.Second)
	// Under qemu-user tailscaled also runs without policy routing and
	// so disables tunneled IPv6 (its log says so): no v6 there.
	v6 := !tn.noNetfilter
	if v6 {
		expectHTTP(t, tn.client, lanHost6, "lan", tn.snat(lanRouter6), 30*time.Second)
		expectPing(t, tn.client, lanHost6, 30*time.Second)
	}

	t.Run("no-snat", func(t *testing.T) {
		tn.router.MustExec(t, 30*time.Second, "tailscale", "set", "--snat-subnet-routes=false")
		defer tn.router.Exec(30*time.Second, "tailscale", "set", "--snat-subnet-routes=true")
		if !tn.noNetfilter {
			nsIP(t, tn.lan, "route", "add", tsNet4, "via", lanRouter)
			nsIP(t, tn.lan, "-6", "route", "add", tsNet6, "via", lanRouter6)
			defer nsRun(tn.lan.pid, 10*time.Second, "ip", "route", "del", tsNet4)
			defer nsRun(tn.lan.pid, 10*time.Second, "ip", "-6", "route", "del", tsNet6)
		}
		expectHTTP(t, tn.client, lanHost, "lan", tn.clientIP, 30*time.Second)
		expectPing(t, tn.client, lanHost, 30*time.Second)
		if v6 {
			expectHTTP(t, tn.client, lanHost6, "lan", tn.clientIP6, 30*time.Second)
			expectPing(t, tn.client, lanHost6, 30*time.Second)
		}
	})
	// SNAT is back on: the route-less LAN host answers again.
	expectHTTP(t, tn.client, lanHost, "lan", tn.snat(lanRouter), 30*time.Second)
}

// 2: with the router as exit node the client reaches a host only the
// router can; the image has no iptables binary, so tailscaled fell back
// to nftables and its rules are in the router's namespace.
func (tn *tailnet) testExitNode(t *testing.T) {
	if r := httpGet(tn.client, inetHost); r.Err == nil {
		t.Fatalf("the internet host is reachable without the exit node: %s", r.Stdout)
	}
	tn.client.MustExec(t, 30*time.Second, "tailscale", "set", "--exit-node="+tn.routerIP)
	defer func() {
		if t.Failed() {
			tn.diagnose(t)
		}
		tn.client.Exec(30*time.Second, "tailscale", "set", "--exit-node=")
	}()
	d := expectHTTP(t, tn.client, inetHost, "internet", tn.snat(inetRouter), 60*time.Second)
	tn.measure("exit_node_first_tcp_s", d.Seconds())
	expectPing(t, tn.client, inetHost, 30*time.Second)

	log, _ := os.ReadFile(tn.router.log)
	if !regexp.MustCompile(`(?s)iptables not found: .*?; falling back to nftables`).Match(log) {
		t.Errorf("router log lacks the nftables fallback line")
	}
	if tn.noNetfilter {
		t.Logf("%s: the exit node forwards; its nftables rules are not in the kernel under qemu-user (not checked)", tn.arch.Dir)
		return
	}
	r := nsRun(tn.router.pid, 30*time.Second, "nft", "list", "ruleset")
	if r.Err != nil {
		t.Fatal(r)
	}
	os.WriteFile(filepath.Join(tn.dir, "router-nft-ruleset.txt"), []byte(r.Stdout), 0o644)
	for _, want := range []string{"chain ts-forward", "chain ts-postrouting", "masquerade", `iifname "tailscale0*"`} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("router nft ruleset lacks %q:\n%s", want, r.Stdout)
		}
	}
}

var viaRE = regexp.MustCompile(`pong from \S+ \(\S+\) via (\S+) in`)

// tsPing runs one `tailscale ping` from n and returns the "via" part.
func tsPing(n *node, ip string, args ...string) (string, result) {
	argv := append([]string{"tailscale", "ping", "--timeout", "5s"}, args...)
	r := n.Exec(60*time.Second, append(argv, ip)...)
	m := viaRE.FindAllStringSubmatch(r.Stdout, -1)
	if len(m) == 0 {
		return "", r
	}
	return m[len(m)-1][1], r
}

// 3: the nodes talk over the direct UDP path; with UDP between them
// dropped in the wan namespace, traffic still flows, relayed by DERP.
func (tn *tailnet) testPaths(t *testing.T) {
	d := poll(t, 60*time.Second, "direct path", func() (bool, string) {
		via, r := tsPing(tn.client, tn.routerIP, "-c", "5")
		return via == routerWAN+":41641" || strings.HasPrefix(via, routerWAN+":"), r.String()
	})
	tn.measure("direct_path_s", d.Seconds())

	rules := filepath.Join(tn.dir, "block-udp.nft")
	os.WriteFile(rules, []byte(`table inet tnblock {
	chain blockudp {
		type filter hook forward priority 0; policy accept;
		ip saddr 10.99.1.0/24 ip daddr 10.99.2.0/24 meta l4proto udp drop
		ip saddr 10.99.2.0/24 ip daddr 10.99.1.0/24 meta l4proto udp drop
	}
}
`), 0o644)
	if r := nsRun(tn.wan.pid, 10*time.Second, "nft", "-f", rules); r.Err != nil {
		t.Fatal(r)
	}
	defer nsRun(tn.wan.pid, 10*time.Second, "nft", "delete", "table", "inet", "tnblock")
	d = poll(t, 90*time.Second, "DERP path with UDP blocked", func() (bool, string) {
		via, r := tsPing(tn.client, tn.routerIP, "--until-direct=false", "-c", "1")
		return via == "DERP(headscale)", r.String()
	})
	tn.measure("derp_fallback_s", d.Seconds())
	expectHTTP(t, tn.client, lanHost, "lan", tn.snat(lanRouter), 60*time.Second)
	expectPing(t, tn.client, tn.routerIP, 30*time.Second)
}

// 7 (a measurement): MagicDNS data reaches the node (tailscale dns query
// goes through the LocalAPI), but without netstack nothing answers DNS
// packets to 100.100.100.100; and what tailscaled did to the container's
// resolv.conf with AcceptDNS at its default.
func (tn *tailnet) testMagicDNS(t *testing.T) {
	name := "client." + tailnetDomain
	m := map[string]any{}
	r := tn.router.Exec(30*time.Second, "tailscale", "dns", "query", name)
	m["dns_query_ok"] = r.Err == nil && strings.Contains(r.Stdout, tn.clientIP)
	m["dns_query_output"] = strings.TrimSpace(r.Stdout + r.Stderr)
	if r.Err != nil || !strings.Contains(r.Stdout, tn.clientIP) {
		t.Errorf("tailscale dns query %s on the router: %s", name, r)
	}
	// The documented config (AcceptDNS false) leaves the container's
	// resolver alone; Tailscale's default (the client) points it at
	// 100.100.100.100, which nothing answers without netstack.
	rc, _ := os.ReadFile(filepath.Join(tn.router.root, "etc/resolv.conf"))
	m["router_resolv_conf"] = string(rc)
	if want := "nameserver " + lanRouter + "\n"; string(rc) != want {
		t.Errorf("the router's resolv.conf changed with AcceptDNS false: %q, want %q", rc, want)
	}
	crc, _ := os.ReadFile(filepath.Join(tn.client.root, "etc/resolv.conf"))
	m["client_default_resolv_conf"] = string(crc)
	_, err := os.Stat(filepath.Join(tn.client.root, "etc/resolv.pre-tailscale-backup.conf"))
	m["client_default_resolv_backup"] = err == nil
	r = tn.router.Exec(30*time.Second, "timeout", "10", "nslookup", name, quad100)
	m["udp_quad100_from_router_ok"] = r.Err == nil && strings.Contains(r.Stdout, tn.clientIP)
	m["udp_quad100_from_router_output"] = strings.TrimSpace(r.Stdout + r.Stderr)
	r = tn.router.Exec(30*time.Second, "ping", "-c", "1", "-W", "3", quad100)
	m["icmp_quad100_from_router_ok"] = r.Err == nil
	// From the LAN host, routed through the router (BusyBox from the
	// client's amd64 rootfs, run in the LAN namespace).
	nsRun(tn.lan.pid, 10*time.Second, "ip", "route", "add", quad100+"/32", "via", lanRouter)
	defer nsRun(tn.lan.pid, 10*time.Second, "ip", "route", "del", quad100+"/32")
	bb := filepath.Join(tn.client.root, layout.BusyBox)
	r = nsRun(tn.lan.pid, 30*time.Second, bb, "timeout", "10", bb, "nslookup", name, quad100)
	m["udp_quad100_from_lan_ok"] = r.Err == nil && strings.Contains(r.Stdout, tn.clientIP)
	m["udp_quad100_from_lan_output"] = strings.TrimSpace(r.Stdout + r.Stderr)
	t.Logf("MagicDNS measurement: %v", m)
	tn.measure("magicdns", m)
}

// 5: a restarted router (new namespaces: the socket tmpfs is gone; the
// state dir is kept) rejoins on its node key alone: first with the key
// variable removed, then with the key it logged in with back in place but
// expired on the server (auth once: the start script no longer sends it;
// sent, control refuses it and the router stays offline, measured).
func (tn *tailnet) testRestart(t *testing.T) {
	before := len(tn.hs.Nodes(t))
	for _, c := range []struct{ name, key string }{{"no-key", ""}, {"expired-key", tn.routerKey}} {
		t.Run(c.name, func(t *testing.T) {
			if c.key != "" {
				tn.hs.ExpirePreAuthKey(t, tn.routerKeyID)
			}
			tn.router.Stop(t)
			tn.router.env = tn.routerEnv(c.key)
			start := time.Now()
			tn.router.start(t)
			tn.wireRouter(t)
			// No tailscaled yet, on a fresh socket tmpfs: unhealthy.
			expectHealthBeforeGo(t, tn.router, "tailscaled is not running", 30*time.Second)
			tn.router.Go(t)
			tn.waitRunning(t, tn.router)
			expectHealth(t, tn.router, true, "", 30*time.Second)
			expectHTTP(t, tn.client, lanHost, "lan", tn.snat(lanRouter), 90*time.Second)
			tn.measure("restart_rejoin_"+c.name+"_s", time.Since(start).Seconds())
			if v4, _ := tn.tsIPs(t, tn.router); v4 != tn.routerIP {
				t.Errorf("router came back as %s, was %s", v4, tn.routerIP)
			}
			if after := len(tn.hs.Nodes(t)); after != before {
				t.Errorf("headscale has %d nodes after the restart, %d before", after, before)
			}
			// The config the environment made: on the socket's tmpfs, and
			// without the key once logged in.
			conf := tn.router.MustExec(t, 30*time.Second, "cat", layout.EnvConfigFile)
			if strings.Contains(conf, "AuthKey") || !strings.Contains(conf, `"Hostname":"router"`) {
				t.Errorf("%s after a login: %s", layout.EnvConfigFile, conf)
			}
			if _, err := os.Stat(filepath.Join(tn.router.root, layout.EnvConfigFile)); err == nil {
				t.Errorf("%s reached the router's disk, not the tmpfs", layout.EnvConfigFile)
			}
		})
	}
}

// lockedBuffer collects a running command's output for polling.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var authURLRE = regexp.MustCompile(`https://\S+/register/(hskey-authreq-\S+)`)

// 8: `tailscale up` without a key prints the login URL and waits (the
// IPN bus) until the login is completed on the server.
func (tn *tailnet) testLoginURL(t *testing.T) {
	amd := mustArch(t, "amd64")
	n := tn.newTailnetNode(t, "login", amd, tailnetRootfs(t, amd), nil)
	veth(t, tn.wan, "new0", []string{"10.99.3.254/24"}, n, "eth0", []string{loginWAN + "/24"})
	nsIP(t, n, "route", "add", "default", "via", "10.99.3.254")
	n.Go(t)
	// Up but never logged in: unhealthy, and the probe says why.
	expectHealth(t, n, false, "NeedsLogin", 30*time.Second)
	args, env := n.execArgv("tailscale", "up", "--login-server="+tn.hs.ServerURL(), "--accept-dns=false", "--timeout=120s")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = env
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() { cmd.Process.Kill(); <-done }()
	var authID string
	poll(t, 60*time.Second, "login URL", func() (bool, string) {
		m := authURLRE.FindStringSubmatch(out.String())
		if m == nil {
			return false, out.String()
		}
		authID = m[1]
		return true, ""
	})
	select {
	case err := <-done:
		done <- err
		t.Fatalf("tailscale up did not wait for the login: %v\n%s", err, out.String())
	default:
	}
	if r := tn.hs.run("auth", "register", "--auth-id", authID, "--user", tailnetUser); r.Err != nil {
		t.Fatal(r)
	}
	select {
	case err := <-done:
		done <- err
		if err != nil {
			t.Fatalf("tailscale up: %v\n%s", err, out.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("tailscale up still waiting 60 s after the login was registered:\n%s", out.String())
	}
	tn.waitRunning(t, n)
	expectHealth(t, n, true, "", 30*time.Second)
	// Logged in but switched off (`tailscale down`): unhealthy.
	n.MustExec(t, 30*time.Second, "tailscale", "down")
	expectHealth(t, n, false, "backend state Stopped", 30*time.Second)
}

// diagnose logs the nodes' routing and netfilter state after a failure.
func (tn *tailnet) diagnose(t *testing.T) {
	for _, n := range []*node{tn.client, tn.router} {
		for _, argv := range [][]string{{"ip", "rule"}, {"ip", "route", "show", "table", "all"}, {"nft", "list", "ruleset"}} {
			r := nsRun(n.pid, 10*time.Second, argv...)
			t.Logf("%s: %s:\n%s%s", n.name, strings.Join(argv, " "), r.Stdout, r.Stderr)
		}
		r := n.Exec(30*time.Second, "tailscale", "status")
		t.Logf("%s: tailscale status:\n%s%s", n.name, r.Stdout, r.Stderr)
	}
}

// returnRoutes give the LAN and internet hosts routes back to the tailnet
// through the router (needed without SNAT).
func (tn *tailnet) returnRoutes(t *testing.T) {
	t.Helper()
	nsRun(tn.lan.pid, 10*time.Second, "ip", "route", "replace", tsNet4, "via", lanRouter)
	nsRun(tn.lan.pid, 10*time.Second, "ip", "-6", "route", "replace", tsNet6, "via", lanRouter6)
	nsRun(tn.inet.pid, 10*time.Second, "ip", "route", "replace", tsNet4, "via", inetRouter)
}

// snat is the source the LAN or internet host sees: the router's address
// with SNAT, the client's own without netfilter.
func (tn *tailnet) snat(routerAddr string) string {
	if !tn.noNetfilter {
		return routerAddr
	}
	if strings.Contains(routerAddr, ":") {
		return tn.clientIP6
	}
	return tn.clientIP
}
