// Command tailnet-lab runs one role of the tailnet check inside the
// engine's containers (internal/tailnet): control init, control, hosts,
// client, or router (which starts the image's entrypoint and prints the
// client's results).
package main

import (
	"fmt"
	"os"

	"dagger/mikrotik-tailscale/internal/tailnet"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "tailnet-lab:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: tailnet-lab control-init|control|hosts|router ENTRYPOINT...|client [--snat] ENTRYPOINT...")
	}
	switch role, rest := args[0], args[1:]; role {
	case "control-init":
		return tailnet.ControlInit(os.Stderr)
	case "control":
		return tailnet.ControlServe(os.Stderr)
	case "hosts":
		return tailnet.Hosts()
	case "router":
		return tailnet.Router(rest, os.Stdout)
	case "client":
		snat := len(rest) > 0 && rest[0] == "--snat"
		if snat {
			rest = rest[1:]
		}
		if len(rest) == 0 {
			return fmt.Errorf("client: no entrypoint given")
		}
		return tailnet.Client(tailnet.ClientOptions{Entrypoint: rest, SNAT: snat, Log: os.Stderr, Out: os.Stdout})
	default:
		return fmt.Errorf("unknown role %q", role)
	}
}
