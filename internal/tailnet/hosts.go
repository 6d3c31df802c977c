package tailnet

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// Hosts runs the LAN host and the internet host: both addresses on the
// loopback of one container, each with a web server that answers
// "<name> from <source address>", and on AdminPort CmdRoute, the way back
// to the tailnet through the router (needed only where the router cannot
// masquerade). It returns only on failure.
func Hosts() error {
	for _, a := range []string{LANHost, InternetHost} {
		if o := run(10*time.Second, nil, "ip", "addr", "add", a+"/32", "dev", "lo"); o.Err != nil {
			return fmt.Errorf("ip addr add %s: %s", a, o)
		}
	}
	errs := make(chan error, 4)
	// The LAN host also listens on RejectedPort: a SYN the policy let
	// through would connect (policyReject).
	rejected, err := net.Listen("tcp", net.JoinHostPort(LANHost, fmt.Sprint(RejectedPort)))
	if err != nil {
		return err
	}
	go func() { errs <- http.Serve(rejected, echoSource("rejected")) }()
	for name, addr := range map[string]string{"lan": LANHost, "internet": InternetHost} {
		l, err := net.Listen("tcp", net.JoinHostPort(addr, fmt.Sprint(HTTPPort)))
		if err != nil {
			return err
		}
		go func(name string) { errs <- http.Serve(l, echoSource(name)) }(name)
	}
	go func() {
		errs <- serveAdmin(func(cmd string) string {
			via, ok := strings.CutPrefix(cmd, CmdRoute+" ")
			if !ok || net.ParseIP(via) == nil {
				return "error: want \"" + CmdRoute + " <address>\", got " + cmd
			}
			if o := run(10*time.Second, nil, "ip", "route", "replace", TailnetV4, "via", via); o.Err != nil {
				return "error: " + o.String()
			}
			return "ok"
		})
	}()
	return <-errs
}

// echoSource answers "<name> from <the client's address>".
func echoSource(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		fmt.Fprintf(w, "%s from %s\n", name, host)
	})
}

// ParseEcho reads an echoSource answer: the server's name and the source
// address it saw.
func ParseEcho(body string) (name, from string, err error) {
	name, from, ok := strings.Cut(strings.TrimSpace(body), " from ")
	if !ok || net.ParseIP(from) == nil {
		return "", "", fmt.Errorf("not an echo answer: %q", body)
	}
	return name, from, nil
}
