package layout

import (
	"archive/tar"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func mustLayers(t *testing.T, applets ...string) []Layer {
	t.Helper()
	l, err := Layers(applets)
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(l); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestTailscaleDirectoryIsOneLayerAndLast(t *testing.T) {
	layers := mustLayers(t, "sh", "ls")
	last := layers[len(layers)-1]
	var inBin []string
	for _, l := range layers {
		for _, e := range l.Entries {
			if strings.HasPrefix(e.Path, BinDir+"/") {
				if l.Name != last.Name {
					t.Errorf("%s is in layer %s, not the final tailscale layer", e.Path, l.Name)
				}
				inBin = append(inBin, e.Path)
			}
		}
	}
	want := []string{Binary, Start, BinDir + "/tailscaled", BinDir + "/tailscale"}
	if !slices.Equal(inBin, want) {
		t.Fatalf("/usr/local/bin = %v, want %v", inBin, want)
	}
}

// Each layer names what built it, so `docker history` reads the recipe
// and not the engine's cache state.
func TestHistoryNamesEveryLayer(t *testing.T) {
	layers := mustLayers(t, "sh")
	h := History(layers)
	if len(h) != len(layers) {
		t.Fatalf("%d history entries for %d layers", len(h), len(layers))
	}
	for i, l := range layers {
		if h[i] != l.CreatedBy || !strings.HasPrefix(h[i], "mikrotik-tailscale "+l.Name+": ") {
			t.Errorf("layer %s: history %q", l.Name, h[i])
		}
	}
	broken := mustLayers(t, "sh")
	broken[1].CreatedBy = ""
	if err := Validate(broken); err == nil || !strings.Contains(err.Error(), "no history entry") {
		t.Errorf("a layer without CreatedBy: %v", err)
	}
	broken[1].CreatedBy = broken[0].CreatedBy
	if err := Validate(broken); err == nil || !strings.Contains(err.Error(), "same history entry") {
		t.Errorf("two layers with one CreatedBy: %v", err)
	}
}

func TestBusyBoxFarmSkipsDuplicatesAndRejectsPaths(t *testing.T) {
	layers := mustLayers(t, "sh", "sh", "busybox", "[")
	var links []string
	for _, e := range layers[1].Entries {
		if e.Kind == Symlink {
			links = append(links, e.Path+"->"+e.Target)
		}
	}
	if !slices.Equal(links, []string{"bin/sh->busybox", "bin/[->busybox"}) {
		t.Fatalf("links = %v", links)
	}
	// /bin/tailscale: a script in the BusyBox layer that runs the CLI by
	// the path of its argv[0] link, which a later layer adds.
	cli := layers[1].Entries[len(layers[1].Entries)-1]
	if cli.Path != ShellCLI || cli.Kind != File || cli.Mode != 0o755 || !strings.Contains(cli.Content, "exec /usr/local/bin/tailscale \"$@\"") {
		t.Errorf("the shell's CLI entry is %+v", cli)
	}
	if !slices.ContainsFunc(layers[2].Entries, func(e Entry) bool { return e.Path == "usr/local/bin/tailscale" && e.Kind == Symlink }) {
		t.Error("the tailscale layer has no usr/local/bin/tailscale for /bin/tailscale to run")
	}
	for _, bad := range []string{"../etc/passwd", "a/b", "", "..", "tailscale"} {
		if _, err := Layers([]string{bad}); err == nil {
			t.Errorf("applet %q accepted", bad)
		}
	}
}

func TestValidateCatchesBrokenLayouts(t *testing.T) {
	cases := map[string][]Layer{
		"again in layer":     {{Name: "a", CreatedBy: "A", Entries: []Entry{dir("x")}}, {Name: "b", CreatedBy: "B", Entries: []Entry{dir("x")}}},
		"no parent":          {{Name: "a", CreatedBy: "A", Entries: []Entry{{Path: "x/y", Kind: File}}}},
		"dangles":            {{Name: "a", CreatedBy: "A", Entries: []Entry{dir("x"), {Path: "x/l", Kind: Symlink, Target: "nope"}}}},
		"relative and clean": {{Name: "a", CreatedBy: "A", Entries: []Entry{dir("/abs")}}},
	}
	for want, layers := range cases {
		err := Validate(layers)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want error containing %q", err, want)
		}
	}
}

func TestEntrypointAndEnv(t *testing.T) {
	if ep := Entrypoint(); !slices.Equal(ep, []string{"/usr/local/bin/start"}) {
		t.Fatalf("Entrypoint = %v", ep)
	}
	want := []string{"--statedir=/var/lib/tailscale",
		"--socket=/var/run/tailscale/tailscaled.sock", "--no-logs-no-support",
		"--config=optional:/var/lib/tailscale/tailscaled.json"}
	if !slices.Equal(DaemonFlags(), want) {
		t.Fatalf("DaemonFlags = %v", DaemonFlags())
	}
	if !slices.Equal(Env(), []string{"PATH=/usr/local/bin:/bin"}) {
		t.Fatalf("Env = %v", Env())
	}
}

func TestLabelsUseCommitTime(t *testing.T) {
	created := time.Date(2026, 6, 2, 13, 54, 52, 0, time.FixedZone("CEST", 2*3600))
	l := Labels(Meta{Version: "v1.104.5-mt.1", Revision: "abc", Created: created,
		Features: []string{"cli", "dns"}, Tailscale: "1.104.5", Source: "https://example.invalid/x"})
	checks := map[string]string{
		"org.opencontainers.image.version":  "v1.104.5-mt.1",
		"org.opencontainers.image.created":  "2026-06-02T11:54:52Z",
		"org.opencontainers.image.revision": "abc",
		"org.opencontainers.image.source":   "https://example.invalid/x",
		"mikrotik-tailscale.features":       "cli,dns",
	}
	for k, v := range checks {
		if l[k] != v {
			t.Errorf("label %s = %q, want %q", k, l[k], v)
		}
	}
	for _, k := range []string{"org.opencontainers.image.source", "org.opencontainers.image.revision", WithLabel} {
		if v, ok := Labels(Meta{})[k]; ok {
			t.Errorf("empty input produced the label %s=%q", k, v)
		}
	}
}

func TestLabelsNameTheOptIns(t *testing.T) {
	l := Labels(Meta{Features: []string{"cli", "relayserver", "tailnetlock"}, With: []string{"relayserver", "tailnetlock"}})
	if got := l[WithLabel]; got != "relayserver,tailnetlock" {
		t.Errorf("%s = %q", WithLabel, got)
	}
}

func fakeSources(t *testing.T) Sources {
	dir := t.TempDir()
	src := Sources{}
	for _, s := range []Source{FromTailscale, FromBusyBox, FromCACerts} {
		p := filepath.Join(dir, string(s))
		if err := os.WriteFile(p, []byte("content of "+string(s)), 0o600); err != nil {
			t.Fatal(err)
		}
		src[s] = p
	}
	return src
}

func TestWriteTarIsDeterministicAndComplete(t *testing.T) {
	layers := mustLayers(t, "sh")
	src := fakeSources(t)
	mtime := time.Unix(1780000000, 0)
	var a, b bytes.Buffer
	if err := WriteTar(&a, layers[2], src, mtime); err != nil {
		t.Fatal(err)
	}
	if err := WriteTar(&b, layers[2], src, mtime); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two tars of the same layer differ")
	}
	tr := tar.NewReader(&a)
	var names []string
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		if !h.ModTime.Equal(mtime) || h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s: mtime %v uid %d gid %d", h.Name, h.ModTime, h.Uid, h.Gid)
		}
		names = append(names, h.Name)
	}
	want := []string{"usr/", "usr/local/", "usr/local/bin/", Binary, Start, BinDir + "/tailscaled", BinDir + "/tailscale"}
	if !slices.Equal(names, want) {
		t.Fatalf("tar entries %v, want %v", names, want)
	}
}

func TestWriteRootfsModes(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "rootfs")
	if err := WriteRootfs(dst, mustLayers(t, "sh"), fakeSources(t)); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dst, StateDir))
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("state dir: %v %v", st, err)
	}
	st, err = os.Stat(filepath.Join(dst, Binary))
	if err != nil || st.Mode().Perm() != 0o755 {
		t.Fatalf("binary: %v %v", st, err)
	}
	if target, err := os.Readlink(filepath.Join(dst, "bin/sh")); err != nil || target != "busybox" {
		t.Fatalf("bin/sh -> %q, %v", target, err)
	}
}

// The start script enables forwarding where it can, says so where it
// cannot, and always hands its arguments to tailscaled.
func TestStartScript(t *testing.T) {
	root := t.TempDir()
	fwd := filepath.Join(root, "ip_forward")
	if err := os.WriteFile(fwd, []byte("0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	daemon := filepath.Join(root, "tailscaled")
	if err := os.WriteFile(daemon, []byte("#!/bin/sh\necho daemon \"$@\"\necho certdir=$SSL_CERT_DIR\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	script := strings.NewReplacer(
		"/proc/sys/net/ipv4/ip_forward", fwd,
		"/proc/sys/net/ipv6/conf/all/forwarding", filepath.Join(root, "missing", "forwarding"),
		"/usr/local/bin/tailscaled", daemon).Replace(StartScript)
	start := exec.Command("sh", "-c", script, "start", "--flag", "a b")
	start.Env = []string{"PATH=" + os.Getenv("PATH")} // as in a container: no SSL_CERT_DIR
	out, err := start.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if b, _ := os.ReadFile(fwd); strings.TrimSpace(string(b)) != "1" {
		t.Errorf("ip_forward = %q, want 1", b)
	}
	if !strings.Contains(string(out), "cannot enable") || !strings.Contains(string(out), "daemon "+strings.Join(DaemonFlags(), " ")+" --flag a b\n") {
		t.Errorf("output %q", out)
	}
	// Private CAs: the state mount's extra-ca directory, unless the
	// router sets its own.
	if !strings.Contains(string(out), "certdir=/var/lib/tailscale/extra-ca\n") {
		t.Errorf("SSL_CERT_DIR not defaulted to the extra-ca directory: %q", out)
	}
	cmd := exec.Command("sh", "-c", script, "start")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "SSL_CERT_DIR=/mine"}
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "certdir=/mine\n") {
		t.Errorf("a router's SSL_CERT_DIR was not kept: %v %q", err, out)
	}
}

// Every way a runtime may start the container gives the daemon the same
// arguments and PATH, with or without the image's environment; the
// script's own path is dropped only as the first argument. (The host
// suite checks tailscaled's real argv in each platform's rootfs.)
func TestStartRuntimeStarts(t *testing.T) {
	root := t.TempDir()
	daemon := filepath.Join(root, "tailscaled")
	if err := os.WriteFile(daemon, []byte("#!/bin/sh\necho \"path=$PATH\"\nfor a; do echo \"arg:$a\"; done\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	script := strings.NewReplacer("/proc/sys/", filepath.Join(root, "proc")+"/", "/usr/local/bin/tailscaled", daemon).Replace(StartScript)
	run := func(env []string, args ...string) (string, []string) {
		t.Helper()
		cmd := exec.Command("/bin/sh", append([]string{"-c", script}, args...)...)
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%q: %v\n%s", args, err, out)
		}
		var path string
		var argv []string
		for _, l := range strings.Split(string(out), "\n") {
			if p, ok := strings.CutPrefix(l, "path="); ok {
				path = p
			} else if a, ok := strings.CutPrefix(l, "arg:"); ok {
				argv = append(argv, a)
			}
		}
		return path, argv
	}
	for _, s := range RuntimeStarts() {
		env := []string{} // not nil: exec.Cmd would pass the test's own
		if s.ImageEnv {
			env = Env()
		}
		path, argv := run(env, s.Argv...)
		if path != strings.TrimPrefix(Env()[0], "PATH=") || !slices.Equal(argv, DaemonFlags()) {
			t.Errorf("%s: PATH %q, args %q; want %s, %q", s.Name, path, argv, Env()[0], DaemonFlags())
		}
	}
	// Another PATH from the runtime gives way to the image's; the script's
	// path later in the arguments is an argument like any other.
	path, argv := run([]string{"PATH=/usr/sbin:/sbin"}, "/"+Start, "/"+Start, "--verbose=1", "/"+Start)
	if path != strings.TrimPrefix(Env()[0], "PATH=") || !slices.Equal(argv, append(DaemonFlags(), "--verbose=1", "/"+Start)) {
		t.Errorf("PATH %q, args %q", path, argv)
	}
	if !strings.Contains(script, "exec "+daemon+" "+strings.Join(DaemonFlags(), " ")+` "$@"`) {
		t.Errorf("the script does not exec tailscaled with DaemonFlags first")
	}
	if strings.ContainsAny(strings.Join(DaemonFlags(), ""), " \t'\"$`\\*?[;&|<>()") {
		t.Errorf("DaemonFlags %q need quoting in the script", DaemonFlags())
	}
}

func TestIsStateFile(t *testing.T) {
	for _, name := range []string{"tailscaled.state", "derpmap.cached.json", "tailscaled.state.tmp123456", "derpmap.cached.json.tmp9"} {
		if !IsStateFile(name) {
			t.Errorf("IsStateFile(%q) = false", name)
		}
	}
	for _, name := range []string{"tailscaled.log.conf", "extra-ca/x.pem", "tailscaled.statefoo", "certs/a.crt", ""} {
		if IsStateFile(name) {
			t.Errorf("IsStateFile(%q) = true", name)
		}
	}
}
