package tailnet

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Policy is the lab's tailnet policy, as an owner would write it for a
// subnet router: the user's nodes may reach the LAN's web port and the
// internet through an exit node, and ping each other; the router's routes
// and exit node are approved automatically. Nothing allows TCP to a node
// itself or to RejectedPort, so those SYNs meet the router's filter.
func Policy() string {
	u := User + "@"
	p := map[string]any{
		"acls": []any{
			map[string]any{"action": "accept", "src": []string{u}, "dst": []string{LANNet + ":" + strconv.Itoa(HTTPPort)}},
			map[string]any{"action": "accept", "src": []string{u}, "dst": []string{"autogroup:internet:*"}},
			map[string]any{"action": "accept", "src": []string{u}, "proto": "icmp", "dst": []string{u + ":*"}},
		},
		"autoApprovers": map[string]any{
			"routes":   map[string]any{LANNet: []string{u}},
			"exitNode": []string{u},
		},
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("lab policy: %v", err)) // a literal of maps and strings
	}
	return string(b) + "\n"
}

func itoa(n int) string { return strconv.Itoa(n) }
