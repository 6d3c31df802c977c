// Package layout is the recipe for the final FROM-scratch image: which
// paths exist, in which layer, with which modes, plus entrypoint, env and
// labels. The Dagger build and the host suite's rootfs both follow it.
package layout

import (
	_ "embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"dagger/mikrotik-tailscale/internal/tsbuild"
)

// Paths inside the image (relative to /, as in layer tars).
const (
	BinDir     = "usr/local/bin"
	Binary     = BinDir + "/" + tsbuild.Output
	BusyBoxDir = "bin"
	BusyBox    = BusyBoxDir + "/busybox"
	CACerts    = "etc/ssl/certs/ca-certificates.crt"
	StateDir   = "var/lib/tailscale"
	// ExtraCADir holds extra trusted CA certificates (PEM), e.g. a private
	// control server's, on the state mount (StartScript).
	ExtraCADir = StateDir + "/extra-ca"
	SocketDir  = "var/run/tailscale"
	Socket     = "/" + SocketDir + "/tailscaled.sock"
	// ConfigFile is read at start when present: a headless router brings
	// itself up from it (auth key, routes, exit node) with no shell step.
	ConfigFile = "/" + StateDir + "/tailscaled.json"
	// HealthCheck is the container's health probe, an applet of the
	// project's own (busybox.OwnApplets): exit 0 when tailscaled's backend
	// state is Running. RouterOS runs it as healthcheck-cmd and the
	// updater decides a swap by it (routeros/update-tailscale.rsc).
	HealthCheck = "/" + BusyBoxDir + "/tshealth"
	// ShellCLI is the CLI where a shell without PATH finds it.
	ShellCLI = BusyBoxDir + "/tailscale"
	// Start is the entrypoint: enables forwarding, turns the environment
	// into tailscaled's config, then execs tailscaled (StartScript).
	Start = BinDir + "/start"
)

// StateFiles are the files tailscaled writes on the state mount, the
// router's flash: its state (login, keys, preferences) and the DERP
// map it falls back on when DNS fails, rewritten only when control
// sends a different map (docs/DESIGN.md, "Flash wear").
var StateFiles = []string{"tailscaled.state", "derpmap.cached.json"}

// IsStateFile reports whether name (relative to the state directory) is
// one of StateFiles or the temporary file tailscaled's atomic write of
// one renames over it (<name>.tmp<random>).
func IsStateFile(name string) bool {
	for _, f := range StateFiles {
		if name == f || strings.HasPrefix(name, f+".tmp") {
			return true
		}
	}
	return false
}

// Kind says what an Entry is.
type Kind int

const (
	Dir Kind = iota
	File
	Symlink
)

// Source names the artifact a File entry is copied from.
type Source string

const (
	FromTailscale Source = "tailscale" // the UPX'd tailscale.combined
	FromBusyBox   Source = "busybox"   // the UPX'd static busybox
	FromCACerts   Source = "cacerts"   // the CA bundle
)

// Entry is one path in a layer.
type Entry struct {
	Path   string
	Kind   Kind
	Mode   fs.FileMode
	Target string // Symlink: the link target
	From   Source // File: where the content comes from
	// Content is the literal content of a generated File (From is empty).
	Content string
}

// Layer is a set of entries added in one step and never touched again.
type Layer struct {
	Name string
	// CreatedBy is the layer's history entry in the image config (what
	// `docker history` shows). The engine would write the description of
	// its cache record there, which changes with its cache state
	// (internal/imagestamp), so the exports write this instead.
	CreatedBy string
	Entries   []Entry
}

// Layers returns the image's layers, least often changing first so a new
// Tailscale release only replaces the last one.
//
// /usr/local/bin is assembled completely (binary and both argv[0] links)
// and added as one layer that nothing later modifies: a later change in
// that directory would make overlayfs copy the 3 MB binary up into a
// second layer.
func Layers(applets []string) ([]Layer, error) {
	base := Layer{Name: "base", CreatedBy: "mikrotik-tailscale base: CA bundle, state and socket directories", Entries: []Entry{
		dir("etc"), dir("etc/ssl"), dir("etc/ssl/certs"),
		{Path: CACerts, Kind: File, Mode: 0o644, From: FromCACerts},
		dir("var"), dir("var/lib"),
		// State: node key and prefs. Only the owner reads it.
		{Path: StateDir, Kind: Dir, Mode: 0o700},
		// Socket: mounted as tmpfs on the router, never on flash.
		dir("var/run"), dir(SocketDir),
	}}

	bb := Layer{Name: "busybox", CreatedBy: "mikrotik-tailscale busybox: /bin/busybox, its applet links and /bin/tailscale", Entries: []Entry{
		dir(BusyBoxDir),
		{Path: BusyBox, Kind: File, Mode: 0o755, From: FromBusyBox},
	}}
	seen := map[string]bool{}
	for _, a := range applets {
		if a == "" || strings.Contains(a, "/") || a == "." || a == ".." {
			return nil, fmt.Errorf("invalid applet name %q", a)
		}
		if a == "busybox" || seen[a] {
			continue
		}
		seen[a] = true
		bb.Entries = append(bb.Entries, Entry{Path: BusyBoxDir + "/" + a, Kind: Symlink, Mode: 0o777, Target: "busybox"})
	}
	// A shell without PATH searches BusyBox's default, which lacks
	// /usr/local/bin: RouterOS 7.22+ may not apply the image's Env to
	// /container/shell, where owners type `tailscale login`.
	if seen[path.Base(ShellCLI)] {
		return nil, fmt.Errorf("applet %s would hide the Tailscale CLI", path.Base(ShellCLI))
	}
	bb.Entries = append(bb.Entries, Entry{Path: ShellCLI, Kind: File, Mode: 0o755, Content: ShellCLIScript})

	ts := Layer{Name: "tailscale", CreatedBy: "mikrotik-tailscale tailscale: tailscale.combined, start and the argv[0] links", Entries: []Entry{
		dir("usr"), dir("usr/local"), dir(BinDir),
		{Path: Binary, Kind: File, Mode: 0o755, From: FromTailscale},
		{Path: Start, Kind: File, Mode: 0o755, Content: StartScript},
	}}
	for _, name := range tsbuild.Argv0Names {
		ts.Entries = append(ts.Entries, Entry{Path: BinDir + "/" + name, Kind: Symlink, Mode: 0o777, Target: tsbuild.Output})
	}
	return []Layer{base, bb, ts}, nil
}

// History is the created_by of each layer's history entry, in layer
// order: what the exported image's config says built each layer.
func History(layers []Layer) []string {
	h := make([]string, len(layers))
	for i, l := range layers {
		h[i] = l.CreatedBy
	}
	return h
}

func dir(p string) Entry { return Entry{Path: p, Kind: Dir, Mode: 0o755} }

// ShellCLIScript is /bin/tailscale: a script, not a symlink, because its
// target is in a later layer, and Dagger's Directory.withTimestamps fails
// on a symlink that dangles in its own directory (chtimes follows it).
var ShellCLIScript = "#!/bin/sh\nexec /" + BinDir + "/tailscale \"$@\"\n"

// StartScript is the entrypoint (start.sh). tailscaled does not turn on IP
// forwarding, and without it a subnet router or exit node accepts the
// configuration but forwards nothing (IPv6 silently); the sysctls belong
// to the container's own network namespace. A failure is reported, not
// fatal: the daemon still serves the router's own traffic.
//
// It points SSL_CERT_DIR at ExtraCADir (unless the router sets it), so a
// control server with a private CA works from a PEM on the state mount.
//
// It turns the containerboot-style environment (TS_AUTHKEY, TS_HOSTNAME,
// TS_ROUTES, TS_EXTRA_ARGS, ... and the aliases docs/USAGE.md lists) into
// tailscaled's --config file on the socket's tmpfs (EnvConfigFile), never
// on flash: that file then wins over ConfigFile. A value it cannot map
// stops the container with one line naming the variable. The auth key is
// sent only until tailscaled.state holds a login (TS_AUTH_ONCE=false: on
// every start).
//
// It starts tailscaled with DaemonFlags whatever the runtime passes
// (RuntimeStarts), so the image's Cmd is empty.
var StartScript = strings.NewReplacer(
	"@START@", "/"+Start,
	"@PATH@", strings.TrimPrefix(Env()[0], "PATH="),
	"@DAEMON_FLAGS@", strings.Join(DaemonFlags(), " "),
).Replace(startTemplate)

//go:embed start.sh
var startTemplate string

// EnvConfigFile is where StartScript writes the config it makes from the
// environment: the socket directory, a tmpfs on the router.
const EnvConfigFile = "/" + SocketDir + "/env.json"

// Entrypoint runs StartScript. The containers the RouterOS scripts and
// docs/USAGE.md add name it too (entrypoint=RouterEntrypoint): RouterOS
// 7.22+ may not read a FROM-scratch image's Entrypoint.
func Entrypoint() []string { return []string{"/" + Start} }

// RouterEntrypoint is the entrypoint= value of every container the
// RouterOS scripts and docs/USAGE.md add.
const RouterEntrypoint = "/" + Start

// DaemonFlags are tailscaled's flags, given by StartScript: state on the
// persistent mount, the socket on tmpfs, no log upload, and the optional
// headless config file. Arguments the runtime passes come after them
// (the last of a flag wins), then TS_TAILSCALED_EXTRA_ARGS.
func DaemonFlags() []string {
	return []string{
		"--statedir=/" + StateDir,
		"--socket=" + Socket,
		"--no-logs-no-support",
		"--config=optional:" + ConfigFile,
	}
}

// Daemon is the path StartScript execs: the argv[0] link that makes the
// combined binary tailscaled.
const Daemon = "/" + BinDir + "/tailscaled"

// RuntimeStart is one way a runtime may start the container: the argv it
// executes, and whether it applies the image's environment (Env).
type RuntimeStart struct {
	Name     string
	Argv     []string
	ImageEnv bool
}

// RuntimeStarts are the ways RouterOS is reported to start a container
// (docs/USAGE.md, section 4): the image's Entrypoint (and empty Cmd) as up
// to 7.21; the container's entrypoint= alone, image ignored, as 7.22+ may;
// the image's Entrypoint with a cmd= naming the script (as other images'
// docs tell owners); and each without the image's environment.
func RuntimeStarts() []RuntimeStart {
	var out []RuntimeStart
	for _, s := range []RuntimeStart{
		{Name: "image-entrypoint", Argv: Entrypoint()},
		{Name: "router-entrypoint", Argv: []string{RouterEntrypoint}},
		{Name: "image-entrypoint+router-cmd", Argv: append(Entrypoint(), RouterEntrypoint)},
	} {
		out = append(out, RuntimeStart{s.Name + "/image-env", s.Argv, true}, RuntimeStart{s.Name + "/no-env", s.Argv, false})
	}
	return out
}

// WantDaemonArgv is tailscaled's argv for every RuntimeStart, with no TS_*
// variable set.
func WantDaemonArgv() []string { return append([]string{Daemon}, DaemonFlags()...) }

// Env is the image environment.
func Env() []string {
	return []string{"PATH=/" + BinDir + ":/" + BusyBoxDir}
}

// Meta is what the labels describe.
type Meta struct {
	Version   string    // release tag, or a dev version
	Source    string    // repository URL
	Revision  string    // commit hash
	Created   time.Time // commit time: the same commit gives the same image
	Features  []string  // compiled-in Tailscale features
	With      []string  // opt-ins among them (--with), if any
	Tailscale string    // Tailscale version
}

// WithLabel lists the opt-in features an image was built with.
const WithLabel = "mikrotik-tailscale.with"

// Labels returns the OCI labels for the image config.
func Labels(m Meta) map[string]string {
	l := map[string]string{
		"org.opencontainers.image.title":       "mikrotik-tailscale",
		"org.opencontainers.image.description": "Minimal Tailscale for MikroTik RouterOS containers",
		"org.opencontainers.image.version":     m.Version,
		"org.opencontainers.image.created":     m.Created.UTC().Format(time.RFC3339),
		"org.opencontainers.image.licenses":    "BSD-3-Clause AND GPL-2.0-only",
		"com.tailscale.version":                m.Tailscale,
		"mikrotik-tailscale.features":          strings.Join(m.Features, ","),
	}
	// Unknown provenance is left out rather than published empty (a local
	// build or tarball has no commit).
	if m.Source != "" {
		l["org.opencontainers.image.source"] = m.Source
	}
	if m.Revision != "" {
		l["org.opencontainers.image.revision"] = m.Revision
	}
	// Only a build with opt-ins says so: the default set is the reviewed
	// minimum every release ships.
	if len(m.With) > 0 {
		l[WithLabel] = strings.Join(m.With, ",")
	}
	return l
}

// Validate checks a layer list for the mistakes that would break the
// image: relative or unclean paths, a path in two layers, an entry whose
// parent directory does not exist by then, a dangling symlink.
func Validate(layers []Layer) error {
	where := map[string]string{}
	kinds := map[string]Kind{}
	createdBy := map[string]string{}
	for _, l := range layers {
		if l.CreatedBy == "" {
			return fmt.Errorf("layer %s has no history entry (CreatedBy)", l.Name)
		}
		if prev, ok := createdBy[l.CreatedBy]; ok {
			return fmt.Errorf("layers %s and %s have the same history entry %q", prev, l.Name, l.CreatedBy)
		}
		createdBy[l.CreatedBy] = l.Name
		for _, e := range l.Entries {
			if e.Path == "" || path.IsAbs(e.Path) || path.Clean(e.Path) != e.Path {
				return fmt.Errorf("layer %s: path %q must be relative and clean", l.Name, e.Path)
			}
			if prev, ok := where[e.Path]; ok {
				return fmt.Errorf("%s is in layer %s and again in layer %s", e.Path, prev, l.Name)
			}
			if parent := path.Dir(e.Path); parent != "." {
				if k, ok := kinds[parent]; !ok || k != Dir {
					return fmt.Errorf("layer %s: %s has no parent directory before it", l.Name, e.Path)
				}
			}
			where[e.Path], kinds[e.Path] = l.Name, e.Kind
		}
	}
	for _, l := range layers {
		for _, e := range l.Entries {
			if e.Kind != Symlink {
				continue
			}
			target := path.Join(path.Dir(e.Path), e.Target)
			if _, ok := where[target]; !ok {
				return fmt.Errorf("symlink %s -> %s dangles", e.Path, e.Target)
			}
		}
	}
	return nil
}

// Paths lists every path of the image in layer order.
func Paths(layers []Layer) []string {
	var out []string
	for _, l := range layers {
		for _, e := range l.Entries {
			out = append(out, e.Path)
		}
	}
	return slices.Clip(out)
}
