// Package tailnet is the tailnet check the required check and release
// run inside the engine: Headscale as the control server, the image just
// built as subnet router and exit node, an amd64 client, and a LAN and an
// "internet" host behind the router. It holds the lab's addresses and
// names, Headscale's configuration and policy, the CA the check makes for
// itself, and the lab tool (cmd/tailnet-lab) that runs in each container.
// The Dagger shell (tailnet.go in the module root) only wires containers
// and services; every decision and assertion is here.
package tailnet

import (
	"crypto/sha256"
	"fmt"
	"strconv"
	"time"
)

// The lab's names, addresses and ports. Dagger's service network is flat:
// every container reaches every other by its engine address, so the LAN
// and the "internet" are prefixes only the router routes (through the
// hosts service), and the client proves the path by the source address
// the hosts see.
const (
	ControlHost  = "control" // Headscale, bound under this alias
	ControlPort  = 8443      // HTTPS (API, Noise, embedded DERP)
	STUNPort     = 3478      // embedded DERP's STUN (UDP)
	HostsHost    = "hosts"   // the LAN host and the internet host
	RouterHost   = "router"  // the image under test: its tailnet host name
	ClientHost   = "client"  // the client service, bound to the router
	AdminPort    = 9999      // the lab tool's command port on control and hosts
	LANNet       = "192.168.88.0/24"
	LANHost      = "192.168.88.10"
	InternetNet  = "203.0.113.0/24"
	InternetHost = "203.0.113.10"
	HTTPPort     = 8080
	// RejectedPort is a TCP port the policy allows nobody, on the router's
	// tailnet address and on the LAN host.
	RejectedPort = 9
	User         = "lab"
	TailnetV4    = "100.64.0.0/10"
	TailnetV6    = "fd7a:115c:a1e0::/48"
)

// OutageWindow is how long control stays down while the tunnel is
// checked: the floor of 60 s.
const OutageWindow = 60 * time.Second

// Paths inside the lab's containers.
const (
	Dir          = "/lab"
	Tool         = Dir + "/tailnet-lab"
	CAFile       = Dir + "/ca.pem"
	HeadscaleDir = Dir + "/headscale" // config, TLS, database, keys
	KeysDir      = HeadscaleDir + "/keys"
	RouterKey    = KeysDir + "/router"
	ClientKey    = KeysDir + "/client"
	// The router's socket and state directories, shared with the client
	// through cache volumes: the client runs the router's CLI and reads
	// its state directory.
	RouterRunDir   = Dir + "/router-run"
	RouterStateDir = Dir + "/router-state"
	// CAName is the PEM's name in the router's extra-ca directory, where
	// docs/USAGE.md tells an owner of a private-CA control server to put it.
	CAName = "tailnet-lab-ca.pem"
)

// ControlURL is the URL every node logs in to.
func ControlURL() string {
	return "https://" + ControlHost + ":" + strconv.Itoa(ControlPort)
}

// Admin commands the lab tool accepts on AdminPort, one line each.
const (
	CmdStop  = "stop"  // control: stop Headscale
	CmdStart = "start" // control: start it again and wait until healthy
	CmdRoute = "route" // hosts: "route <router address>": the way back to the tailnet
	// CmdResults asks the client for its results: "pending", or every
	// line its checks printed.
	CmdResults = "results"
)

// RouterEnv is the router's container environment: docs/USAGE.md's
// variables, as a router owner sets them.
func RouterEnv(key string) []string {
	return []string{
		"TS_AUTHKEY=" + key,
		"TS_HOSTNAME=" + RouterHost,
		"TS_ROUTES=" + LANNet,
		"TS_EXTRA_ARGS=--login-server=" + ControlURL() + " --advertise-exit-node",
	}
}

// ClientEnv is the client's environment: the same image, accepting routes.
func ClientEnv(key string) []string {
	return []string{
		"TS_AUTHKEY=" + key,
		"TS_HOSTNAME=" + ClientHost,
		"TS_EXTRA_ARGS=--login-server=" + ControlURL() + " --accept-routes",
	}
}

// VolumeName is the cache volume of one router's directory (run or
// state) for one image: distinct per platform and image, so lab runs side
// by side never share one; the router wipes its state before it starts.
func VolumeName(dir, archDir, imageDigest string) string {
	sum := sha256.Sum256([]byte(imageDigest))
	return fmt.Sprintf("mikrotik-tailscale-tailnet-%s-%s-%x", dir, archDir, sum[:6])
}
