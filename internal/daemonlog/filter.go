package daemonlog

import (
	"bytes"
	"io"
)

// This file is compiled into tailscaled as well (Source): standard library
// only, and names no package main of Tailscale's could already use.

// mikrotikLogFilter is the stderr half of logtail's Write, which this
// image compiles out: a line above the verbosity level is dropped, the
// level marker is cut, and control characters are escaped so that no
// line can carry a NUL or an escape sequence into the router's log.
type mikrotikLogFilter struct {
	out   io.Writer
	level func() int
}

var (
	mikrotikV1   = []byte("[v1] ")
	mikrotikV2   = []byte("[v2] ")
	mikrotikJSON = []byte("[v\x00JSON]")
	// The rate limiter (types/logger) quotes a format with %q, which
	// writes the NUL as text; every JSON record in 1.104.5 is level 1.
	mikrotikQuotedJSON = []byte(`[v\x00JSON]`)
)

// Write takes one line from the log package (it serializes writes).
func (f *mikrotikLogFilter) Write(p []byte) (int, error) {
	level, line := mikrotikLogLevel(p)
	if level > f.level() {
		return len(p), nil
	}
	_, err := f.out.Write(mikrotikPrintable(line))
	return len(p), err
}

// mikrotikLogLevel is logtail's reading of a line's level (tailscale.com/
// logtail, parseAndRemoveLogLevel): "[v1] " and "[v2] " anywhere mark
// levels 1 and 2 and are removed; "[v\x00JSON]" and a digit mark a
// structured record of that level, printed as its JSON after what came
// before the marker (the date, a prefix); else level 0.
// Unlike logtail, a "[RATELIMIT] format(...)" notice about a JSON record
// is level 1 too: it speaks of output the default never shows.
func mikrotikLogLevel(p []byte) (int, []byte) {
	if len(p) == 0 || p[0] == '{' || !bytes.Contains(p, []byte("[v")) {
		return 0, p
	}
	if bytes.Contains(p, mikrotikV1) {
		return 1, bytes.ReplaceAll(p, mikrotikV1, nil)
	}
	if bytes.Contains(p, mikrotikV2) {
		return 2, bytes.ReplaceAll(p, mikrotikV2, nil)
	}
	if before, after, ok := bytes.Cut(p, mikrotikJSON); ok && len(after) >= 2 && after[0] >= '0' && after[0] <= '9' {
		return int(after[0] - '0'), append(append([]byte{}, before...), after[1:]...)
	}
	if bytes.Contains(p, mikrotikQuotedJSON) {
		return 1, p
	}
	return 0, p
}

// mikrotikPrintable is p as one line ending in "\n", with every other
// control byte written as \xNN.
func mikrotikPrintable(p []byte) []byte {
	p = bytes.TrimSuffix(p, []byte("\n"))
	out := make([]byte, 0, len(p)+1)
	for _, c := range p {
		if c < 0x20 || c == 0x7f {
			out = append(out, '\\', 'x', "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
			continue
		}
		out = append(out, c)
	}
	return append(out, '\n')
}
