package layout

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// startRun is one run of the real start script under the host's sh, its
// paths moved into a temporary root: the daemon prints its arguments.
type startRun struct {
	out    string
	err    error
	args   []string       // the daemon's arguments
	flags  []string       // DaemonFlags with the paths moved as the script's
	config map[string]any // EnvConfigFile, nil if not written
	mode   os.FileMode
}

func runStart(t *testing.T, env map[string]string, state map[string]string) startRun {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"run", "lib", "proc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, text := range state {
		if err := os.WriteFile(filepath.Join(root, "lib", name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	daemon := filepath.Join(root, "tailscaled")
	if err := os.WriteFile(daemon, []byte("#!/bin/sh\nfor a; do echo \"arg:$a\"; done\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	moved := strings.NewReplacer(
		"/proc/sys/net/ipv4/ip_forward", filepath.Join(root, "proc", "ip_forward"),
		"/proc/sys/net/ipv6/conf/all/forwarding", filepath.Join(root, "proc", "forwarding"),
		"/usr/local/bin/tailscaled", daemon,
		"/"+SocketDir, filepath.Join(root, "run"),
		"/"+StateDir, filepath.Join(root, "lib"),
	)
	script := moved.Replace(StartScript)
	cmd := exec.Command("sh", "-c", script, "start", "--statedir=/x")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	b, err := cmd.CombinedOutput()
	r := startRun{out: string(b), err: err, flags: strings.Fields(moved.Replace(strings.Join(DaemonFlags(), " ")))}
	for _, l := range strings.Split(r.out, "\n") {
		if a, ok := strings.CutPrefix(l, "arg:"); ok {
			r.args = append(r.args, a)
		}
	}
	conf := filepath.Join(root, "run", filepath.Base(EnvConfigFile))
	if st, err := os.Stat(conf); err == nil {
		r.mode = st.Mode().Perm()
		text, _ := os.ReadFile(conf)
		if err := json.Unmarshal(text, &r.config); err != nil {
			t.Fatalf("%s is not JSON: %v\n%s", conf, err, text)
		}
		if want := "--config=" + conf; len(r.args) == 0 || r.args[len(r.args)-1] != want {
			t.Errorf("daemon args %q do not end with %s", r.args, want)
		}
	}
	return r
}

// Quotes, backslashes and spaces survive into the JSON; containerboot's
// names and the flags Headscale users pass map to tailscaled's fields.
func TestStartEnvConfig(t *testing.T) {
	r := runStart(t, map[string]string{
		"TS_AUTHKEY":    `tskey-"a"\b c`,
		"TS_HOSTNAME":   `office "router" \ 1`,
		"TS_ROUTES":     "192.168.88.0/24,fd88::/64",
		"TS_EXTRA_ARGS": "--login-server=https://hs.example.net:8443 --advertise-exit-node --accept-routes=false --snat-subnet-routes=false",
	}, nil)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.out)
	}
	want := map[string]any{
		"Version": "alpha0", "Locked": false,
		"ServerURL": "https://hs.example.net:8443", "AuthKey": `tskey-"a"\b c`, "Hostname": `office "router" \ 1`,
		"AdvertiseRoutes": []any{"192.168.88.0/24", "fd88::/64"}, "AdvertiseExitNode": true,
		"acceptDNS": false, "acceptRoutes": false, "DisableSNAT": true,
	}
	if !reflect.DeepEqual(r.config, want) {
		t.Errorf("config %v\nwant   %v", r.config, want)
	}
	if r.mode != 0o600 {
		t.Errorf("config mode %v, want 0600 (it holds the key)", r.mode)
	}
	if !slices.Equal(r.args[:len(r.flags)], r.flags) || r.args[len(r.flags)] != "--statedir=/x" {
		t.Errorf("not the script's flags, then the runtime's: %q", r.args)
	}
}

// The most common RouterOS image's names, single-dash flags, the separate
// value form, and tailscaled's own flags.
func TestStartEnvAliases(t *testing.T) {
	r := runStart(t, map[string]string{
		"AUTH_KEY":         "file:/var/lib/tailscale/authkey",
		"ADVERTISE_ROUTES": "10.0.0.0/8",
		"LOGIN_SERVER":     "https://hs.example.net",
		"TAILSCALE_ARGS":   "-advertise-exit-node --hostname gw --exit-node-allow-lan-access=true",
		"TAILSCALED_ARGS":  "--port=41641 --verbose=1",
		"TS_ACCEPT_DNS":    "true",
	}, nil)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.out)
	}
	want := map[string]any{
		"Version": "alpha0", "Locked": false,
		"ServerURL": "https://hs.example.net", "AuthKey": "file:/var/lib/tailscale/authkey", "Hostname": "gw",
		"AdvertiseRoutes": []any{"10.0.0.0/8"}, "AdvertiseExitNode": true,
		"acceptDNS": true, "acceptRoutes": false, "allowLANWhileUsingExitNode": true,
	}
	if !reflect.DeepEqual(r.config, want) {
		t.Errorf("config %v\nwant   %v", r.config, want)
	}
	if n := len(r.args); n < 3 || r.args[n-3] != "--port=41641" || r.args[n-2] != "--verbose=1" {
		t.Errorf("TAILSCALED_ARGS not passed to tailscaled before --config: %q", r.args)
	}
}

// Without TS_* settings nothing is written and the state mount's JSON
// file stays the config; tailscaled's own flags alone do not change that.
func TestStartWithoutEnv(t *testing.T) {
	r := runStart(t, map[string]string{"TS_TAILSCALED_EXTRA_ARGS": "--verbose=2", "TS_HOSTNAME": ""}, nil)
	if r.err != nil || r.config != nil {
		t.Fatalf("err %v, config %v\n%s", r.err, r.config, r.out)
	}
	if !reflect.DeepEqual(r.args, append(r.flags, "--statedir=/x", "--verbose=2")) {
		t.Errorf("args %q", r.args)
	}
}

// Auth once: after a login (tailscaled.state has a profile) the key is not
// sent again, unless TS_AUTH_ONCE=false; the state mount's JSON file is
// said to be unread.
func TestStartAuthOnce(t *testing.T) {
	state := map[string]string{"tailscaled.state": `{"_current-profile":"cHJvZmlsZS0x","_machinekey":"x"}`}
	env := map[string]string{"TS_AUTHKEY": "tskey-1", "TS_HOSTNAME": "gw"}
	r := runStart(t, env, state)
	if _, ok := r.config["AuthKey"]; ok || r.err != nil || r.config["Hostname"] != "gw" {
		t.Errorf("logged in before: key sent again (%v, %v)\n%s", r.config, r.err, r.out)
	}
	env["TS_AUTH_ONCE"] = "false"
	if r := runStart(t, env, state); r.config["AuthKey"] != "tskey-1" {
		t.Errorf("TS_AUTH_ONCE=false: key not sent: %v\n%s", r.config, r.out)
	}
	delete(env, "TS_AUTH_ONCE")
	state = map[string]string{"tailscaled.state": `{"_machinekey":"x"}`, "tailscaled.json": "{}"}
	r = runStart(t, env, state)
	if r.config["AuthKey"] != "tskey-1" {
		t.Errorf("never logged in: key not sent: %v\n%s", r.config, r.out)
	}
	if !strings.Contains(r.out, "start: configured from the environment; ") || !strings.Contains(r.out, "/tailscaled.json is not read") {
		t.Errorf("no word about the unread JSON file:\n%s", r.out)
	}
}

// A value that cannot be mapped stops the start with one line that names
// the variable and what is accepted; tailscaled never starts.
func TestStartEnvRefused(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"TS_EXTRA_ARGS": "--ssh"}, "start: TS_EXTRA_ARGS: --ssh is not accepted here; accepted: --login-server"},
		{map[string]string{"TAILSCALE_ARGS": "up --advertise-exit-node"}, "start: TAILSCALE_ARGS: up is not accepted here"},
		{map[string]string{"TS_EXTRA_ARGS": "--hostname"}, "start: TS_EXTRA_ARGS: --hostname needs a value"},
		{map[string]string{"TS_EXTRA_ARGS": "--advertise-exit-node=maybe"}, "start: TS_EXTRA_ARGS --advertise-exit-node=maybe: accepted: true or false"},
		{map[string]string{"TS_ACCEPT_DNS": "on"}, "start: TS_ACCEPT_DNS=on: accepted: true or false"},
		{map[string]string{"TS_AUTH_ONCE": "x", "TS_HOSTNAME": "a"}, "start: TS_AUTH_ONCE=x: accepted: true or false"},
		{map[string]string{"TS_ROUTES": "192.168.88.0/24,$(reboot)"}, `start: advertised routes: "$(reboot)" is not an IP prefix such as 192.168.88.0/24`},
		{map[string]string{"TS_ROUTES": "192.168.88.0/24,"}, `start: advertised routes: "192.168.88.0/24," has an empty entry`},
		{map[string]string{"TS_HOSTNAME": "a\nb"}, "start: Hostname: control characters are not accepted"},
		{map[string]string{"TS_AUTHKEY": "tskey-1", "AUTH_KEY": "tskey-2"}, "start: TS_AUTHKEY and AUTH_KEY differ: set one"},
		{map[string]string{"TS_HOSTNAME": "a", "TS_EXTRA_ARGS": "--hostname=b"}, "start: TS_EXTRA_ARGS --hostname differs from another setting of the same: set one"},
		{map[string]string{"TS_ACCEPT_DNS": "false", "TS_EXTRA_ARGS": "--accept-dns"}, "start: TS_ACCEPT_DNS differs from another setting of the same: set one"},
	} {
		r := runStart(t, c.env, nil)
		var exit *exec.ExitError
		switch {
		case !errors.As(r.err, &exit) || exit.ExitCode() != 64:
			t.Errorf("%v: exit %v, want 64\n%s", c.env, r.err, r.out)
		case !strings.HasPrefix(r.out, c.want) || strings.Count(strings.TrimSpace(r.out), "\n") != 0:
			t.Errorf("%v: said %q, want one line starting %q", c.env, r.out, c.want)
		case r.args != nil || r.config != nil:
			t.Errorf("%v: tailscaled started or config written", c.env)
		}
	}
}

// The script's paths are the layout's: it is plain sh, so they are
// written out in it.
func TestStartScriptPaths(t *testing.T) {
	for _, p := range []string{"conf=" + EnvConfigFile, ConfigFile, "/" + ExtraCADir, "/" + StateDir + "/tailscaled.state", "exec /" + BinDir + "/tailscaled "} {
		if !strings.Contains(StartScript, p) {
			t.Errorf("start.sh does not name %s", p)
		}
	}
	if !strings.HasPrefix(EnvConfigFile, "/"+SocketDir+"/") {
		t.Errorf("EnvConfigFile %s is not on the socket's tmpfs", EnvConfigFile)
	}
}
