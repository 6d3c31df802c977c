package tests

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"dagger/mikrotik-tailscale/internal/layout"
)

// The first hour on a router (docs/USAGE.md sections 1 and 4): device
// mode, the container's entry point, the router-wide registry settings.

// rosDeviceModeFeatures are what the image needs device mode to allow:
// container, fetch (the updater's registry check), scheduler (its runs).
// Each is an argument of /system/device-mode/update in every stable
// RouterOS 7.21 to 7.24 (tikoci/restraml inspect.json dumps, system >
// device-mode > update; ../shared/reference/routeros-inspect).
var rosDeviceModeFeatures = []string{"container", "fetch", "scheduler"}

// rosDeviceModeCommand is the one command that allows the features in off.
func rosDeviceModeCommand(off []string) string {
	cmd := "/system/device-mode/update"
	for _, f := range off {
		cmd += " " + f + "=yes"
	}
	return cmd
}

// rosFirstCommand is where text's first top-level command (a line that
// starts with "/") begins, or -1: what comes before it changes nothing.
func rosFirstCommand(text string) int {
	if loc := rosTopCommand.FindStringIndex(text); loc != nil {
		return loc[0]
	}
	return -1
}

var (
	rosTopCommand = regexp.MustCompile(`(?m)^/`)
	rosDMRead     = regexp.MustCompile(`:if \(!\[\$on \[/system/device-mode get (\w+)\]\]\) do=\{ :set (\w+) \(\$(\w+) \. " (\w+)=yes"\) \}`)
	rosDMStop     = regexp.MustCompile(`(?s):if \(\[:len \$(\w+)\] > 0\) do=\{\n\s*(:error|:log error) (\(.*?\))\n`)
	rosOnFunc     = `:local on do={ :return (($1 = true) or ($1 = "yes") or ($1 = "true")) }`
)

// (o) Both scripts read each feature from device mode before they act and,
// for every set of features turned off, stop with the one update command
// that turns on exactly those (mirrored here and evaluated from the
// script's own message); first-deploy.rsc before any change at all.
func rosCheckDeviceMode(texts map[string]string) []string {
	var probs []string
	for _, rel := range []string{rosFirst, rosUpdater} {
		text := rosNoComments(texts[rel])
		if !strings.Contains(text, rosOnFunc) {
			probs = append(probs, rel+": no $on reading yes/true as allowed")
		}
		var read []string
		acc := ""
		for _, m := range rosDMRead.FindAllStringSubmatch(text, -1) {
			if m[1] != m[4] || m[2] != m[3] || (acc != "" && m[2] != acc) {
				probs = append(probs, rel+": a device-mode read that does not add its own feature: "+m[0])
			}
			acc = m[2]
			read = append(read, m[1])
		}
		if !slices.Equal(read, rosDeviceModeFeatures) {
			probs = append(probs, fmt.Sprintf("%s: reads device mode %q, want %q", rel, read, rosDeviceModeFeatures))
			continue
		}
		stop := rosDMStop.FindStringSubmatchIndex(text)
		if stop == nil || text[stop[2]:stop[3]] != acc {
			probs = append(probs, rel+": no stop when $"+acc+" is not empty")
			continue
		}
		msg := strings.Join(strings.Fields(strings.ReplaceAll(text[stop[6]:stop[7]], "\\\n", " ")), " ")
		for mask := 1; mask < 1<<len(read); mask++ {
			var off []string
			val := ""
			for i, f := range read {
				if mask&(1<<i) != 0 {
					off = append(off, f)
					val += " " + f + "=yes"
				}
			}
			got, err := rosEval(msg, map[string]string{acc: val})
			if err != nil {
				probs = append(probs, rel+": "+err.Error())
				break
			}
			want := rosDeviceModeCommand(off)
			if !strings.Contains(got, want+" ") || strings.Count(got, "=yes") != len(off) {
				probs = append(probs, fmt.Sprintf("%s: with %v off it says %q, not the command %q", rel, off, got, want))
			}
			if !strings.Contains(got, "nothing changed") || !strings.Contains(got, "reset button") {
				probs = append(probs, rel+": the message does not say nothing changed and how to confirm: "+got)
			}
		}
		// It stops: first-deploy.rsc with :error, the updater through $go,
		// which every later section checks.
		open := stop[0] + strings.Index(text[stop[0]:], "{")
		end := rosBlockEnd(text, open)
		switch {
		case rel == rosFirst && (end < 0 || !strings.Contains(text[open:end], ":error ")):
			probs = append(probs, rel+": says device mode is off but does not stop")
		case rel == rosUpdater && !strings.Contains(text, ":local go ([:len $"+acc+"] = 0)\n"):
			probs = append(probs, rel+": says device mode is off but $go does not stop the run")
		}
		// Before any command that changes something: in first-deploy.rsc
		// before its first top-level command, in the updater before its
		// first section that acts.
		before := texts[rel][:strings.Index(texts[rel], "/system/device-mode get")]
		for _, l := range rosLogical(rosCode(before), false) {
			if strings.HasPrefix(strings.TrimSpace(l), "/") {
				probs = append(probs, rel+": runs "+strings.TrimSpace(l)+" before reading device mode")
			}
		}
		if rel == rosUpdater {
			if i := strings.Index(texts[rel], "# --- recovery"); i < 0 || strings.Index(texts[rel], "/system/device-mode get") > i {
				probs = append(probs, rel+": reads device mode after it starts to act")
			}
		} else {
			code := rosCode(texts[rel])
			if first := rosFirstCommand(code); first < 0 || strings.Index(code, "device-mode") > first {
				probs = append(probs, rel+": a command runs before the device-mode stop")
			}
		}
	}
	if !strings.Contains(texts[rosUsage], rosDeviceModeCommand(rosDeviceModeFeatures)) {
		probs = append(probs, rosUsage+" does not give "+rosDeviceModeCommand(rosDeviceModeFeatures))
	}
	return probs
}

// (p) Every container the docs and scripts add names the start script as
// its entrypoint (RouterOS 7.22+ may not read the image's), the updater's
// first deployment and updates included: one it copies without one gets
// it, one with its own keeps it.
func rosCheckEntrypoint(texts map[string]string) []string {
	var probs []string
	want := "entrypoint=" + layout.RouterEntrypoint
	if layout.Entrypoint()[0] != layout.RouterEntrypoint {
		probs = append(probs, "the image's entrypoint is not the one the router names")
	}
	n := 0
	for _, rel := range []string{rosUsage, rosFirst} {
		for _, l := range rosLogical(texts[rel], true) {
			if strings.Contains(l, "/container add ") || strings.Contains(l, "/container/add ") {
				n++
				if !strings.Contains(l, want+" ") {
					probs = append(probs, rel+": a container add without "+want+": "+strings.TrimSpace(l))
				}
			}
		}
	}
	if n < 3 {
		probs = append(probs, fmt.Sprintf("found only %d container adds in the docs", n))
	}
	u := texts[rosUpdater]
	if !strings.Contains(u, `:set ($first->"entrypoint") "`+layout.RouterEntrypoint+`"`) {
		probs = append(probs, rosUpdater+": the first deployment does not name "+layout.RouterEntrypoint)
	}
	if !strings.Contains(u, `:local entry "`+layout.RouterEntrypoint+`"`) {
		probs = append(probs, rosUpdater+": $entry is not "+layout.RouterEntrypoint)
	}
	upd := rosSection(u, "update")
	get := strings.Index(upd, ":local settings [/container/get $old]")
	set := strings.Index(upd, `:if ([:len [:tostr ($settings->"entrypoint")]] = 0) do={ :set ($settings->"entrypoint") $entry }`)
	add := strings.Index(upd, ":local add (")
	if get < 0 || set < get || add < set {
		probs = append(probs, rosUpdater+": an update does not give a container without entrypoint= the start script before the add")
	}
	if allow, err := rosAllowList(u); err != nil || !slices.Contains(allow, "entrypoint") {
		probs = append(probs, rosUpdater+": entrypoint is not copied")
	}
	return probs
}

// (q) first-deploy.rsc changes registry-url only where it is unset or no
// other container uses it, and tmpdir only where it is unset; otherwise it
// stops before anything changed (registry-url) or keeps it (tmpdir), and
// says so.
func rosCheckRouterWide(texts map[string]string) []string {
	var probs []string
	text := rosNoComments(texts[rosFirst])
	for _, need := range []string{
		`:local setUrl (([:len $curUrl] = 0) or ($others = 0))`,
		`:if ((!$setUrl) and ($curUrl != $registryUrl) and ($curUrl != ($registryUrl . "/"))) do={` + "\n  :error (",
		`:if (($n != "tailscale") and ($n != "tailscale-next")) do={ :set others ($others + 1) }`,
	} {
		if !strings.Contains(text, need) {
			probs = append(probs, rosFirst+": lacks "+need)
		}
	}
	code := rosCode(texts[rosFirst])
	for prop, guard := range map[string]string{
		"registry-url": `:if ($setUrl and ($curUrl != $registryUrl)) do={`,
		"tmpdir":       `:if ([:len $curTmp] = 0) do={`,
	} {
		sets := regexp.MustCompile(`/container/config set [^\n]*`+prop+`=`).FindAllStringIndex(code, -1)
		if len(sets) != 1 {
			probs = append(probs, fmt.Sprintf("%s: %d sets of %s, want 1", rosFirst, len(sets), prop))
			continue
		}
		if in := rosInnermost(code, sets[0][0]); in != guard {
			probs = append(probs, fmt.Sprintf("%s: %s is set inside %q, not %q", rosFirst, prop, in, guard))
		}
	}
	if stop, net := strings.Index(text, "other container(s) may pull from it"), strings.Index(text, "/interface/veth add"); stop < 0 || stop > net {
		probs = append(probs, rosFirst+": the registry-url stop is not before the first change")
	}
	return probs
}
