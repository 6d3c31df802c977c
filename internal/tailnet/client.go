package tailnet

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"dagger/mikrotik-tailscale/internal/layout"
)

// ClientOptions are what the shell tells the client about the lab.
type ClientOptions struct {
	Entrypoint []string // the image's entrypoint and default args
	// SNAT: the router must masquerade what it forwards. Under the
	// engine's emulation tailscaled has no netfilter (qemu-user does not
	// carry NETLINK_NETFILTER), so there the hosts see the client's
	// tailnet address instead, and need the route back CmdRoute sets.
	SNAT bool
	Log  io.Writer // diagnostics
	Out  io.Writer // result lines
}

// ClientLog is where the client's own tailscaled writes.
const ClientLog = Dir + "/client-tailscaled.log"

// lab is one run of the client's checks.
type lab struct {
	o                  ClientOptions
	routerTS, clientTS string // tailnet IPv4s
	loggedInAt         time.Time
	controlBackAt      time.Time // when control answered again after the outage
	failed             bool
}

// routerSocket is the router's LocalAPI socket, through the shared volume.
func routerSocket() string { return RouterRunDir + "/" + filepath.Base(layout.Socket) }

// Client runs as the client service: it answers CmdResults on AdminPort
// at once (the engine starts the router only once the port listens),
// starts the image's own entrypoint with ClientEnv, then runs every check
// in Checks order. A check whose failure leaves nothing to check after it
// ends the run; ParseResults reports the rest as not reached. Once done,
// CmdResults returns the result lines and the diagnostics of a failure.
func Client(o ClientOptions) error {
	var mu sync.Mutex
	var results strings.Builder
	done := false
	l, err := listenAdmin()
	if err != nil {
		return err
	}
	errs := make(chan error, 1)
	go func() {
		errs <- serve(l, resultsHandler(func() (string, bool) {
			mu.Lock()
			defer mu.Unlock()
			return results.String(), done
		}))
	}()
	out := &lockedWriter{mu: &mu, w: &results}
	err = runClient(ClientOptions{Entrypoint: o.Entrypoint, SNAT: o.SNAT, Log: io.MultiWriter(o.Log, out), Out: io.MultiWriter(o.Out, out)})
	if err != nil {
		fmt.Fprintln(out, "tailnet-lab client:", err)
	}
	mu.Lock()
	done = true
	mu.Unlock()
	return <-errs // serve until the engine stops the service
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// runClient starts the client's tailscaled and runs the checks.
func runClient(o ClientOptions) error {
	l := &lab{o: o}
	key, err := os.ReadFile(ClientKey)
	if err != nil {
		return err
	}
	if err := noDirectPath(); err != nil {
		return err
	}
	logf, err := os.Create(ClientLog)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(o.Entrypoint[0], o.Entrypoint[1:]...)
	cmd.Env = append(os.Environ(), ClientEnv(strings.TrimSpace(string(key)))...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return err
	}
	for _, s := range l.steps() {
		start := time.Now()
		detail, err := s.run()
		r := Result{ID: s.id, Passed: err == nil, Detail: detail, Seconds: time.Since(start).Seconds()}
		if err != nil {
			r.Detail = err.Error()
			l.failed = true
		}
		fmt.Fprintln(o.Out, r.Line())
		if err != nil && s.fatal {
			break
		}
	}
	if l.failed {
		l.diagnose()
	}
	return nil
}

// step is one check of the lab; a fatal one failing ends the run.
type step struct {
	id    string
	run   func() (string, error)
	fatal bool
}

// steps are the checks in Checks order.
func (l *lab) steps() []step {
	return []step{
		{"login", l.login, true},
		{"routes", l.routes, true},
		{"lan", l.lan, false},
		{"exit-node", l.exitNode, false},
		{"ping", func() (string, error) { return l.ping() }, false},
		{"ping-tsmp", func() (string, error) { return l.ping("--tsmp") }, false},
		{"health", l.health, false},
		{"policy-reject", l.policyReject, false},
		{"control-outage", l.outage, false},
		{"state-dir", l.stateDir, false},
	}
}

// cli runs the client's tailscale CLI; rcli the router's, through its socket.
func cli(timeout time.Duration, args ...string) output {
	return run(timeout, nil, append([]string{"tailscale"}, args...)...)
}

func rcli(timeout time.Duration, args ...string) output {
	return cli(timeout, append([]string{"--socket=" + routerSocket()}, args...)...)
}

func status(cliFn func(time.Duration, ...string) output) (*Status, string) {
	o := cliFn(30*time.Second, "status", "--json")
	if o.Err != nil {
		return nil, o.String()
	}
	s, err := ParseStatus(o.Stdout)
	if err != nil {
		return nil, err.Error()
	}
	return s, ""
}

// running waits until a node's backend is Running, with no login URL
// waiting for a browser.
func running(who string, cliFn func(time.Duration, ...string) output, timeout time.Duration) (*Status, time.Duration, error) {
	var s *Status
	d, err := poll(timeout, who+" Running", func() (bool, string) {
		var detail string
		if s, detail = status(cliFn); s == nil {
			return false, detail
		}
		return s.BackendState == "Running" && s.AuthURL == "" && s.Self != nil, fmt.Sprintf("BackendState %s, AuthURL %q", s.BackendState, s.AuthURL)
	})
	return s, d, err
}

func (l *lab) login() (string, error) {
	rs, rd, err := running("router", rcli, 5*time.Minute)
	if err != nil {
		return "", err
	}
	l.loggedInAt = time.Now()
	cs, _, err := running("client", cli, 2*time.Minute)
	if err != nil {
		return "", err
	}
	l.routerTS, l.clientTS = rs.Self.IPv4(), cs.Self.IPv4()
	return fmt.Sprintf("router Running as %s after %.1f s with its auth key from TS_AUTHKEY, no login URL; client %s", l.routerTS, rd.Seconds(), l.clientTS), nil
}

func (l *lab) routes() (string, error) {
	d, err := poll(60*time.Second, "client sees the router's approved LAN route and exit node", func() (bool, string) {
		s, detail := status(cli)
		if s == nil {
			return false, detail
		}
		p := s.PeerNamed(RouterHost)
		if p == nil {
			return false, "no peer " + RouterHost
		}
		return slices.Contains(p.PrimaryRoutes, LANNet) && p.ExitNodeOption, fmt.Sprintf("routes %v, exit node option %v", p.PrimaryRoutes, p.ExitNodeOption)
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s and the exit node approved by the policy's autoApprovers, seen by the client after %.1f s", LANNet, d.Seconds()), nil
}

// fetch polls http://host:HTTPPort/ until the host named name answers;
// it returns the source address the host saw. That address proves
// masquerading, not the path: the engine masquerades again what leaves
// its network from one of its addresses (the hosts then see its bridge
// address), so only a packet the router did not masquerade keeps its
// source, the client's tailnet address. The path's proof is that the
// client has no other way (noDirectPath) and loses the host when the
// tailnet route goes (lan, exitNode).
func (l *lab) fetch(host, name string, timeout time.Duration) (string, time.Duration, error) {
	hc := &http.Client{Timeout: 5 * time.Second}
	var from string
	d, err := poll(timeout, "http://"+host+":"+itoa(HTTPPort), func() (bool, string) {
		got, f, err := get(hc, host)
		if err != nil {
			return false, err.Error()
		}
		from = f
		return got == name, fmt.Sprintf("answered %q, want %q", got, name)
	})
	return from, d, err
}

// unreachable polls until host's web port cannot be reached, and returns
// how the attempt failed.
func unreachable(host string, timeout time.Duration) (string, error) {
	hc := &http.Client{Timeout: 3 * time.Second}
	var why string
	_, err := poll(timeout, host+" unreachable", func() (bool, string) {
		name, _, err := get(hc, host)
		if err == nil {
			return false, "answered " + name
		}
		why = shortErr(err)
		return true, ""
	})
	return why, err
}

// noDirectPath makes the client's own routing table refuse the LAN and
// internet prefixes: only the tailnet's routes (table 52, consulted first)
// can reach them, so an answer proves the path through the router.
func noDirectPath() error {
	for _, p := range []string{LANNet, InternetNet} {
		if o := run(10*time.Second, nil, "ip", "route", "replace", "unreachable", p); o.Err != nil {
			return fmt.Errorf("ip route replace unreachable %s: %s", p, o)
		}
	}
	return nil
}

func get(hc *http.Client, host string) (name, from string, err error) {
	resp, err := hc.Get("http://" + net.JoinHostPort(host, itoa(HTTPPort)) + "/")
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return "", "", err
	}
	return ParseEcho(string(b))
}

// lan: the LAN host answers through the router, and stops answering when
// the client stops accepting the route.
func (l *lab) lan() (string, error) {
	from, d, err := l.fetch(LANHost, "lan", 60*time.Second)
	if err != nil {
		return "", err
	}
	if o := cli(30*time.Second, "set", "--accept-routes=false"); o.Err != nil {
		return "", fmt.Errorf("tailscale set --accept-routes=false: %s", o)
	}
	why, err := unreachable(LANHost, 30*time.Second)
	if o := cli(30*time.Second, "set", "--accept-routes=true"); o.Err != nil {
		return "", fmt.Errorf("tailscale set --accept-routes=true: %s", o)
	}
	if err != nil {
		return "", fmt.Errorf("the LAN host still answers without the router's route: %w", err)
	}
	if _, _, err := l.fetch(LANHost, "lan", 60*time.Second); err != nil {
		return "", fmt.Errorf("the route accepted again: %w", err)
	}
	snat, err := l.masquerade(from)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("TCP to %s:%d answered after %.1f s (%s); without the route: %s; answered again with it", LANHost, HTTPPort, d.Seconds(), snat, why), nil
}

// exitNode: the internet host is unreachable until the client uses the
// router as exit node.
func (l *lab) exitNode() (string, error) {
	why, err := unreachable(InternetHost, 15*time.Second)
	if err != nil {
		return "", fmt.Errorf("the internet host answers with no exit node: %w", err)
	}
	if o := cli(30*time.Second, "set", "--exit-node="+l.routerTS); o.Err != nil {
		return "", fmt.Errorf("tailscale set --exit-node: %s", o)
	}
	defer cli(30*time.Second, "set", "--exit-node=")
	from, d, err := l.fetch(InternetHost, "internet", 60*time.Second)
	if err != nil {
		return "", err
	}
	snat, err := l.masquerade(from)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("no exit node: %s; through the router: TCP to %s:%d answered after %.1f s (%s)", why, InternetHost, HTTPPort, d.Seconds(), snat), nil
}

// masquerade says how the router forwarded, from the source a host saw;
// where SNAT is expected, an unmasqueraded packet is an error.
func (l *lab) masquerade(from string) (string, error) {
	if from != l.clientTS {
		return "seen from " + from + ": masqueraded by the router", nil
	}
	if l.o.SNAT {
		return "", fmt.Errorf("the host saw the client's tailnet address %s: the router forwarded without masquerading", from)
	}
	return "seen from " + from + ", the client's tailnet address: not masqueraded (no netfilter under emulation)", nil
}

// ping runs tailscale ping from the client to the router and back.
func (l *lab) ping(args ...string) (string, error) {
	var details []string
	for _, dir := range []struct {
		name string
		cli  func(time.Duration, ...string) output
		to   string
	}{{"client → router", cli, l.routerTS}, {"router → client", rcli, l.clientTS}} {
		var pongs []Pong
		_, err := poll(60*time.Second, dir.name, func() (bool, string) {
			o := dir.cli(30*time.Second, append(append([]string{"ping", "--timeout=5s", "-c", "3"}, args...), dir.to)...)
			pongs = ParsePongs(o.Stdout)
			return len(pongs) > 0, o.String()
		})
		if err != nil {
			return "", err
		}
		last := pongs[len(pongs)-1]
		details = append(details, fmt.Sprintf("%s: pong via %s in %s", dir.name, last.Via, last.Latency))
	}
	return strings.Join(details, "; "), nil
}

func (l *lab) health() (string, error) {
	o := run(30*time.Second, nil, layout.HealthCheck, "-s", routerSocket())
	if o.Err != nil {
		return "", fmt.Errorf("%s -s %s: %s", layout.HealthCheck, routerSocket(), o)
	}
	return "tshealth on the router's socket: healthy", nil
}

// policyReject sends SYNs the policy allows nobody: to the router's own
// tailnet address and to the LAN host, on RejectedPort, where both listen
// (the router's lab tool and the hosts), so a SYN the policy let through
// would connect. Then it proves the router still runs and still forwards.
func (l *lab) policyReject() (string, error) {
	var seen []string
	for _, target := range []string{l.routerTS, LANHost} {
		addr := net.JoinHostPort(target, itoa(RejectedPort))
		for i := 0; i < 2; i++ {
			c, err := net.DialTimeout("tcp", addr, 3*time.Second)
			if err == nil {
				c.Close()
				return "", fmt.Errorf("TCP to %s connected: the policy allows no such port, and the router let it through", addr)
			}
			if i == 0 {
				seen = append(seen, fmt.Sprintf("%s: %v", addr, shortErr(err)))
			}
		}
	}
	if err := l.routerAlive("the rejected SYNs"); err != nil {
		return "", err
	}
	return "2 SYNs each, none connected though both ports listen (" + strings.Join(seen, "; ") + "); the router is Running and forwards", nil
}

// routerAlive: the router's daemon still answers Running and still
// forwards to the LAN host.
func (l *lab) routerAlive(after string) error {
	if _, _, err := running("router", rcli, 60*time.Second); err != nil {
		return fmt.Errorf("router after %s: %w", after, err)
	}
	if _, _, err := l.fetch(LANHost, "lan", 60*time.Second); err != nil {
		return fmt.Errorf("router forwards no more after %s: %w", after, err)
	}
	return nil
}

func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

// outage stops Headscale for OutageWindow once the path is direct (the
// embedded DERP stops with it) and checks the LAN host and the router's
// tailnet address every 2 s meanwhile.
func (l *lab) outage() (string, error) {
	if _, err := poll(90*time.Second, "direct path client → router", func() (bool, string) {
		o := cli(30*time.Second, "ping", "--timeout=5s", "-c", "5", l.routerTS)
		ps := ParsePongs(o.Stdout)
		return len(ps) > 0 && ps[len(ps)-1].Direct(), o.String()
	}); err != nil {
		return "", err
	}
	if reply, err := Admin(ControlHost, CmdStop, time.Minute); err != nil {
		return "", fmt.Errorf("stop control: %v (%s)", err, reply)
	}
	started := false
	defer func() {
		if !started {
			Admin(ControlHost, CmdStart, 2*time.Minute)
		}
	}()
	ctl := net.JoinHostPort(ControlHost, itoa(ControlPort))
	if c, err := net.DialTimeout("tcp", ctl, 5*time.Second); err == nil {
		c.Close()
		return "", fmt.Errorf("control still answers on %s after stop", ctl)
	}
	hc := &http.Client{Timeout: 5 * time.Second}
	start := time.Now()
	rounds, failed := 0, 0
	var last string
	// Pacing a measurement, not waiting for a condition.
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for ; time.Since(start) < OutageWindow; <-tick.C {
		rounds++
		if name, _, err := get(hc, LANHost); err != nil || name != "lan" {
			failed++
			last = fmt.Sprintf("LAN host: %q, %v", name, err)
		}
		if o := run(10*time.Second, nil, "ping", "-c", "1", "-W", "3", l.routerTS); o.Err != nil {
			failed++
			last = "ping router: " + o.String()
		}
	}
	window := time.Since(start)
	reply, err := Admin(ControlHost, CmdStart, 2*time.Minute)
	started = err == nil
	l.controlBackAt = time.Now()
	if err != nil {
		return "", fmt.Errorf("start control again: %v (%s)", err, reply)
	}
	if failed > 0 {
		return "", fmt.Errorf("%d of %d checks failed with control down; last: %s", failed, 2*rounds, last)
	}
	if err := l.routerAlive("control came back"); err != nil {
		return "", err
	}
	return fmt.Sprintf("control down %.0f s (its port refused): %d rounds of TCP to the LAN host and ICMP to the router, none failed; after control came back the router is Running and forwards", window.Seconds(), rounds), nil
}

// stateDir lists the router's state directory: tailscaled.state, nothing
// but StateFiles (and the temporary files their atomic writes rename over
// them) and the CA the lab put in extra-ca/ as an owner would; and which
// of them tailscaled wrote again after control came back with the same
// DERP map.
func (l *lab) stateDir() (string, error) {
	sd, err := ReadStateDir(RouterStateDir)
	if err != nil {
		return "", err
	}
	var files, rewritten []string
	for _, name := range sd.Names() {
		info := sd.Files[name]
		files = append(files, fmt.Sprintf("%s (%d B)", name, info.Size()))
		if !l.controlBackAt.IsZero() && info.ModTime().After(l.controlBackAt) {
			rewritten = append(rewritten, name)
		}
	}
	if _, ok := sd.Files["tailscaled.state"]; !ok {
		return "", fmt.Errorf("no tailscaled.state in the state directory (all: %s)", strings.Join(files, "; "))
	}
	if len(sd.Unexpected) > 0 {
		return "", fmt.Errorf("unexpected in the state directory: %s (all: %s)", strings.Join(sd.Unexpected, ", "), strings.Join(files, "; "))
	}
	after := "none written again after control's restart"
	if l.controlBackAt.IsZero() {
		after = "control was not restarted"
	} else if len(rewritten) > 0 {
		after = "written again after control's restart: " + strings.Join(rewritten, ", ")
	}
	return strings.Join(files, "; ") + "; " + after, nil
}

// diagnose writes both nodes' status and the client daemon's log tail.
func (l *lab) diagnose() {
	fmt.Fprintf(l.o.Log, "--- router status\n%s\n", rcli(30*time.Second, "status"))
	fmt.Fprintf(l.o.Log, "--- client status\n%s\n", cli(30*time.Second, "status"))
	if b, err := os.ReadFile(ClientLog); err == nil {
		fmt.Fprintf(l.o.Log, "--- client tailscaled log (last 20 lines)\n%s\n", LastLines(string(b), 20))
	}
}
