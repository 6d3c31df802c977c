package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"dagger/mikrotik-tailscale/internal/layout"
	"dagger/mikrotik-tailscale/internal/platform"
)

// The start script's environment configuration under the image's own
// shell and applets (BusyBox ash, sed, tr, grep; arm through qemu-user):
// the config file it writes for tailscaled, and the one-line refusals.
// internal/layout's tests cover the mapping under the host's sh; this
// proves the image runs it the same. tailscaled itself only prints its
// version (TS_TAILSCALED_EXTRA_ARGS=--version): the tailnet test runs a
// router configured this way for real.
func TestImageStartEnv(t *testing.T) {
	layers := imageLayers(t)
	for _, a := range platform.All() {
		t.Run(a.Dir, func(t *testing.T) {
			root := filepath.Join(scratchDir(t, "image-start-env"), a.Dir)
			os.RemoveAll(root)
			if err := layout.WriteRootfs(root, layers, imageSources(t, a)); err != nil {
				t.Fatal(err)
			}
			start := "/" + layout.Start
			env := func(vars ...string) string {
				var q []string
				for _, v := range vars {
					q = append(q, bbQuote(v))
				}
				return "env " + strings.Join(q, " ") + " " + start
			}
			script := strings.Join([]string{
				env("TS_AUTHKEY=tskey-\"a\"\\b c", "TS_HOSTNAME=office \"router\" \\ 1", "TS_ROUTES=192.168.88.0/24,fd88::/64",
					"TS_EXTRA_ARGS=--login-server=https://hs.example.net --advertise-exit-node -accept-routes=false",
					"TS_TAILSCALED_EXTRA_ARGS=--version") + " >/dev/null; echo rc=$?",
				"cat " + layout.EnvConfigFile,
				env("TS_HOSTNAME=a\tb") + "; echo rc=$?",
				env("TS_EXTRA_ARGS=--ssh") + " 2>&1 | sed -n 's/accepted: .*/accepted: …/p'",
				env("TS_ROUTES=192.168.88.0/24;reboot") + "; echo rc=$?",
			}, "\n")
			r := imageChroot(t, a, root, script)
			if r.Err != nil {
				t.Fatalf("chroot: %s", r)
			}
			lines := strings.SplitN(r.Stdout, "\n", 3)
			if len(lines) < 3 || lines[0] != "rc=0" {
				t.Fatalf("start with a valid environment: %s", r)
			}
			var conf map[string]any
			if err := json.Unmarshal([]byte(lines[1]), &conf); err != nil {
				t.Fatalf("%s: %v: %q", layout.EnvConfigFile, err, lines[1])
			}
			want := map[string]any{
				"Version": "alpha0", "Locked": false,
				"ServerURL": "https://hs.example.net", "AuthKey": `tskey-"a"\b c`, "Hostname": `office "router" \ 1`,
				"AdvertiseRoutes": []any{"192.168.88.0/24", "fd88::/64"}, "AdvertiseExitNode": true,
				"acceptDNS": false, "acceptRoutes": false,
			}
			if !reflect.DeepEqual(conf, want) {
				t.Errorf("config %v\nwant   %v", conf, want)
			}
			for _, w := range []string{
				"rc=64", // the tab
				"start: TS_EXTRA_ARGS: --ssh is not accepted here; accepted: …",
				`start: advertised routes: "192.168.88.0/24;reboot" is not an IP prefix such as 192.168.88.0/24`,
			} {
				if !strings.Contains(r.Stdout+r.Stderr, w) {
					t.Errorf("no %q in:\n%s", w, r)
				}
			}
			if !strings.Contains(r.Stderr, "start: Hostname: control characters are not accepted") {
				t.Errorf("a tab in TS_HOSTNAME was not refused:\n%s", r)
			}
		})
	}
}
