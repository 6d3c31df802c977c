package tailnet

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// output is one command's result.
type output struct {
	Stdout, Stderr string
	Err            error
}

func (o output) String() string {
	s := strings.TrimSpace(o.Stdout + "\n" + o.Stderr)
	if o.Err != nil {
		s = o.Err.Error() + ": " + s
	}
	return s
}

// run runs argv with a deadline and the given extra environment.
func run(timeout time.Duration, env []string, argv ...string) output {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	if env != nil {
		cmd.Env = append(cmd.Environ(), env...)
	}
	// A child that keeps the pipes open must not hold Wait past the kill.
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%s: no answer within %s", strings.Join(argv, " "), timeout)
	}
	return output{Stdout: out.String(), Stderr: errb.String(), Err: err}
}

// poll calls f until it reports true or timeout passes; it returns how
// long that took, or an error with f's last detail. Every wait of the lab
// is one.
func poll(timeout time.Duration, what string, f func() (bool, string)) (time.Duration, error) {
	start := time.Now()
	for {
		ok, detail := f()
		if ok {
			return time.Since(start), nil
		}
		if time.Since(start) > timeout {
			return time.Since(start), fmt.Errorf("%s: not within %s; last: %s", what, timeout, detail)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
