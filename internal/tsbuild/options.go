package tsbuild

// NoInline is the compiler flag of the default build: inlining off in
// every package, the standard library included.
const NoInline = "-gcflags=all=-l"

// HotPackages are the package patterns on tailscaled's per-packet path
// with kernel TUN: the WireGuard device and its AEAD (x/crypto, and
// wireguard-go's own arm/amd64 assembly), UDP batching (x/net, x/sys,
// net/batching, magicsock), the TUN wrapper, and the packet parser and
// filter every packet goes through, with the small packages their inner
// loops call (netaddr, tsaddr, ipproto, flowtrack, ipset). "std" is the
// standard library: a package compiled with -l exports no inline bodies,
// so without it the hot packages still call encoding/binary, net/netip,
// sync/atomic wrappers and the runtime's helpers out of line.
// docs/PERFORMANCE.md has the measurements behind this list.
var HotPackages = []string{
	"std",
	"golang.org/x/crypto/...",
	"golang.org/x/net/...",
	"golang.org/x/sys/...",
	"github.com/tailscale/wireguard-go/...",
	"tailscale.com/net/batching",
	"tailscale.com/net/flowtrack",
	"tailscale.com/net/ipset",
	"tailscale.com/net/netaddr",
	"tailscale.com/net/packet/...",
	"tailscale.com/net/tsaddr",
	"tailscale.com/net/tstun",
	"tailscale.com/types/ipproto",
	"tailscale.com/wgengine/filter/...",
	"tailscale.com/wgengine/magicsock",
}

// Options are the build knobs that trade image size for run-time cost.
// The zero value is the default image: BuildArgs with -gcflags=all=-l,
// then UPXArgs.
type Options struct {
	// InlineHot re-enables inlining in HotPackages on top of
	// -gcflags=all=-l (BuildArgs reads it through GCFlags).
	InlineHot bool
	// NoCompress ships the binary as linked: the caller skips UPXArgs.
	NoCompress bool
}

// GCFlags is the -gcflags list for o. The go command applies, per
// package, the last -gcflags whose pattern matches it, so each
// `<pattern>=` after all=-l gives that pattern's packages the default
// (empty) compiler flags back, i.e. inlining on.
func GCFlags(o Options) []string {
	flags := []string{NoInline}
	if o.InlineHot {
		for _, p := range HotPackages {
			flags = append(flags, "-gcflags="+p+"=")
		}
	}
	return flags
}
