package main

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"dagger/mikrotik-tailscale/internal/suitereport"
)

// summary is the median and spread of repeated measurements.
type summary struct {
	N      int       `json:"n"`
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	Values []float64 `json:"values"`
}

func summarize(v []float64) summary {
	if len(v) == 0 {
		return summary{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return summary{N: len(s), Median: median(s), Min: s[0], Max: s[len(s)-1], Values: v}
}

// median of sorted values.
func median(s []float64) float64 {
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// spreadPct is (max-min)/median in percent: how much the repeats disagree.
func (s summary) spreadPct() float64 {
	if s.Median == 0 {
		return math.NaN()
	}
	return 100 * (s.Max - s.Min) / s.Median
}

// benchLine is one result line of `go test -bench` output.
type benchLine struct {
	Name    string             // without the -GOMAXPROCS suffix
	Iters   int64              // b.N
	Metrics map[string]float64 // unit → value ("ns/op", "MB/s", ...)
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

// parseBench reads the Benchmark lines of `go test -bench` output.
func parseBench(out string) []benchLine {
	var lines []benchLine
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		b := benchLine{Name: procsSuffix.ReplaceAllString(f[0], ""), Iters: n, Metrics: map[string]float64{}}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			b.Metrics[f[i+1]] = v
		}
		if _, ok := b.Metrics["ns/op"]; ok {
			lines = append(lines, b)
		}
	}
	return lines
}

// parseKB reads "Key:   123 kB" lines (/proc/PID/smaps_rollup, status).
func parseKB(text string) map[string]int {
	m := map[string]int{}
	for _, l := range strings.Split(text, "\n") {
		f := strings.Fields(l)
		if len(f) == 3 && f[2] == "kB" {
			if n, err := strconv.Atoi(f[1]); err == nil {
				m[strings.TrimSuffix(f[0], ":")] = n
			}
		}
	}
	return m
}

// compileFlags maps package import path → whether its compile command in
// `go build -n` output carries -l (inlining off).
func compileFlags(out string) (noInline map[string]bool, err error) {
	noInline = map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || !strings.HasSuffix(f[0], "/compile") {
			continue
		}
		pkg, l := "", false
		for i, a := range f {
			switch {
			case a == "-p" && i+1 < len(f):
				pkg = f[i+1]
			case a == "-l":
				l = true
			}
		}
		if pkg == "" {
			return nil, fmt.Errorf("compile command without -p: %s", strings.Join(f, " "))
		}
		noInline[pkg] = l
	}
	if len(noInline) == 0 {
		return nil, fmt.Errorf("no compile commands in go build -n output")
	}
	return noInline, nil
}

// mib formats bytes as MiB with two decimals.
func mib(b int64) string { return fmt.Sprintf("%.2f MiB", float64(b)/(1<<20)) }

// commas formats an integer with thousands separators.
func commas(n int64) string { return suitereport.Thousands(n) }
