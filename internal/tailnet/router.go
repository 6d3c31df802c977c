package tailnet

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"dagger/mikrotik-tailscale/internal/layout"
)

// RouterLog is where the router's tailscaled writes.
const RouterLog = Dir + "/router-tailscaled.log"

// Router runs in the router's container, the one exec of the lab (the
// engine emulates a foreign platform for execs, not for services). It
// does what RouterOS's routing gives a real router's container: routes
// to the LAN and the internet prefixes through the hosts service, the
// hosts' way back, a fresh state directory holding only the lab CA in
// extra-ca/ (as docs/USAGE.md tells an owner of a private-CA control
// server). Then it starts the image's own entrypoint (argv, read from the
// image config by the shell), waits for the client service's checks and
// prints their results to out. The error is non-nil when a check failed,
// so the engine never caches a failed lab.
func Router(argv []string, out io.Writer) error {
	if len(argv) == 0 {
		return fmt.Errorf("router: no entrypoint given")
	}
	var hosts string
	if _, err := poll(60*time.Second, "resolve "+HostsHost, func() (bool, string) {
		addrs, err := net.LookupHost(HostsHost)
		if err != nil || len(addrs) == 0 {
			return false, fmt.Sprint(err)
		}
		hosts = addrs[0]
		return true, ""
	}); err != nil {
		return err
	}
	for _, p := range []string{LANNet, InternetNet} {
		if o := run(10*time.Second, nil, "ip", "route", "replace", p, "via", hosts); o.Err != nil {
			return fmt.Errorf("ip route replace %s via %s: %s", p, hosts, o)
		}
	}
	me, err := ownAddress()
	if err != nil {
		return err
	}
	if _, err := Admin(HostsHost, CmdRoute+" "+me, 30*time.Second); err != nil {
		return err
	}
	state := "/" + layout.StateDir
	entries, err := os.ReadDir(state)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(state, e.Name())); err != nil {
			return err
		}
	}
	ca, err := os.ReadFile(CAFile)
	if err != nil {
		return err
	}
	extra := "/" + layout.ExtraCADir
	if err := os.MkdirAll(extra, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(extra, CAName), ca, 0o644); err != nil {
		return err
	}
	// Listen on RejectedPort on every address, the tailnet's too: a SYN
	// the policy let through would connect (policyReject).
	rejected, err := net.Listen("tcp", fmt.Sprintf(":%d", RejectedPort))
	if err != nil {
		return err
	}
	defer rejected.Close()
	go func() {
		for {
			c, err := rejected.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	logf, err := os.Create(RouterLog)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	text, err := Results(30 * time.Minute)
	fmt.Fprint(out, text)
	gone := false
	select {
	case werr := <-exited:
		// The checks ran against a router that is gone: a failure.
		fmt.Fprintf(out, "--- the router's entrypoint exited during the checks: %v\n", werr)
		gone = true
	default:
		cmd.Process.Signal(syscall.SIGTERM)
	}
	if b, rerr := os.ReadFile(RouterLog); rerr == nil && (err != nil || gone || failed(text)) {
		fmt.Fprintf(out, "--- router tailscaled log (last 20 lines)\n%s\n", LastLines(string(b), 20))
	}
	if err != nil {
		return err
	}
	if gone {
		return fmt.Errorf("the router's entrypoint exited during the checks")
	}
	if failed(text) {
		return fmt.Errorf("a check failed")
	}
	return nil
}

// failed reports whether the client's output lacks a passing result for
// any check.
func failed(text string) bool {
	rs, err := ParseResults(text)
	return err != nil || !AllPassed(rs)
}

// ownAddress is the container's IPv4 address on the service network.
func ownAddress() (string, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", err
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String(), nil
		}
	}
	return "", fmt.Errorf("no IPv4 address besides loopback: %v", addrs)
}
