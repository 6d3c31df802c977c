package tailnet

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Status is the part of `tailscale status --json` the lab reads.
type Status struct {
	BackendState string
	AuthURL      string
	Self         *Peer
	Peer         map[string]*Peer
}

// Peer is one node in a status.
type Peer struct {
	HostName       string
	TailscaleIPs   []string
	PrimaryRoutes  []string
	ExitNodeOption bool
	ExitNode       bool
	CurAddr        string
	Online         bool
}

// ParseStatus decodes `tailscale status --json`.
func ParseStatus(out string) (*Status, error) {
	var s Status
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		return nil, fmt.Errorf("tailscale status --json: %w", err)
	}
	return &s, nil
}

// PeerNamed is the peer with host name host, or nil.
func (s *Status) PeerNamed(host string) *Peer {
	for _, p := range s.Peer {
		if p.HostName == host {
			return p
		}
	}
	return nil
}

// IPv4 is the node's tailnet IPv4 address, or "".
func (p *Peer) IPv4() string {
	if p == nil {
		return ""
	}
	for _, ip := range p.TailscaleIPs {
		if !strings.Contains(ip, ":") {
			return ip
		}
	}
	return ""
}

var pongRE = regexp.MustCompile(`(?m)^pong from \S+ \(([^)]*)\) via (.+?) in (\S+)$`)

// Pong is one answer of `tailscale ping`.
type Pong struct {
	Via     string // "10.87.0.5:41641", "DERP(headscale)" or "TSMP"
	Latency string
}

// ParsePongs reads `tailscale ping` output: every pong, in order.
func ParsePongs(out string) []Pong {
	var ps []Pong
	for _, m := range pongRE.FindAllStringSubmatch(out, -1) {
		ps = append(ps, Pong{Via: m[2], Latency: m[3]})
	}
	return ps
}

// Direct reports whether a pong came over a direct UDP path (not DERP,
// not a TSMP answer, whose path ping does not name).
func (p Pong) Direct() bool {
	return !strings.HasPrefix(p.Via, "DERP(") && p.Via != "TSMP"
}
