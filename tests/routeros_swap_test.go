package tests

// The updater's container writes, checked on a model: the swap's order
// (the old container removed only after the new one passed), the reboot
// invariant after every write, the first-deployment marker, and
// first-deploy.rsc's re-runs. The checks are listed in routeros_test.go.

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// rosOp is one write the model follows.
type rosOp struct{ kind, who, val string }

var (
	rosOpRe = regexp.MustCompile(`^(?:/container/add name=" \. \[\$cli \$(ctName|nextName)\] \. " start-on-boot=(yes|no)` +
		`|/container/set \$(old|new) start-on-boot=(yes|no)` +
		`|/container/(?:stop|kill) \$(old|new|ct)` +
		`|\$startCt \$(old|new|ct)` +
		`|\$removeCt \$(old|new|ct)` +
		`|/container/set \$new name=\$ctName)`)
	rosWriteRe   = regexp.MustCompile(`/container/(?:add|set|start|stop|kill|remove)\b|\$(?:startCt|removeCt)\b`)
	rosCommentOK = regexp.MustCompile(`^/container/set \$(?:old|new|ct) comment=`)
)

// rosOps are the container writes of a part of the updater, in text order;
// a write the model does not know is a problem.
func rosOps(part, where string) ([]rosOp, []string) {
	var ops []rosOp
	var probs []string
	who := func(s string) string {
		if s == "new" || s == "nextName" {
			return "new"
		}
		return "old"
	}
	for _, loc := range rosWriteRe.FindAllStringIndex(part, -1) {
		rest := part[loc[0]:]
		m := rosOpRe.FindStringSubmatch(rest)
		switch {
		case m == nil && rosCommentOK.MatchString(rest):
		case m == nil:
			line, _, _ := strings.Cut(rest, "\n")
			probs = append(probs, where+": a container write the model does not know: "+line)
		case m[1] != "":
			ops = append(ops, rosOp{"add", who(m[1]), m[2]})
		case m[3] != "":
			ops = append(ops, rosOp{"sob", who(m[3]), m[4]})
		case m[5] != "":
			ops = append(ops, rosOp{"stop", who(m[5]), ""})
		case m[6] != "":
			ops = append(ops, rosOp{"start", who(m[6]), ""})
		case m[7] != "":
			ops = append(ops, rosOp{"remove", who(m[7]), ""})
		default:
			ops = append(ops, rosOp{"rename", "new", ""})
		}
	}
	return ops, probs
}

// rosCt and rosWorld: the containers as the model sees them.
type rosCt struct{ exists, sob, running, named bool }

type rosWorld struct {
	c      map[string]rosCt
	proven bool // the new container passed its health check
}

func (w rosWorld) clone() rosWorld {
	c := map[string]rosCt{}
	for k, v := range w.c {
		c[k] = v
	}
	return rosWorld{c, w.proven}
}

func (w rosWorld) count(f func(rosCt) bool) int {
	n := 0
	for _, c := range w.c {
		if c.exists && f(c) {
			n++
		}
	}
	return n
}

func (w rosWorld) String() string {
	var s []string
	for _, k := range []string{"old", "new"} {
		if c := w.c[k]; c.exists {
			s = append(s, fmt.Sprintf("%s(sob=%v run=%v named=%v)", k, c.sob, c.running, c.named))
		}
	}
	return strings.Join(s, " ")
}

// apply makes one write; a violation of the swap's rules is returned.
func (w *rosWorld) apply(op rosOp) string {
	c := w.c[op.who]
	other := w.c[map[string]string{"old": "new", "new": "old"}[op.who]]
	switch op.kind {
	case "add":
		c = rosCt{exists: true, sob: op.val == "yes", named: op.who == "old"}
	case "sob":
		c.sob = c.exists && op.val == "yes"
	case "stop":
		c.running = false
	case "start":
		if c.exists && !c.running && other.exists && other.running {
			return "starts " + op.who + " while the other runs (one veth, one network namespace)"
		}
		c.running = c.exists
	case "remove":
		if op.who == "old" && c.exists && !w.proven {
			return "removes the old container before the new one passed its health check"
		}
		c = rosCt{}
	case "rename":
		if !w.c["old"].exists {
			c.named = true
		}
	}
	w.c[op.who] = c
	return ""
}

// rosModel is the updater's swap as the model runs it.
type rosModel struct {
	update, undo, finish, first, retry []rosOp
	ruleNeg                            bool   // the rule tests !sob
	ruleThen, ruleElse                 string // the actions of its two branches
}

// isGap: ops[i] takes start-on-boot from the old container and the very
// next write gives it to the new one.
func isGap(ops []rosOp, i int) bool {
	return ops[i] == rosOp{"sob", "old", "no"} && i+1 < len(ops) && ops[i+1] == rosOp{"sob", "new", "yes"}
}

// run makes ops from w, checking after each write that at most one
// container starts on boot (exactly one, but in the gap) and, if boot is
// set, what a reboot there leads to.
func (m rosModel) run(w rosWorld, ops []rosOp, where string, boot bool) (rosWorld, []string) {
	w = w.clone()
	var probs []string
	for i, op := range ops {
		at := fmt.Sprintf("%s, after %s %s %s", where, op.kind, op.who, op.val)
		if v := w.apply(op); v != "" {
			probs = append(probs, at+": "+v)
		}
		switch n := w.count(func(c rosCt) bool { return c.sob }); {
		case n > 1:
			probs = append(probs, at+": two containers start on boot: "+w.String())
		case n == 0 && !isGap(ops, i) && w.count(func(rosCt) bool { return true }) > 0:
			probs = append(probs, at+": no container starts on boot: "+w.String())
		}
		if boot {
			probs = append(probs, m.reboot(w, isGap(ops, i), at)...)
		}
	}
	return w, probs
}

// reboot: what starts at boot, then the recovery run, must end with one
// container named $ctName that starts on boot and runs.
func (m rosModel) reboot(w rosWorld, gap bool, where string) []string {
	w = w.clone()
	where += ", reboot"
	for k, c := range w.c {
		c.running = c.exists && c.sob
		w.c[k] = c
	}
	var probs []string
	if n := w.count(func(c rosCt) bool { return c.running }); n > 1 || n == 0 && !gap {
		probs = append(probs, fmt.Sprintf("%s: %d containers start: %s", where, n, w))
	}
	w, p := m.recover(w, where)
	return append(append(probs, p...), rosSettled(w, where)...)
}

// recover is the recovery block: the rule picks undo or finish.
func (m rosModel) recover(w rosWorld, where string) (rosWorld, []string) {
	if !w.c["new"].exists {
		return w, nil
	}
	action := m.ruleElse
	if w.c["old"].exists && w.c["new"].sob != m.ruleNeg {
		action = m.ruleThen
	}
	ops := map[string][]rosOp{"undo": m.undo, "finish": m.finish}[action]
	return m.run(w, ops, where+", recovery "+action, false)
}

func rosSettled(w rosWorld, where string) []string {
	if w.count(func(rosCt) bool { return true }) != 1 || w.count(func(c rosCt) bool { return c.sob && c.running && c.named }) != 1 {
		return []string{where + ": does not end with one container named $ctName that starts on boot and runs: " + w.String()}
	}
	return nil
}

var rosRule = regexp.MustCompile(`:if \(\(\[:typeof \$old\] = "id"\) and (!?)\(\[\$ctState \$new\]->"sob"\)\) do=\{`)

type rosPart struct{ name, text string }

// rosModelParts are the parts of the updater that write to containers.
func rosModelParts(raw string) []rosPart {
	return []rosPart{
		{"first deployment", rosNoComments(rosSection(raw, "first deployment:"))},
		{"update", rosNoComments(rosSection(raw, "update:"))},
		{"undo", rosBlockAfter(rosNoComments(raw), `:if ($action = "undo") do={`)},
		{"finish", rosBlockAfter(rosNoComments(raw), `:if ($action = "finish") do={`)},
		{"retry", rosNoComments(rosSection(raw, "retry:"))},
	}
}

// rosModelOf reads the model from the updater.
func rosModelOf(raw string) (rosModel, []string) {
	var m rosModel
	var probs []string
	parts := rosModelParts(raw)
	for i, ops := range []*[]rosOp{&m.first, &m.update, &m.undo, &m.finish, &m.retry} {
		p := parts[i]
		if p.text == "" {
			probs = append(probs, "cannot find the "+p.name+" part")
			continue
		}
		var pp []string
		*ops, pp = rosOps(p.text, p.name)
		probs = append(probs, pp...)
	}
	rec := rosNoComments(rosSection(raw, "recovery:"))
	if ops, _ := rosOps(rec, "recovery"); len(ops) > 0 {
		probs = append(probs, "recovery writes to containers itself; it should only choose undo or finish")
	}
	loc := rosRule.FindStringSubmatchIndex(rec)
	if loc == nil {
		return m, append(probs, "recovery: no `:if (([:typeof $old] = \"id\") and !([$ctState $new]->\"sob\")) do={`")
	}
	m.ruleNeg = loc[3] > loc[2]
	open := loc[1] - 1
	end := rosBlockEnd(rec, open)
	action := regexp.MustCompile(`:set action "(undo|finish)"`)
	if end < 0 || !strings.HasPrefix(rec[end:], " else={") {
		return m, append(probs, "recovery: the rule has no else branch")
	}
	then, other := action.FindStringSubmatch(rec[open:end]), action.FindStringSubmatch(rec[end:rosBlockEnd(rec, end+len(" else="))])
	if then == nil || other == nil {
		return m, append(probs, "recovery: a branch of the rule sets no action")
	}
	m.ruleThen, m.ruleElse = then[1], other[1]
	return m, probs
}

// (k) The reboot invariant: the model runs the first deployment, and the
// update with an undo after every write of it, and the finish; after
// every write at most one container starts on boot, exactly one but for
// the handover between two adjacent commands; the two never run at once;
// the old one goes only after the new one passed; and a reboot after any
// write, then the run at boot, ends with one container that starts on
// boot, runs and has the name.
func rosCheckReboot(texts map[string]string) []string {
	m, probs := rosModelOf(texts[rosUpdater])
	if len(probs) > 0 {
		return probs
	}
	for _, p := range []struct {
		ops  []rosOp
		name string
	}{{m.first, "first deployment"}, {m.update, "update"}} {
		if !slices.ContainsFunc(p.ops, func(o rosOp) bool { return o.kind == "add" }) {
			probs = append(probs, p.name+": no container add")
		}
	}
	// Every container write is in a part the model runs, or in startCt and
	// removeCt (whose calls it follows).
	raw := texts[rosUpdater]
	u := rosNoComments(raw)
	writes := func(s string) int { return len(rosWriteRe.FindAllString(s, -1)) }
	in := writes(rosFunc(u, "startCt")) + writes(rosFunc(u, "removeCt"))
	for _, p := range rosModelParts(raw) {
		in += writes(p.text)
	}
	if n := writes(u); n != in {
		probs = append(probs, fmt.Sprintf("%d container writes, %d of them where the model follows them", n, in))
	}
	empty := rosWorld{c: map[string]rosCt{}}
	w, p := m.run(empty, m.first, "first deployment", true)
	probs = append(append(probs, p...), rosSettled(w, "first deployment")...)

	start := rosWorld{c: map[string]rosCt{"old": {exists: true, sob: true, running: true, named: true}}}
	w = start.clone()
	for i := 0; i <= len(m.update); i++ {
		where := "update, undo before any write"
		if i > 0 {
			op := m.update[i-1]
			where = fmt.Sprintf("update, undo after %s %s %s", op.kind, op.who, op.val)
			var p []string
			w, p = m.run(w, m.update[i-1:i], "update", true)
			probs = append(probs, p...)
		}
		undone, p := m.run(w, m.undo, where, true)
		probs = append(append(probs, p...), rosSettled(undone, where)...)
	}
	w.proven = true
	w, p = m.run(w, m.finish, "finish", true)
	probs = append(append(probs, p...), rosSettled(w, "finish")...)
	// The retry run after a failure left the old container stopped.
	stopped := rosWorld{c: map[string]rosCt{"old": {exists: true, sob: true, named: true}}}
	if !slices.ContainsFunc(m.retry, func(o rosOp) bool { return o.kind == "start" && o.who == "old" }) {
		probs = append(probs, "retry: does not start the container")
	}
	w, p = m.run(stopped, m.retry, "retry", true)
	probs = append(append(probs, p...), rosSettled(w, "retry")...)
	sort.Strings(probs)
	return slices.Compact(probs)
}

// (l) The order of the swap as text: the old container is removed only in
// the finish block; finish is chosen in the update only inside the
// `:if ($healthy)` after the health wait; an error on the way ends in
// undo; starts and removes go through startCt and removeCt.
func rosCheckSwapOrder(texts map[string]string) []string {
	u := rosNoComments(texts[rosUpdater])
	code := rosCode(u)
	var probs []string
	finish := rosBlockAfter(u, `:if ($action = "finish") do={`)
	for _, c := range []struct{ what, inside, where string }{
		{"/container/remove", rosFunc(u, "removeCt"), "removeCt"},
		{"/container/start", rosFunc(u, "startCt"), "startCt"},
		{"$removeCt $old", finish, "the finish block"},
	} {
		if n, in := strings.Count(code, c.what), strings.Count(rosCode(c.inside), c.what); n == 0 || n != in {
			probs = append(probs, fmt.Sprintf("%s appears %d times, %d of them in %s: want all there", c.what, n, in, c.where))
		}
	}
	up := rosNoComments(rosSection(texts[rosUpdater], "update:"))
	fin := `:set action "finish"`
	wait := strings.Index(up, ":while ((!$healthy)")
	switch at := strings.Index(up, fin); {
	case strings.Count(up, fin) != 1 || at < 0:
		probs = append(probs, fmt.Sprintf("the update chooses finish %d times, want once", strings.Count(up, fin)))
	case wait < 0 || at < wait:
		probs = append(probs, "the update chooses finish before its health wait")
	case rosInnermost(up, at) != ":if ($healthy) do={":
		probs = append(probs, "the update chooses finish inside "+rosInnermost(up, at)+", not `:if ($healthy) do={`")
	}
	if n := strings.Count(u, fin); n != 2 {
		probs = append(probs, fmt.Sprintf("finish is chosen %d times: want the update and the recovery only", n))
	}
	// An error between stopping the old container and the end of the
	// health wait must end in undo, not in a router left without one.
	guarded := false
	stop, at := strings.Index(up, "/container/stop $old"), strings.Index(up, fin)
	for i := strings.Index(up, ":do {"); i >= 0 && stop >= 0; {
		end := rosBlockEnd(up, i+len(":do "))
		if i < stop && end > at && strings.HasPrefix(up[max(end, 0):], ` on-error={ :set action "undo";`) {
			guarded = true
		}
		next := strings.Index(up[i+1:], ":do {")
		if next < 0 {
			break
		}
		i += next + 1
	}
	if !guarded {
		probs = append(probs, "the update's stop, start and health wait are not inside `:do {...} on-error={ :set action \"undo\"; ...}`")
	}
	return probs
}

// (m) The first deployment only where none ever was: a marker file, written
// once a container exists, stops a run that finds no container.
func rosCheckMarker(texts map[string]string) []string {
	raw := texts[rosUpdater]
	u := rosNoComments(raw)
	var probs []string
	mark := rosNoComments(rosSection(raw, "marker:"))
	first := rosNoComments(rosSection(raw, "first deployment:"))
	stop := rosBlockAfter(mark, `:if ($go and ([:typeof $old] != "id") and ([:len [/file/find where name=$marker]] > 0)) do={`)
	if !strings.Contains(stop, ":set go false") || !strings.Contains(stop, "$warn ") {
		probs = append(probs, "no marker check that warns and stops when the container is missing")
	}
	if !strings.Contains(rosBlockAfter(mark, `:if ($go and ([:typeof $old] = "id") and ([:len [/file/find where name=$marker]] = 0)) do={`), "/file/add name=$marker") {
		probs = append(probs, "the marker is not written on a router that has the container")
	}
	if !strings.HasPrefix(strings.TrimSpace(first), `:if ($go and ([:typeof $old] != "id")) do={`) {
		probs = append(probs, "the first deployment does not start with `:if ($go and ([:typeof $old] != \"id\")) do={`")
	}
	if !strings.Contains(rosBlockAfter(first, ":if ([$runAdd add=$add]) do={"), "/file/add name=$marker") {
		probs = append(probs, "the first deployment does not write the marker once it added the container")
	}
	if mi, fi := strings.Index(raw, "\n# --- marker:"), strings.Index(raw, "\n# --- first deployment:"); mi < 0 || fi < mi {
		probs = append(probs, "the marker check does not come before the first deployment")
	}
	if n, in := strings.Count(u, "$first"), strings.Count(first, "$first"); strings.Count(u, ":set ($first->")+in != n {
		probs = append(probs, "the first-deployment settings are used outside the first deployment")
	}
	return probs
}

var rosAddCmd = regexp.MustCompile(`(/[a-z][a-z/-]*?)[ /]add `)

// (n) first-deploy.rsc can run again: each add is skipped when its object
// exists (and says so), or, for the updater's script and scheduler,
// replaces the one before.
func rosCheckRerun(texts map[string]string) []string {
	f := rosNoComments(texts[rosFirst])
	var probs []string
	for _, loc := range rosAddCmd.FindAllStringSubmatchIndex(f, -1) {
		menu := f[loc[2]:loc[3]]
		before, after := f[max(0, loc[0]-250):loc[0]], f[loc[1]:min(len(f), loc[1]+250)]
		switch {
		case menu == "/system/script" || menu == "/system/scheduler":
			if !strings.Contains(f[:loc[0]], menu+" remove [find where name=") {
				probs = append(probs, menu+" add without removing the one before")
			}
		case !strings.Contains(before, "[:len ["+menu+" find where "), !strings.Contains(before, "] = 0) do={"):
			probs = append(probs, menu+" add not skipped when it exists")
		case !strings.HasPrefix(strings.TrimLeft(after[strings.Index(after+"\n", "\n")+1:], " \t\""), "} else={"):
			probs = append(probs, menu+" add does not say it kept what exists")
		}
	}
	if len(rosAddCmd.FindAllString(f, -1)) < 9 {
		probs = append(probs, "found fewer adds than first-deploy.rsc makes")
	}
	return probs
}
