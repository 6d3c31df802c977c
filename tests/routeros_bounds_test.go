package tests

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// What keeps a router from being left without updates (issue 35): the
// scheduler before the first run, a run the import does not wait on, the
// health probe bounded, extraction proven.

var (
	rosJobBusy   = `:if ([:len [/system/script/job find where script=update-tailscale]] > 0) do={` + "\n  :error "
	rosFirstRun  = `:execute script="/system/script run update-tailscale"`
	rosJobWait   = regexp.MustCompile(`:while \(\(\[:len \[/system/script/job find where script=update-tailscale\]\] > 0\) and \(\$(\w+) < (\d+)\)\) do=\{`)
	rosShell     = regexp.MustCompile(`/container/shell \$1 (timeout=(\d+) )?cmd=`)
	rosProbePoll = regexp.MustCompile(`\(\$n < (\d+)\)\) do=\{\n\s*:delay 500ms\n`)
)

// (r) first-deploy.rsc adds the scheduler before the updater's first run,
// starts that run in the background (:execute: neither its errors nor a
// closed terminal end the import), waits for it at most 30 min, and
// refuses to run at all while an updater job runs, before any change.
func rosCheckFirstRun(texts map[string]string) []string {
	var probs []string
	code := rosNoComments(texts[rosFirst])
	busy := strings.Index(code, rosJobBusy)
	if first := rosFirstCommand(code); busy < 0 || first < 0 || busy > first {
		probs = append(probs, rosFirst+": no `"+strings.TrimSpace(rosJobBusy)+"` before its first change")
	}
	sched, run := strings.Index(code, "/system/scheduler add name=update-tailscale"), strings.Index(code, rosFirstRun)
	if sched < 0 || run < 0 || run < sched {
		probs = append(probs, rosFirst+": the updater's first run is not "+rosFirstRun+" after the scheduler add")
	}
	// The scheduler's on-event and the :execute: no run the import waits on.
	if n := strings.Count(code, "/system/script run update-tailscale"); n != 2 {
		probs = append(probs, fmt.Sprintf("%s: %d runs of the updater, want the scheduler's and the background one", rosFirst, n))
	}
	m := rosJobWait.FindStringSubmatchIndex(code)
	if m == nil || m[0] < run {
		return append(probs, rosFirst+": no bounded wait for the updater's job after its first run")
	}
	v := code[m[2]:m[3]]
	limit, _ := strconv.Atoi(code[m[4]:m[5]])
	body := code[m[1]-1 : rosBlockEnd(code, m[1]-1)]
	if limit > 1800 || !strings.Contains(body, ":set "+v+" ($"+v+" + ") || !strings.Contains(body, ":delay ") {
		probs = append(probs, fmt.Sprintf("%s: the wait for the updater's job does not count $%s up to at most 1800 s (limit %d)", rosFirst, v, limit))
	}
	return probs
}

// (s) The health probe ends: every /container/shell has timeout= of at
// most 30 s, its answer is polled 10 to 30 s, and the health wait counts
// a probe that got no answer as the 20 s it took at most.
func rosCheckProbeBounded(texts map[string]string) []string {
	var probs []string
	u := rosNoComments(texts[rosUpdater])
	shells := rosShell.FindAllStringSubmatch(u, -1)
	calls := len(regexp.MustCompile(`/container/shell \$`).FindAllString(u, -1))
	if len(shells) == 0 || len(shells) != calls {
		probs = append(probs, fmt.Sprintf("%s: %d /container/shell calls, %d of them in the probe's form", rosUpdater, calls, len(shells)))
	}
	for _, s := range shells {
		if n, err := strconv.Atoi(s[2]); err != nil || n < 1 || n > 30 {
			probs = append(probs, rosUpdater+": /container/shell without a timeout= of 1 to 30 s: "+s[0])
		}
	}
	probe := rosFunc(u, "probe")
	poll := rosProbePoll.FindStringSubmatch(probe)
	if poll == nil {
		return append(probs, rosUpdater+": the probe does not poll its answer every 500 ms")
	}
	if n, _ := strconv.Atoi(poll[1]); n < 20 || n > 60 {
		probs = append(probs, fmt.Sprintf("%s: the probe polls its answer %d × 500 ms, want 10 to 30 s", rosUpdater, n))
	}
	if !strings.Contains(rosSection(texts[rosUpdater], "update:"), `:if (($why = "/container/shell failed") or ([:pick $why 0 10] = "no answer ")) do={ :set n ($n + 4) }`) {
		probs = append(probs, rosUpdater+": the health wait does not count a probe without an answer as 4 of its steps")
	}
	for _, why := range []string{`:set why "/container/shell failed"`, `:set why ("no answer in " . $out)`} {
		if !strings.Contains(probe, why) {
			probs = append(probs, rosUpdater+": the probe no longer says "+why)
		}
	}
	return probs
}

// (t) Extracted needs evidence: waitExtracted is done only once it saw
// downloading/extracting or the container has an image-id or layers.
func rosCheckExtracted(texts map[string]string) []string {
	var probs []string
	u := rosNoComments(texts[rosUpdater])
	st, wait := rosFunc(u, "ctState"), rosFunc(u, "waitExtracted")
	for _, need := range []struct{ in, text, what string }{
		{st, `:set ($s->"image") (([:len [:tostr ($a->"image-id")]] > 0) or ([:len [:tostr ($a->"layers")]] > 0))`, "ctState's image"},
		{wait, `:if ($s->"extracting") do={ :set seen true }`, "waitExtracted's seen"},
		{wait, `:if (!($s->"extracting") and ($seen or ($s->"image")) and (($s->"stopped") or ($s->"live"))) do={ :set done true }`, "waitExtracted's done"},
	} {
		if !strings.Contains(need.in, need.text) {
			probs = append(probs, rosUpdater+": "+need.what+" is not "+need.text)
		}
	}
	if strings.Count(wait, ":set done true") != 3 {
		probs = append(probs, rosUpdater+": waitExtracted ends in more ways than gone, failed or extracted")
	}
	return probs
}

// (u) No failure waits 6 h with no container running, and none retries
// for ever: each path that leaves none running (the first deployment that
// did not start or was refused, the candidate that would not stop even
// killed, the old one or the new one that would not start, the retry's
// start that failed) sets $dark; $dark adds a retry entry every at most
// 5 min, which goes after at most an hour of runs ($retryMax, read from
// its run-count) and as soon as a retry run leaves one running; only a
// retry run starts a stopped container (one the owner stopped stays
// stopped); the candidate that does not stop is killed before the old one
// is left stopped, the old one that does not stop before finish starts
// the new one, which never starts beside it.
func rosCheckDarkRetry(texts map[string]string) []string {
	var probs []string
	raw := texts[rosUpdater]
	u := rosNoComments(raw)
	undo := rosBlockAfter(u, `:if ($action = "undo") do={`)
	finish := rosBlockAfter(u, `:if ($action = "finish") do={`)
	first := rosNoComments(rosSection(raw, "first deployment:"))
	retry := rosNoComments(rosSection(raw, "retry:"))
	paths := []struct{ in, after, what string }{
		{first, `$warn ($digest . " did not start (try " . $tries . " of " . $maxTries . "): " . $why)`, "first deployment: it did not start"},
		{first, `$warn "RouterOS did not accept the container (see /log); nothing else changed"`, "first deployment: the add was refused"},
		{undo, `$warn ("could not start " . $ctName . " again: see /container/print")`, "undo: the old one did not start"},
		{undo, `$warn ($nextName . " did not stop, even killed: " . $ctName . " is not started beside it")`, "undo: the candidate did not stop"},
		{finish, `$warn ($nextName . " did not start again: see /container/print")`, "finish: the new one did not start"},
		{retry, `:if ([$startCt $ct st=$ctState]) do={ $log ($ctName . " runs again") } else={`, "retry: the start failed"},
	}
	for _, c := range paths {
		i := strings.Index(c.in, c.after)
		if i < 0 || !strings.HasPrefix(strings.TrimSpace(c.in[i+len(c.after):]), ":set dark true") {
			probs = append(probs, rosUpdater+": "+c.what+" does not set $dark")
		}
	}
	if n := strings.Count(u, ":set dark true"); n != len(paths) {
		probs = append(probs, fmt.Sprintf("%s: $dark is set %d times, want the %d dark paths", rosUpdater, n, len(paths)))
	}
	add := regexp.MustCompile(`:if \(\$dark\) do=\{\n\s*:if \(\[:len \$rs\] = 0\) do=\{\n\s*:do \{\n\s*/system/scheduler add name=\$retryName interval=(\d+)m on-event="/system/script run update-tailscale"`).FindStringSubmatch(u)
	max := regexp.MustCompile(`:local retryMax (\d+)\n`).FindStringSubmatch(u)
	switch {
	case add == nil || max == nil:
		probs = append(probs, rosUpdater+": $dark does not add the retry entry when there is none, or $retryMax is not set")
	default:
		every, _ := strconv.Atoi(add[1])
		n, _ := strconv.Atoi(max[1])
		if every < 1 || every > 5 || n < 1 || every*n > 60 {
			probs = append(probs, fmt.Sprintf("%s: retries every %d min, %d of them: want at most 5 min apart, an hour in all", rosUpdater, every, n))
		}
	}
	for _, need := range []struct{ text, what string }{
		{`:local rs [/system/scheduler find where name=$retryName]` + "\n:if ($dark) do={", "the end reads the entry"},
		{`:if ([/system/scheduler get ($rs->0) run-count] >= $retryMax) do={` + "\n      /system/scheduler remove $rs", "the entry goes after $retryMax runs"},
		{"} else={\n  :if ($retry and ([:len $rs] > 0)) do={ /system/scheduler remove $rs }\n}", "the entry goes once a retry leaves one running"},
	} {
		if !strings.Contains(u, need.text) {
			probs = append(probs, rosUpdater+": "+need.what+": no "+need.text)
		}
	}
	flag := `:if ($go and ([:len [/system/scheduler find where name=$retryName]] > 0)) do={ :set retry true }`
	if i, rec := strings.Index(raw, flag), strings.Index(raw, "# --- recovery"); i < 0 || rec < 0 || i > rec {
		probs = append(probs, rosUpdater+": a run does not know it is a retry before it acts")
	}
	if !strings.HasPrefix(strings.TrimSpace(retry), `:if ($retry and ($action = "")) do={`) {
		probs = append(probs, rosUpdater+": the retry's start is not only for a retry run with nothing else to do")
	}
	if !strings.Contains(undo, ":if (!$clear) do={\n      :do { /container/kill $new signal=9-SIGKILL }") {
		probs = append(probs, rosUpdater+": undo does not kill a candidate that did not stop")
	}
	// Finish: an old one that does not stop is killed, and the new one is
	// never started beside one that still runs.
	if !strings.Contains(finish, ":if (![$waitStopped $old 60 st=$ctState]) do={\n        :do { /container/kill $old signal=9-SIGKILL }") {
		probs = append(probs, rosUpdater+": finish does not kill an old container that did not stop")
	}
	if !strings.Contains(finish, `:if (!([$ctState $new]->"live") and !([$ctState $old]->"live") and ![$startCt $new st=$ctState]) do={`) {
		probs = append(probs, rosUpdater+": finish may start the new container beside an old one that runs")
	}
	return probs
}
