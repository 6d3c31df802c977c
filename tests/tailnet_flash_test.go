package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"dagger/mikrotik-tailscale/internal/layout"
	labnet "dagger/mikrotik-tailscale/internal/tailnet"
)

// flashChurn is how long the netmap churns while the router's state dir
// is watched (the five minutes).
const flashChurn = 5 * time.Minute

// controlOutage is how long the peers must keep talking with Headscale
// stopped (the design notes' promise without cachenetmap).
const controlOutage = 2 * time.Minute

// stateWrite is one change inotify saw under the router's state dir.
type stateWrite struct {
	At   time.Duration // since the watch started
	Name string        // relative to the state dir
	Op   string
}

// stateWatcher records every write, create, rename, delete and
// attribute change under a directory tree, from the host: the chroot's
// files are the host's inodes.
type stateWatcher struct {
	fd     int
	f      *os.File
	start  time.Time
	dirs   map[int]string // watch descriptor → path relative to the root
	mu     sync.Mutex
	writes []stateWrite
	done   chan struct{}
}

const watchMask = syscall.IN_MODIFY | syscall.IN_CLOSE_WRITE | syscall.IN_CREATE | syscall.IN_MOVED_TO |
	syscall.IN_MOVED_FROM | syscall.IN_DELETE | syscall.IN_ATTRIB

func watchState(t *testing.T, root string) *stateWatcher {
	t.Helper()
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	w := &stateWatcher{fd: fd, start: time.Now(), dirs: map[int]string{}, done: make(chan struct{})}
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		wd, err := syscall.InotifyAddWatch(fd, p, watchMask)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		w.dirs[wd] = rel
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Non-blocking: the runtime's poller serves reads, and Close ends them.
	w.f = os.NewFile(uintptr(fd), "inotify")
	go w.read()
	return w
}

func (w *stateWatcher) read() {
	defer close(w.done)
	buf := make([]byte, 64*1024)
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			return
		}
		for off := 0; off+syscall.SizeofInotifyEvent <= n; {
			ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := ""
			if ev.Len > 0 {
				raw := buf[off+syscall.SizeofInotifyEvent : off+syscall.SizeofInotifyEvent+int(ev.Len)]
				name = strings.TrimRight(string(raw), "\x00")
			}
			w.mu.Lock()
			w.writes = append(w.writes, stateWrite{At: time.Since(w.start), Name: filepath.Join(w.dirs[int(ev.Wd)], name), Op: inotifyOp(ev.Mask)})
			w.mu.Unlock()
			off += syscall.SizeofInotifyEvent + int(ev.Len)
		}
	}
}

func inotifyOp(mask uint32) string {
	var ops []string
	for _, o := range []struct {
		bit  uint32
		name string
	}{{syscall.IN_MODIFY, "modify"}, {syscall.IN_CLOSE_WRITE, "close-write"}, {syscall.IN_CREATE, "create"},
		{syscall.IN_MOVED_TO, "moved-to"}, {syscall.IN_MOVED_FROM, "moved-from"}, {syscall.IN_DELETE, "delete"},
		{syscall.IN_ATTRIB, "attrib"}} {
		if mask&o.bit != 0 {
			ops = append(ops, o.name)
		}
	}
	return strings.Join(ops, "|")
}

// Since returns the changes recorded after at.
func (w *stateWatcher) Since(at time.Duration) []stateWrite {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []stateWrite
	for _, s := range w.writes {
		if s.At >= at {
			out = append(out, s)
		}
	}
	return out
}

func (w *stateWatcher) Close() {
	w.f.Close()
	<-w.done
}

// isStateFile: tailscaled.state, or the temporary file its atomic write
// renames over it.
func isStateFile(name string) bool {
	return name == "tailscaled.state" || strings.HasPrefix(name, "tailscaled.state.")
}

// 6: five minutes of netmap churn (a node leaving and joining again,
// another node's routes changing and being approved) reach the router,
// and nothing under its state dir is written: tailscaled.state changes
// only on auth or prefs changes, which the end of the test makes once
// to prove the watch sees them.
func (tn *tailnet) testFlash(t *testing.T) {
	stateDir := filepath.Join(tn.router.root, layout.StateDir)
	amd := mustArch(t, "amd64")
	churn := tn.newTailnetNode(t, "churn", amd, tailnetRootfs(t, amd), map[string]any{})
	tn.wireChurn(t, churn)
	churn.Go(t)
	tn.waitRunning(t, churn)
	var clientID uint64
	for _, n := range tn.hs.Nodes(t) {
		if n.GivenName == "client" {
			clientID = n.ID
		}
	}
	if clientID == 0 {
		t.Fatal("headscale does not list the client")
	}

	derpmap := stateFiles(t, stateDir)
	w := watchState(t, stateDir)
	defer w.Close()
	logBefore := len(tn.logLines(t))
	start := time.Now()
	cycles, seen := 0, 0
	for time.Since(start) < flashChurn {
		cycles++
		// Another node's routes change and are approved.
		route := fmt.Sprintf("10.123.%d.0/24", cycles%250)
		tn.client.MustExec(t, 30*time.Second, "tailscale", "set", "--advertise-routes="+route)
		poll(t, 60*time.Second, "client advertises "+route, func() (bool, string) {
			for _, n := range tn.hs.Nodes(t) {
				if n.ID == clientID && slices.Contains(n.AvailableRoute, route) {
					return true, ""
				}
			}
			return false, ""
		})
		if r := tn.hs.run("nodes", "approve-routes", "-i", fmt.Sprint(clientID), "-r", route); r.Err != nil {
			t.Fatal(r)
		}
		poll(t, 60*time.Second, "router sees the client's route "+route, func() (bool, string) {
			p := tn.peer(t, tn.router, "client")
			return p != nil && slices.Contains(p.PrimaryRoutes, route), fmt.Sprintf("%+v", p)
		})
		seen++
		// A node leaves and joins again.
		churn.Stop(t)
		poll(t, 90*time.Second, "router sees churn offline", func() (bool, string) {
			p := tn.peer(t, tn.router, "churn")
			return p != nil && !p.Online, fmt.Sprintf("%+v", p)
		})
		seen++
		churn.start(t)
		tn.wireChurn(t, churn)
		churn.Go(t)
		poll(t, 90*time.Second, "router sees churn online", func() (bool, string) {
			p := tn.peer(t, tn.router, "churn")
			return p != nil && p.Online, fmt.Sprintf("%+v", p)
		})
		seen++
	}
	window := time.Since(start)
	logChurn := len(tn.logLines(t)) - logBefore
	during := w.Since(0)
	for _, s := range during {
		t.Errorf("state dir written during netmap churn at %s: %s (%s)", s.At.Round(time.Millisecond), s.Name, s.Op)
	}

	// A prefs change is written, to tailscaled.state only: the watch works.
	mark := time.Since(w.start)
	tn.router.MustExec(t, 30*time.Second, "tailscale", "set", "--advertise-routes="+strings.Join([]string{lanNet, lanNet6, "10.124.0.0/24"}, ","))
	defer tn.router.Exec(30*time.Second, "tailscale", "set", "--advertise-routes="+lanNet+","+lanNet6)
	var prefs []stateWrite
	poll(t, 30*time.Second, "prefs change reaches tailscaled.state", func() (bool, string) {
		prefs = w.Since(mark)
		for _, s := range prefs {
			if s.Name == "tailscaled.state" && (strings.Contains(s.Op, "moved-to") || strings.Contains(s.Op, "close-write")) {
				return true, ""
			}
		}
		return false, fmt.Sprint(prefs)
	})
	var others []string
	for _, s := range prefs {
		if !isStateFile(s.Name) {
			others = append(others, s.Name+" ("+s.Op+")")
		}
	}
	if len(others) > 0 {
		t.Errorf("a prefs change wrote more than tailscaled.state: %s", strings.Join(others, ", "))
	}
	info, _ := os.Stat(filepath.Join(stateDir, "tailscaled.state"))
	var size int64
	if info != nil {
		size = info.Size()
	}
	tn.measure("derpmap_cached_bytes", derpmap)
	tn.measure("flash", map[string]any{
		"churn_s":                window.Seconds(),
		"churn_cycles":           cycles,
		"netmap_changes_seen":    seen,
		"state_dir_writes_churn": len(during),
		"prefs_change_events":    len(prefs),
		"state_file_bytes":       size,
	})
	tn.measure("log_churn", map[string]any{"window_s": window.Seconds(), "lines": logChurn, "lines_per_hour": perHour(logChurn, window)})
	t.Logf("flash: %d netmap changes seen by the router in %s, %d writes under the state dir; a prefs change: %d events on tailscaled.state (%d B)",
		seen, window.Round(time.Second), len(during), len(prefs), size)
}

// stateFiles checks that the router's state directory holds only what
// docs/DESIGN.md's flash-wear section names (labnet.ReadStateDir, as the
// engine's tailnet check reads it); it returns the size of the DERP map
// tailscaled caches there (-1 if absent).
func stateFiles(t *testing.T, stateDir string) int64 {
	t.Helper()
	sd, err := labnet.ReadStateDir(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range sd.Unexpected {
		t.Errorf("the router's state directory holds %s (%d B), which DESIGN's flash-wear section does not name", name, sd.Files[name].Size())
	}
	if _, ok := sd.Files["tailscaled.state"]; !ok {
		t.Errorf("the router's state directory has no tailscaled.state: %v", sd.Names())
	}
	if info, ok := sd.Files["derpmap.cached.json"]; ok {
		return info.Size()
	}
	return -1
}

// wireChurn connects the churn node to the wan (again after a restart:
// new namespaces).
func (tn *tailnet) wireChurn(t *testing.T, n *node) {
	t.Helper()
	veth(t, tn.wan, "chn0", []string{"10.99.4.254/24"}, n, "eth0", []string{"10.99.4.1/24"})
	nsIP(t, n, "route", "add", "default", "via", "10.99.4.254")
}

// 4: with Headscale stopped, the client keeps reaching the LAN host
// through the router and the nodes keep pinging each other, for two
// minutes: the netmap in memory is enough (no cachenetmap).
func (tn *tailnet) testOutage(t *testing.T) {
	tn.hs.Stop(t)
	start := time.Now()
	checks, failed := 0, 0
	var last string
	// One round of checks every 2 s for the whole window: pacing a
	// measurement, not waiting for a condition.
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for ; time.Since(start) < controlOutage; <-tick.C {
		checks++
		r := httpGet(tn.client, lanHost)
		want := "lan from " + tn.snat(lanRouter) + "\n"
		if r.Err != nil || r.Stdout != want {
			failed++
			last = r.String()
		}
		if r := tn.client.Exec(20*time.Second, "ping", "-c", "1", "-W", "3", tn.routerIP); r.Err != nil {
			failed++
			last = r.String()
		}
	}
	tn.measure("control_outage", map[string]any{"window_s": time.Since(start).Seconds(), "checks": checks, "failed": failed})
	if failed > 0 {
		t.Errorf("%d of %d checks failed with Headscale stopped; last: %s", failed, 2*checks, last)
	}
	t.Logf("control outage: %d checks over %s, %d failed", 2*checks, time.Since(start).Round(time.Second), failed)
}
