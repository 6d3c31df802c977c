package tailnet

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"dagger/mikrotik-tailscale/internal/layout"
)

// Router does, in the router's container, what RouterOS's routing gives a
// real router's container, and then becomes the image's own entrypoint
// (argv, read from the image config by the shell): routes to the LAN and
// the internet prefixes through the hosts service, the hosts' way back,
// a fresh state directory holding only the lab CA in extra-ca/ (as
// docs/USAGE.md tells an owner of a private-CA control server).
func Router(argv []string) error {
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
	return syscall.Exec(argv[0], argv, os.Environ())
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
