package tailnet

import "strings"

// HeadscaleOptions are what differ between Headscale's uses: the engine
// lab (a service named ControlHost) and the host suite's tailnet test (an
// address in a network namespace).
type HeadscaleOptions struct {
	ServerURL  string // what nodes log in to
	ListenAddr string // host:port of HTTPS
	STUNAddr   string // host:port of the embedded DERP's STUN
	DERPIPv4   string // the DERP node's address in the map; empty: nodes resolve the URL's host
	Dir        string // database, keys, TLS; "" means the working directory
	Socket     string // the CLI's unix socket (sun_path: keep it short)
	PolicyPath string // "" allows all
}

// HeadscaleConfig is Headscale's config: the embedded DERP (TLS on the
// main listener, STUN on its own port), MagicDNS under BaseDomain, SQLite,
// no log upload, no update check.
func HeadscaleConfig(o HeadscaleOptions) string {
	p := func(name string) string {
		if o.Dir == "" {
			return name
		}
		return strings.TrimSuffix(o.Dir, "/") + "/" + name
	}
	ipv4 := ""
	if o.DERPIPv4 != "" {
		ipv4 = "\n    ipv4: " + o.DERPIPv4
	}
	return `server_url: ` + o.ServerURL + `
listen_addr: ` + o.ListenAddr + `
metrics_listen_addr: ""
grpc_listen_addr: 127.0.0.1:50443
grpc_allow_insecure: false
disable_check_updates: true
noise:
  private_key_path: ` + p("noise_private.key") + `
prefixes:
  v4: ` + TailnetV4 + `
  v6: ` + TailnetV6 + `
  allocation: sequential
derp:
  server:
    enabled: true
    region_id: 999
    region_code: headscale
    region_name: Headscale Embedded DERP
    verify_clients: true
    stun_listen_addr: ` + o.STUNAddr + `
    private_key_path: ` + p("derp_server_private.key") + `
    automatically_add_embedded_derp_region: true` + ipv4 + `
  urls: []
  paths: []
  auto_update_enabled: false
  update_frequency: 3h
node:
  expiry: 0
database:
  type: sqlite
  sqlite:
    path: ` + p("db.sqlite") + `
    write_ahead_log: true
tls_letsencrypt_hostname: ""
tls_cert_path: ` + p("tls.crt") + `
tls_key_path: ` + p("tls.key") + `
log:
  level: info
  format: text
policy:
  mode: file
  path: "` + o.PolicyPath + `"
dns:
  magic_dns: true
  base_domain: ` + BaseDomain + `
  override_local_dns: false
  nameservers:
    global: []
    split: {}
  search_domains: []
unix_socket: ` + o.Socket + `
unix_socket_permission: "0770"
logtail:
  enabled: false
taildrop:
  enabled: false
`
}

// BaseDomain is MagicDNS's base domain.
const BaseDomain = "tailnet.test"

// LabHeadscale is the engine lab's control server configuration.
func LabHeadscale() HeadscaleOptions {
	return HeadscaleOptions{
		ServerURL:  ControlURL(),
		ListenAddr: "0.0.0.0:" + itoa(ControlPort),
		STUNAddr:   "0.0.0.0:" + itoa(STUNPort),
		Dir:        HeadscaleDir,
		Socket:     HeadscaleDir + "/hs.sock",
		PolicyPath: HeadscaleDir + "/policy.hujson",
	}
}
