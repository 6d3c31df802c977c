// Package features holds the reviewed Tailscale feature catalogue: what is
// compiled in (and why), what is left out (and why), and the checks that
// keep that review honest against the Tailscale version actually pinned.
package features

// Feature is one Tailscale feature tag name (as `featuretags --list` prints
// it) with the reason for our decision about it.
type Feature struct {
	Name   string
	Reason string
}

// Allowlist is everything compiled in on purpose. The build starts from
// `featuretags --min` (nothing) and adds exactly these plus whatever they
// require, so a feature Tailscale adds later stays out until reviewed.
var Allowlist = []Feature{
	{"cli", "the tailscale CLI linked into tailscaled: one binary, two argv[0] names"},
	{"advertiseexitnode", "run the router as an exit node"},
	{"advertiseroutes", "advertise LAN subnets to the tailnet (subnet router)"},
	{"useexitnode", "send the router's own traffic through a remote exit node"},
	{"useroutes", "accept subnet routes advertised by other nodes (--accept-routes)"},
	{"dns", "DNS for exit-node clients (peer API DNS-over-HTTPS) and system DNS config; MagicDNS at 100.100.100.100 also needs netstack"},
	{"portmapper", "NAT-PMP/PCP/UPnP port mapping to get through an upstream NAT"},
	{"listenrawdisco", "raw-socket disco receive: more robust NAT traversal on Linux"},
	{"health", "health tracking behind `tailscale status` warnings"},
	{"iptables", "iptables rules for routing and exit-node NAT"},
	{"osrouter", "configure kernel TUN, addresses and routing tables"},
	{"unixsocketidentity", "required: without it the LocalAPI denies every CLI call (tailscale#17873)"},
	{"ipnbus", "`tailscale up` waits for completion and prints the login URL"},
	{"nattraversal", "STUN and disco hole punching: without it peers talk only through DERP"},
	{"udptransport", "UDP to peers: without it all traffic is relayed over DERP"},
}

// Omissions is every other feature upstream knew about at the pinned
// version, each with the reason it stays out. The first block is the
// deliberate, user-visible choices; the rest are irrelevant on a router.
var Omissions = []Feature{
	// Deliberate: flash wear, size and update control.
	{"clientupdate", "self-update would pull the full upstream binary onto flash; updates come as new images"},
	{"cachenetmap", "writes the netmap to flash on every change; the in-memory netmap already survives control outages"},
	{"logtail", "log upload and its on-disk buffering wear flash"},
	{"netlog", "network flow logging: separate concern, writes logs"},
	{"netstack", "userspace (gVisor) networking: the router uses kernel TUN"},
	{"gro", "generic receive offload for netstack, which is omitted"},
	{"ssh", "reach the router through RouterOS SSH; Tailscale SSH is large"},
	{"linuxdnsfight", "inotify on /etc/resolv.conf: nothing fights over it in the container"},
	{"networkmanager", "no NetworkManager in the container"},
	{"resolved", "no systemd-resolved in the container"},
	{"dbus", "no D-Bus in the container"},
	{"sdnotify", "no systemd in the container"},
	{"drive", "Taildrive file sharing: not for a headless router"},
	{"taildrop", "file sending: not for a headless router"},
	{"webclient", "web UI: RouterOS is the management UI"},

	// Flash wear and persistence.
	{"dnsresolvecache", "persists DNS answers to disk: flash writes for a rare boot case"},
	{"clientmetrics", "metrics collection nobody scrapes on a router"},
	{"usermetrics", "Prometheus-style metrics endpoint: not scraped on a router"},
	{"runtimemetrics", "Go runtime metrics export: not scraped on a router"},
	{"syslog", "no syslog daemon in the container; RouterOS logs container stdout"},

	// Desktop, GUI and interactive niceties.
	{"colorable", "colour output in the CLI: cosmetic"},
	{"completion", "shell completion: no interactive shell users to complete for"},
	{"completion_scripts", "embedded completion scripts: as above"},
	{"qrcodes", "QR codes for login URLs: the URL is printed as text"},
	{"webbrowser", "opens a browser: there is none"},
	{"systray", "Linux system tray"},
	{"desktop_sessions", "desktop login sessions"},
	{"serviceclientprefs", "desktop client launch preferences"},
	{"favorites", "locally pinned favourites for GUI clients"},
	{"cliconndiag", "CLI connection diagnostics: extra size for a rare error message"},
	{"doctor", "host diagnostics aimed at desktop distros"},
	{"debug", "extra debug machinery; `tailscale debug` basics remain"},
	{"debugeventbus", "event bus debugging"},
	{"debugportmapper", "portmapper debugging"},
	{"connreject", "connection-rejection diagnostics"},
	{"capture", "packet capture: use RouterOS /tool sniffer"},

	// Platforms and integrations that are not a RouterOS container.
	{"androidbin", "Android only"},
	{"androiddns", "Android only"},
	{"synology", "Synology NAS only"},
	{"aws", "AWS integration"},
	{"cloud", "cloud instance metadata probing"},
	{"kube", "Kubernetes integration"},
	{"bird", "BIRD BGP integration: RouterOS runs its own routing"},
	{"tap", "experimental layer-2 mode"},
	{"tpm", "TPM-sealed state: routers have no TPM"},
	{"flashappliance", "CLI to flash appliance images"},
	{"linkspeed", "TUN link-speed cosmetics"},
	{"tundevstats", "TUN statistics polling: wakes the CPU for numbers nobody reads"},
	{"captiveportal", "captive-portal detection for laptops"},
	{"syspolicy", "MDM system policy"},
	{"posture", "device posture reporting"},
	{"hujsonconf", "HuJSON config files: the --config file is plain JSON"},

	// Services the router does not offer.
	{"serve", "Serve and Funnel: the router is not an app host"},
	{"relayserver", "peer relay server: opt-in candidate for routers with a public IP, not default"},
	{"appconnectors", "app connectors: a separate deployment role"},
	{"conn25", "domain routing through connectors"},
	{"ace", "alternate connectivity endpoints"},
	{"acme", "TLS certificates for Serve"},
	{"portlist", "advertising listening ports: nothing to advertise"},
	{"wakeonlan", "Wake-on-LAN relay"},
	{"outboundproxy", "local HTTP/SOCKS proxy: kernel routing is used instead"},
	{"useproxy", "system proxy support: routers reach control directly"},
	{"routecheck", "reachability probing of overlapping routers"},
	{"remoteconfig", "full remote configuration by the tailnet admin: keep per-feature opt-in"},
	{"tailnetlock", "Tailnet Lock: upstream's small builds omit it; add it if your tailnet is locked"},
	{"identityfederation", "auth keys via identity federation: use a plain auth key"},
	{"oauthkey", "OAuth client secrets as auth keys: use a plain auth key"},
	{"bakedroots", "embedded Let's Encrypt roots: the image ships a CA bundle"},
}

// CLITag is the opt-in tag that links the CLI into tailscaled.
const CLITag = "ts_include_cli"

// OmitTag is the build tag that removes a feature.
func OmitTag(name string) string { return "ts_omit_" + name }

// AllowNames returns the allowlist as --add wants it.
func AllowNames() []string { return Names(Allowlist) }

// OmissionNames returns the names of every reviewed omission.
func OmissionNames() []string { return Names(Omissions) }

// Names returns the names of fs in order.
func Names(fs []Feature) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name
	}
	return out
}
