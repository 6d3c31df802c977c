package tests

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"dagger/mikrotik-tailscale/internal/layout"
	"dagger/mikrotik-tailscale/internal/platform"
)

// netns is a plain network namespace (owned by the host's user
// namespace) held open by a process: the tailnet's wan router, control
// host, LAN host and internet host. It is gone when the process is.
type netns struct {
	name string
	pid  int
	cmd  *exec.Cmd
}

// newNetns starts a holder in a new network namespace with loopback up.
func newNetns(t *testing.T, name string) *netns {
	t.Helper()
	cmd := exec.Command("unshare", "--net", "--", "sleep", "infinity")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	n := &netns{name: name, pid: cmd.Process.Pid, cmd: cmd}
	// unshare execs sleep once the namespace exists.
	poll(t, 10*time.Second, name+" netns", func() (bool, string) {
		self := hostNetns
		ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", n.pid))
		return err == nil && ns != self, fmt.Sprint(ns, err)
	})
	n.ip(t, "link", "set", "lo", "up")
	return n
}

// nsRun runs a host tool inside the network namespace of pid.
func nsRun(pid int, timeout time.Duration, argv ...string) result {
	return run(nil, "", os.Environ(), timeout, append([]string{"nsenter", "-t", strconv.Itoa(pid), "-n", "--"}, argv...)...)
}

func (n *netns) ip(t *testing.T, args ...string) {
	t.Helper()
	if r := nsRun(n.pid, 30*time.Second, append([]string{"ip"}, args...)...); r.Err != nil {
		t.Fatalf("%s: ip %s: %s", n.name, strings.Join(args, " "), r)
	}
}

// nsHost is anything with a network namespace the host can enter.
type nsHost interface {
	netnsPID() int
	hostName() string
}

func (n *netns) netnsPID() int    { return n.pid }
func (n *netns) hostName() string { return n.name }

// nsIP runs ip inside h's network namespace from the host (real root:
// it may configure namespaces owned by a node's user namespace too).
func nsIP(t *testing.T, h nsHost, args ...string) {
	t.Helper()
	if r := nsRun(h.netnsPID(), 30*time.Second, append([]string{"ip"}, args...)...); r.Err != nil {
		t.Fatalf("%s: ip %s: %s", h.hostName(), strings.Join(args, " "), r)
	}
}

// veth connects a and b with a veth pair created directly in both
// namespaces (names are per namespace, so parallel tailnets never clash),
// gives each end its addresses (CIDR) and brings them up.
func veth(t *testing.T, a nsHost, aName string, aAddrs []string, b nsHost, bName string, bAddrs []string) {
	t.Helper()
	// Never create links in the host's own namespace.
	self := hostNetns
	for _, h := range []nsHost{a, b} {
		if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", h.netnsPID())); err != nil || ns == self {
			t.Fatalf("%s: not in a namespace of its own (%s, %v)", h.hostName(), ns, err)
		}
	}
	// A restarted node's old link may outlive it for a while: the kernel
	// tears a network namespace down asynchronously after its last
	// process exits, so the surviving end (in the wan, LAN or internet
	// namespace) can still hold the name. Deleting one end deletes the pair.
	for _, end := range []struct {
		h    nsHost
		name string
	}{{a, aName}, {b, bName}} {
		if r := nsRun(end.h.netnsPID(), 10*time.Second, "ip", "link", "del", end.name); r.Err == nil {
			t.Logf("veth %s in %s: removed the link of a namespace still being torn down", end.name, end.h.hostName())
		}
	}
	r := run(t, "", os.Environ(), 30*time.Second, "ip", "link", "add", aName, "netns", strconv.Itoa(a.netnsPID()),
		"type", "veth", "peer", "name", bName, "netns", strconv.Itoa(b.netnsPID()))
	if r.Err != nil {
		t.Fatalf("veth %s/%s: %s", aName, bName, r)
	}
	for _, side := range []struct {
		h     nsHost
		name  string
		addrs []string
	}{{a, aName, aAddrs}, {b, bName, bAddrs}} {
		for _, addr := range side.addrs {
			args := []string{"addr", "add", addr, "dev", side.name}
			if strings.Contains(addr, ":") {
				args = append(args, "nodad")
			}
			nsIP(t, side.h, args...)
		}
		nsIP(t, side.h, "link", "set", side.name, "up")
	}
}

// node is one container: the image's rootfs in a chroot, in fresh user,
// mount, pid and network namespaces (the user namespace owns the network
// namespace, so tailscaled as its root has CAP_NET_ADMIN there), started
// through the image's entrypoint, with a tmpfs socket dir.
type node struct {
	name string
	arch platform.Arch
	root string
	env  []string
	log  string
	argv []string // what the runtime executes; nil: the image's entrypoint

	cmd    *exec.Cmd
	pid    int // unshare: in the node's network namespace
	child  int // the chroot's pid 1: sh, then start, then tailscaled
	goFile string
	done   chan struct{}
	err    error
}

func (n *node) netnsPID() int    { return n.pid }
func (n *node) hostName() string { return n.name }

// newNode prepares a node on root (a scratch copy of the image's rootfs)
// and starts its namespaces; tailscaled starts on Go, once the test has
// wired the network.
func newNode(t *testing.T, name string, a platform.Arch, root, logFile string, env []string) *node {
	t.Helper()
	n := &node{name: name, arch: a, root: root, env: env, log: logFile}
	n.start(t)
	t.Cleanup(func() { n.Stop(t) })
	return n
}

func (n *node) start(t *testing.T) {
	t.Helper()
	n.goFile = filepath.Join(filepath.Dir(n.log), n.name+".go")
	os.Remove(n.goFile)
	lines := append([]string{"set -e"}, binfmtSetup(t, n.arch)...)
	lines = append(lines,
		`mount --bind "$1" "$1"`,
		"ip link set lo up",
		`mkdir -p "$1/proc" "$1/dev/net"`, `mount -t proc proc "$1/proc"`,
		`touch "$1/dev/null" "$1/dev/net/tun"`,
		`mount --bind /dev/null "$1/dev/null"`, `mount --bind /dev/net/tun "$1/dev/net/tun"`,
		// The socket dir is a tmpfs, as on the router: wiped on restart.
		`mount -t tmpfs -o size=1m tmpfs "$1/`+layout.SocketDir+`"`,
		// Wait (bounded) for the host to wire the network namespace.
		`i=0; while [ ! -e "$2" ]; do i=$((i+1)); [ $i -lt 600 ] || exit 97; sleep 0.1; done`,
	)
	env := append([]string{"env", "-i"}, n.arch.QemuEnv()...)
	for _, e := range n.env { // as a runtime passes them: any byte in a value
		env = append(env, bbQuote(e))
	}
	argv := n.argv
	if argv == nil {
		argv = layout.Entrypoint()
	}
	lines = append(lines, `exec `+strings.Join(env, " ")+` "$(command -v chroot)" "$1" `+strings.Join(argv, " "))
	logf, err := os.OpenFile(n.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	n.cmd = exec.Command("unshare", "--user", "--map-root-user", "--mount", "--pid", "--net", "--fork", "--kill-child",
		"--", "/bin/sh", "-c", strings.Join(lines, "\n"), "node-"+n.name, n.root, n.goFile)
	n.cmd.Stdout, n.cmd.Stderr = logf, logf
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logf.Close()
	n.pid = n.cmd.Process.Pid
	n.done = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { n.err = c.Wait(); close(done) }(n.cmd, n.done)
	poll(t, 20*time.Second, n.name+" namespaces", func() (bool, string) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", n.pid, n.pid))
		f := strings.Fields(string(b))
		if err != nil || len(f) == 0 {
			return false, fmt.Sprint(err)
		}
		n.child, _ = strconv.Atoi(f[0])
		return true, ""
	})
}

// Go lets the node's tailscaled start and waits until its LocalAPI
// answers.
func (n *node) Go(t *testing.T) {
	t.Helper()
	if err := os.WriteFile(n.goFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	poll(t, 90*time.Second, n.name+" tailscaled up", func() (bool, string) {
		select {
		case <-n.done:
			b, _ := os.ReadFile(n.log)
			t.Fatalf("%s exited (%v); log:\n%s", n.name, n.err, b)
		default:
		}
		r := n.Exec(10*time.Second, "tailscale", "status", "--json")
		return r.Err == nil, r.String()
	})
}

// Stop ends tailscaled (SIGTERM to the chroot's pid 1, which tailscaled
// handles; SIGKILL after 20 s) and waits for the namespaces to go.
func (n *node) Stop(t *testing.T) {
	if n.cmd == nil {
		return
	}
	if _, err := os.Stat(n.goFile); err == nil {
		syscall.Kill(n.child, syscall.SIGTERM)
	} else {
		// Still waiting in the shell (pid 1 ignores SIGTERM).
		n.cmd.Process.Kill()
	}
	select {
	case <-n.done:
	case <-time.After(20 * time.Second):
		n.cmd.Process.Kill()
		<-n.done
	}
	n.cmd = nil
}

// Exec runs argv inside the node: its user, mount and network namespaces
// and its chroot, with the image's PATH (qemu through the node's own
// binfmt_misc for arm).
func (n *node) Exec(timeout time.Duration, argv ...string) result {
	args, env := n.execArgv(argv...)
	return run(nil, "", env, timeout, args...)
}

// execArgv is the command line and environment that run argv inside the
// node, for callers that need the process itself (Exec waits for it).
func (n *node) execArgv(argv ...string) (args, env []string) {
	args = append([]string{"nsenter", "-t", strconv.Itoa(n.child), "-U", "-m", "-n", "-r", "-w", "--"}, argv...)
	return args, append(layout.Env(), n.arch.QemuEnv()...)
}

// MustExec is Exec that fails the test on error.
func (n *node) MustExec(t *testing.T, timeout time.Duration, argv ...string) string {
	t.Helper()
	r := n.Exec(timeout, argv...)
	if r.Err != nil {
		t.Fatalf("%s: %s: %s", n.name, strings.Join(argv, " "), r)
	}
	return r.Stdout
}

// serveHTTPIn serves HTTP on addr inside h's network namespace from this
// process: a locked thread enters the namespace and creates the listening
// socket (which stays in that namespace), then the thread is discarded.
// Every response is the peer address the server saw, so the test can
// tell SNAT from no SNAT.
func serveHTTPIn(t *testing.T, h nsHost, addr string) {
	t.Helper()
	type res struct {
		ln  net.Listener
		err error
	}
	c := make(chan res, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		f, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", h.netnsPID()))
		if err != nil {
			c <- res{err: err}
			return
		}
		defer f.Close()
		if _, _, e := syscall.RawSyscall(sysSetns(), f.Fd(), syscall.CLONE_NEWNET, 0); e != 0 {
			c <- res{err: fmt.Errorf("setns: %v", e)}
			return
		}
		ln, err := net.Listen("tcp", addr)
		c <- res{ln, err}
	}()
	r := <-c
	if r.err != nil {
		t.Fatalf("%s: listen %s: %v", h.hostName(), addr, r.err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		host, _, _ := net.SplitHostPort(req.RemoteAddr)
		fmt.Fprintf(w, "%s from %s\n", h.hostName(), host)
	})}
	go srv.Serve(r.ln)
	t.Cleanup(func() { srv.Close() })
}

// sysSetns is setns(2)'s number (the syscall package does not name it):
// the suite runs on amd64, arm64 hosts also work.
func sysSetns() uintptr {
	if runtime.GOARCH == "arm64" {
		return 268
	}
	return 308
}

// hostNetns is the test process's network namespace at start, before
// serveHTTPIn moves any thread (possibly the main one, which Go then
// keeps) into another: /proc/self/ns/net may not be the host's later.
var hostNetns, _ = os.Readlink("/proc/self/ns/net")
