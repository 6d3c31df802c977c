package tailnet

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Headscale's binary and config inside the control container.
const (
	HeadscaleBin        = "/usr/local/bin/headscale"
	HeadscaleConfigFile = HeadscaleDir + "/config.yaml"
)

// KeyValidity is how long the lab's pre-auth keys live: the engine caches
// the step that makes them, so they must outlive the cache.
const KeyValidity = "87600h"

// headscaleServer is a running `headscale serve`.
type headscaleServer struct {
	log  io.Writer
	cmd  *exec.Cmd
	done chan struct{}
}

func (h *headscaleServer) start() error {
	h.cmd = exec.Command(HeadscaleBin, "-c", HeadscaleConfigFile, "serve")
	h.cmd.Stdout, h.cmd.Stderr = h.log, h.log
	if err := h.cmd.Start(); err != nil {
		return err
	}
	h.done = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { c.Wait(); close(done) }(h.cmd, h.done)
	// Poll its CLI; give up at once if it exited (a config or policy it
	// refuses), with what it said in the log.
	for start := time.Now(); ; time.Sleep(500 * time.Millisecond) {
		select {
		case <-h.done:
			h.cmd = nil
			return fmt.Errorf("headscale exited at start (its log is above)")
		default:
		}
		o := hsCLI("health")
		if o.Err == nil {
			return nil
		}
		if time.Since(start) > 60*time.Second {
			return fmt.Errorf("headscale not healthy within 60 s: %s", o)
		}
	}
}

func (h *headscaleServer) stop() {
	if h.cmd == nil {
		return
	}
	h.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-h.done:
	case <-time.After(15 * time.Second):
		h.cmd.Process.Kill()
		<-h.done
	}
	h.cmd = nil
}

func hsCLI(args ...string) output {
	return run(30*time.Second, nil, append([]string{HeadscaleBin, "-c", HeadscaleConfigFile}, args...)...)
}

func hsJSON(v any, args ...string) error {
	o := hsCLI(append(args, "-o", "json")...)
	if o.Err != nil {
		return fmt.Errorf("headscale %s: %s", strings.Join(args, " "), o)
	}
	if err := json.Unmarshal([]byte(o.Stdout), v); err != nil {
		return fmt.Errorf("headscale %s: %v: %s", strings.Join(args, " "), err, o.Stdout)
	}
	return nil
}

// ControlInit prepares the control server once (a cached step): it
// starts Headscale on the config the shell wrote, creates the user and a
// reusable pre-auth key each for the router and the client, and stops.
// The database, Noise and DERP keys stay in HeadscaleDir.
func ControlInit(log io.Writer) error {
	h := &headscaleServer{log: log}
	if err := h.start(); err != nil {
		return err
	}
	defer h.stop()
	var u struct {
		ID uint64 `json:"id"`
	}
	if err := hsJSON(&u, "users", "create", User); err != nil {
		return err
	}
	if err := os.MkdirAll(KeysDir, 0o700); err != nil {
		return err
	}
	for _, path := range []string{RouterKey, ClientKey} {
		var k struct {
			Key string `json:"key"`
		}
		if err := hsJSON(&k, "preauthkeys", "create", "--user", fmt.Sprint(u.ID), "--reusable", "-e", KeyValidity); err != nil {
			return err
		}
		if k.Key == "" {
			return fmt.Errorf("headscale returned an empty pre-auth key")
		}
		if err := os.WriteFile(path, []byte(k.Key), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// ControlServe runs Headscale and, on AdminPort, takes CmdStop and
// CmdStart from the client: the outage check's switch.
func ControlServe(log io.Writer) error {
	h := &headscaleServer{log: log}
	if err := h.start(); err != nil {
		return err
	}
	var mu sync.Mutex
	return serveAdmin(func(cmd string) string {
		mu.Lock()
		defer mu.Unlock()
		switch cmd {
		case CmdStop:
			h.stop()
			return "stopped"
		case CmdStart:
			if h.cmd != nil {
				select {
				case <-h.done: // exited on its own: start it again
					h.cmd = nil
				default:
					return "running"
				}
			}
			if err := h.start(); err != nil {
				return "error: " + err.Error()
			}
			return "started"
		}
		return "error: unknown command " + cmd
	})
}

// serveAdmin answers one command line per connection on AdminPort with
// handle's reply.
func serveAdmin(handle func(string) string) error {
	l, err := listenAdmin()
	if err != nil {
		return err
	}
	return serve(l, handle)
}

// listenAdmin opens AdminPort.
func listenAdmin() (net.Listener, error) {
	return net.Listen("tcp", fmt.Sprintf(":%d", AdminPort))
}

// serve reads one command line per connection on l, writes handle's
// reply (one line, or CmdResults' whole text) and closes.
func serve(l net.Listener, handle func(string) string) error {
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		go func(c net.Conn) {
			defer c.Close()
			c.SetDeadline(time.Now().Add(2 * time.Minute))
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil && line == "" {
				return
			}
			reply := handle(strings.TrimSpace(line))
			if !strings.HasSuffix(reply, "\n") {
				reply += "\n"
			}
			io.WriteString(c, reply)
		}(c)
	}
}

// resultsHandler answers CmdResults: "pending" until the checks are
// done, then everything they printed.
func resultsHandler(get func() (string, bool)) func(string) string {
	return func(cmd string) string {
		if cmd != CmdResults {
			return "error: unknown command " + cmd
		}
		text, done := get()
		if !done {
			return pending
		}
		return text
	}
}

// pending is the client's answer while its checks run.
const pending = "pending"

// Results waits for the client's checks (bounded by timeout) and returns
// everything they printed.
func Results(timeout time.Duration) (string, error) {
	var text string
	_, err := poll(timeout, "the client's checks", func() (bool, string) {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(ClientHost, fmt.Sprint(AdminPort)), 10*time.Second)
		if err != nil {
			return false, err.Error()
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Minute))
		fmt.Fprintln(c, CmdResults)
		b, err := io.ReadAll(c)
		if err != nil {
			return false, err.Error()
		}
		text = string(b)
		return strings.TrimSpace(text) != pending, "still running"
	})
	return text, err
}

// Admin sends one command to host's AdminPort and returns the reply.
func Admin(host, cmd string, timeout time.Duration) (string, error) {
	c, err := net.DialTimeout("tcp", net.JoinHostPort(host, fmt.Sprint(AdminPort)), 10*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := fmt.Fprintln(c, cmd); err != nil {
		return "", err
	}
	reply, err := bufio.NewReader(c).ReadString('\n')
	reply = strings.TrimSpace(reply)
	if err != nil && reply == "" {
		return "", fmt.Errorf("%s %s: %w", host, cmd, err)
	}
	if strings.HasPrefix(reply, "error: ") {
		return reply, fmt.Errorf("%s %s: %s", host, cmd, reply)
	}
	return reply, nil
}
