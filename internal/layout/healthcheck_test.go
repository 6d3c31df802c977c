package layout

import (
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"dagger/mikrotik-tailscale/internal/busybox"
)

// The health probe is an own applet, in the committed list, asking the
// socket Cmd starts tailscaled on, and its help says so.
func TestHealthCheckProbe(t *testing.T) {
	name := path.Base(HealthCheck)
	var c string
	for _, f := range busybox.OwnApplets() {
		if path.Base(f.Path) == name+".c" {
			c = f.Content
		}
	}
	if c == "" {
		t.Fatalf("no own applet %s.c (busybox.OwnApplets)", name)
	}
	layers, err := ImageLayers(committedList(t))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(Paths(layers), strings.TrimPrefix(HealthCheck, "/")) {
		t.Errorf("the image has no %s: %s does not list %s", HealthCheck, busybox.ListFile, name)
	}
	if path.Dir(HealthCheck) != "/"+BusyBoxDir {
		t.Errorf("HealthCheck %s is not in /%s, where the applet links are", HealthCheck, BusyBoxDir)
	}
	def := regexp.MustCompile(`#define TSHEALTH_SOCKET "([^"]*)"`).FindStringSubmatch(c)
	if def == nil || def[1] != Socket {
		t.Errorf("%s's default socket %v, want %s", name, def, Socket)
	}
	if !slices.Contains(DaemonFlags(), "--socket="+Socket) {
		t.Errorf("DaemonFlags %v do not start tailscaled on %s", DaemonFlags(), Socket)
	}
	if !strings.Contains(c, "(default "+Socket+")") {
		t.Errorf("%s's usage does not name %s", name, Socket)
	}
}
