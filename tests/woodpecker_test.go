package tests

// The Woodpecker pipelines (.woodpecker/*.yaml) call the module through
// `dagger call`. Nothing runs them here, so these tests check them against
// the module's source: every function and flag a pipeline names must exist
// (as internal/moduleapi reads and names them), required arguments must be
// given, secrets must come from the step's environment, and the engine/CLI
// image must be the engine version dagger.json declares. The steps'
// commands are read with a shell parser (mvdan.cc/sh).

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	"mvdan.cc/sh/v3/syntax"

	"dagger/mikrotik-tailscale/internal/moduleapi"
	"dagger/mikrotik-tailscale/internal/pins"
	"dagger/mikrotik-tailscale/internal/release"
)

// repoRoot is the repository checkout (the tests run in tests/).
const repoRoot = ".."

// daggerEngineImage is the engine image; it also ships the matching CLI.
const daggerEngineImage = "registry.dagger.io/engine"

// ---- shell words ----

// shellCommands parses a POSIX sh script and returns its simple commands
// as lists of words, in source order, those inside $(...) included. A
// word's quotes are removed and its expansions ($VAR, ${VAR...}, $(...))
// kept as written; assignments, redirections and comments are not words.
func shellCommands(script string) ([][]string, error) {
	f, err := syntax.NewParser(syntax.Variant(syntax.LangPOSIX)).Parse(strings.NewReader(script), "")
	if err != nil {
		return nil, err
	}
	var cmds [][]string
	syntax.Walk(f, func(n syntax.Node) bool {
		if call, ok := n.(*syntax.CallExpr); ok && len(call.Args) > 0 {
			words := make([]string, len(call.Args))
			for i, w := range call.Args {
				words[i] = shellWord(w.Parts, false)
			}
			cmds = append(cmds, words)
		}
		return true
	})
	return cmds, nil
}

// shellWord is the text of a word's parts with quotes removed: a
// backslash escapes any character outside quotes, and only $ ` " \ inside
// double quotes (the parser has already dropped escaped newlines).
func shellWord(parts []syntax.WordPart, dquoted bool) string {
	var b strings.Builder
	for _, part := range parts {
		switch p := part.(type) {
		case *syntax.Lit:
			for i := 0; i < len(p.Value); i++ {
				if p.Value[i] == '\\' && i+1 < len(p.Value) && (!dquoted || strings.IndexByte("$`\"\\", p.Value[i+1]) >= 0) {
					i++
				}
				b.WriteByte(p.Value[i])
			}
		case *syntax.SglQuoted:
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			b.WriteString(shellWord(p.Parts, true))
		default:
			// An expansion, as written. Printing a word part to a
			// strings.Builder cannot fail.
			if err := syntax.NewPrinter().Print(&b, p); err != nil {
				panic(err)
			}
		}
	}
	return b.String()
}

// daggerCall is one `dagger ... call ...` found in a step.
type daggerCall struct {
	argv []string // the words after "call"
}

// daggerGlobalValueFlags are dagger's own flags before "call" that take a
// separate value.
var daggerGlobalValueFlags = []string{"-m", "--mod", "--progress", "-W", "--workdir"}

// findDaggerCalls returns the dagger call invocations in a script; other
// dagger commands (`dagger core version`) are not module calls.
func findDaggerCalls(script string) ([]daggerCall, error) {
	cmds, err := shellCommands(script)
	if err != nil {
		return nil, err
	}
	var calls []daggerCall
	for _, words := range cmds {
		for i, w := range words {
			if w != "dagger" && !strings.HasSuffix(w, "/dagger") {
				continue
			}
			j := i + 1
			for j < len(words) && strings.HasPrefix(words[j], "-") {
				if slices.Contains(daggerGlobalValueFlags, words[j]) {
					j++
				}
				j++
			}
			if j < len(words) && words[j] == "call" {
				calls = append(calls, daggerCall{argv: words[j+1:]})
			}
			break
		}
	}
	return calls, nil
}

// ---- checking a call against the module ----

// callFlags are `dagger call`'s own flags (value taken or not).
var callFlags = map[string]bool{"-o": true, "--output": true, "-j": false, "--json": false}

// flagName splits "--name=value" / "--name".
func flagName(w string) (name string, hasValue bool) {
	name, _, hasValue = strings.Cut(w, "=")
	return name, hasValue
}

// checkDaggerCall returns what is wrong with one call: an unknown function
// or flag, a flag that is not in Dagger's kebab-case form (the CLI would
// accept it, but the pipelines use the canonical names), a missing required
// argument, or words chained after a scalar result.
func checkDaggerCall(mod moduleapi.Module, argv []string) []string {
	var errs []string
	i := 0
	for i < len(argv) && strings.HasPrefix(argv[i], "-") {
		name, hasValue := flagName(argv[i])
		i++
		if takesValue, ok := callFlags[name]; ok {
			if takesValue && !hasValue {
				i++
			}
			continue
		}
		arg, ok := mod.Constructor[strings.TrimPrefix(name, "--")]
		if !ok || !strings.HasPrefix(name, "--") {
			errs = append(errs, fmt.Sprintf("unknown module flag %s (constructor flags: %s)", name, flagList(mod.Constructor)))
			if !hasValue && i < len(argv)-1 && !strings.HasPrefix(argv[i], "-") {
				i++ // its value, if the function name still follows
			}
			continue
		}
		if !hasValue && !arg.IsBool {
			i++
		}
	}
	if i >= len(argv) {
		return append(errs, "no function named")
	}
	fnName := argv[i]
	fn, ok := mod.Funcs[fnName]
	if !ok {
		return append(errs, fmt.Sprintf("unknown function %q (the module defines: %s)", fnName, strings.Join(slices.Sorted(maps.Keys(mod.Funcs)), ", ")))
	}
	i++
	seen := map[string]bool{}
	for i < len(argv) {
		w := argv[i]
		if !strings.HasPrefix(w, "-") {
			if !fn.Object {
				errs = append(errs, fmt.Sprintf("%s returns a scalar, nothing can follow it: %q", fnName, w))
			}
			break
		}
		name, hasValue := flagName(w)
		i++
		if takesValue, ok := callFlags[name]; ok {
			if takesValue && !hasValue {
				i++
			}
			continue
		}
		flag := strings.TrimPrefix(name, "--")
		arg, ok := fn.Args[flag]
		if !ok || !strings.HasPrefix(name, "--") {
			hint := ""
			if _, canon := fn.Args[moduleapi.CLIName(flag)]; canon && strings.HasPrefix(name, "--") {
				hint = fmt.Sprintf(" (Dagger's name for it is --%s)", moduleapi.CLIName(flag))
			}
			errs = append(errs, fmt.Sprintf("%s has no flag %s%s (flags: %s)", fnName, name, hint, flagList(fn.Args)))
			// Skip its value, if it looks like one.
			if !hasValue && i < len(argv) && !strings.HasPrefix(argv[i], "-") {
				i++
			}
			continue
		}
		seen[flag] = true
		if !hasValue && !arg.IsBool {
			if i >= len(argv) {
				errs = append(errs, fmt.Sprintf("%s: %s has no value", fnName, name))
			}
			i++
		}
	}
	for _, flag := range slices.Sorted(maps.Keys(fn.Args)) {
		if fn.Args[flag].Required && !seen[flag] {
			errs = append(errs, fmt.Sprintf("%s: required flag --%s missing", fnName, flag))
		}
	}
	return errs
}

func flagList(args map[string]moduleapi.Arg) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(args)) {
		out = append(out, "--"+k)
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, " ")
}

// ---- Woodpecker workflows ----

type wpContainer struct {
	name       string
	image      string
	commands   []string
	entrypoint []string
	env        map[string]any // value: string, or map with from_secret
	privileged bool
	ports      []string
}

type wpWorkflow struct {
	file     string
	raw      string
	doc      map[string]any
	steps    []wpContainer
	services []wpContainer
}

// parseWorkflow reads one workflow (YAML aliases resolved); steps and
// services may be lists or maps, as Woodpecker allows.
func parseWorkflow(t testing.TB, file, raw string) wpWorkflow {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	w := wpWorkflow{file: file, raw: raw, doc: doc}
	w.steps = containers(t, file, doc["steps"])
	w.services = containers(t, file, doc["services"])
	return w
}

func containers(t testing.TB, file string, v any) []wpContainer {
	t.Helper()
	var out []wpContainer
	add := func(name string, m any) {
		c, ok := m.(map[string]any)
		if !ok {
			t.Fatalf("%s: %s is not a mapping", file, name)
		}
		if n, ok := c["name"].(string); ok {
			name = n
		}
		ctr := wpContainer{name: name, env: map[string]any{}}
		ctr.image, _ = c["image"].(string)
		ctr.commands = stringList(c["commands"])
		ctr.entrypoint = stringList(c["entrypoint"])
		ctr.privileged, _ = c["privileged"].(bool)
		ctr.ports = stringList(c["ports"])
		if env, ok := c["environment"].(map[string]any); ok {
			ctr.env = env
		}
		out = append(out, ctr)
	}
	switch l := v.(type) {
	case []any:
		for i, m := range l {
			add(fmt.Sprintf("#%d", i), m)
		}
	case map[string]any:
		for _, name := range slices.Sorted(maps.Keys(l)) {
			add(name, l[name])
		}
	}
	return out
}

func stringList(v any) []string {
	switch l := v.(type) {
	case string:
		return []string{l}
	case []any:
		var out []string
		for _, x := range l {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return nil
}

func loadWorkflows(t testing.TB) map[string]wpWorkflow {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(repoRoot, ".woodpecker", "*.y*ml"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]wpWorkflow{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = parseWorkflow(t, filepath.Base(p), string(b))
	}
	return out
}

// stepScript is the shell script a step runs: its commands, one per line,
// with Woodpecker's escape $$ for a literal $ undone (Woodpecker does that
// before the shell sees them; see TestWoodpeckerSubstitution).
func stepScript(s wpContainer) string {
	return strings.ReplaceAll(strings.Join(s.commands, "\n"), "$$", "$")
}

// checkWorkflowCalls checks every dagger call in a workflow's steps and
// that each env:NAME secret a call passes is set in that step's
// environment; a step that is not valid sh is an error. It returns the
// functions called.
func checkWorkflowCalls(mod moduleapi.Module, w wpWorkflow) (called []string, errs []string) {
	secretRef := regexp.MustCompile(`^env:(?://)?([A-Za-z_][A-Za-z0-9_]*)$`)
	for _, s := range w.steps {
		calls, err := findDaggerCalls(stepScript(s))
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s, step %s: %v", w.file, s.name, err))
		}
		for _, call := range calls {
			where := fmt.Sprintf("%s, step %s: dagger call %s", w.file, s.name, strings.Join(call.argv, " "))
			for _, e := range checkDaggerCall(mod, call.argv) {
				errs = append(errs, where+": "+e)
			}
			for _, a := range call.argv {
				if m := secretRef.FindStringSubmatch(a); m != nil {
					if _, ok := s.env[m[1]]; !ok {
						errs = append(errs, fmt.Sprintf("%s: secret %s is not in the step's environment", where, a))
					}
				}
			}
			for _, a := range call.argv {
				if _, ok := mod.Funcs[a]; ok {
					called = append(called, a)
					break
				}
			}
		}
	}
	return called, errs
}

// ---- tests ----

func TestWoodpeckerDaggerNames(t *testing.T) {
	// Dagger's own examples of its naming, and this module's tricky ones.
	for goName, want := range map[string]string{
		"PrCheck":         "pr-check",
		"ReleaseTag":      "release-tag",
		"giteaURL":        "gitea-url",
		"sourceURL":       "source-url",
		"allowUnreviewed": "allow-unreviewed",
		"dockerConfig":    "docker-config",
		"Tarballs":        "tarballs",
	} {
		if got := moduleapi.CLIName(goName); got != want {
			t.Errorf("moduleapi.CLIName(%q) = %q, want %q", goName, got, want)
		}
	}
	if got := moduleapi.ObjectName("mikrotik-tailscale"); got != "MikrotikTailscale" {
		t.Errorf("main object of mikrotik-tailscale = %q", got)
	}
}

func TestWoodpeckerModuleAPI(t *testing.T) {
	mod := loadModule(t)
	// The generated bindings dispatch exactly the functions the SDK found;
	// the parser here must find the same set.
	gen, err := os.ReadFile(filepath.Join(repoRoot, "dagger.gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	dispatched := map[string]bool{}
	for _, m := range regexp.MustCompile(`return \(\*`+mod.Object+`\)\.(\w+)\(`).FindAllStringSubmatch(string(gen), -1) {
		dispatched[m[1]] = true
	}
	if len(dispatched) == 0 {
		t.Fatalf("no %s methods dispatched in dagger.gen.go", mod.Object)
	}
	for name := range dispatched {
		if _, ok := mod.Funcs[moduleapi.CLIName(name)]; !ok {
			t.Errorf("dagger.gen.go dispatches %s, the parser did not find it", name)
		}
	}
	for cmd, fn := range mod.Funcs {
		if !dispatched[fn.GoName] && !fn.Field {
			t.Errorf("parser found %s (%s), dagger.gen.go does not dispatch it", cmd, fn.GoName)
		}
		// Every argument the generated code unmarshals is a parameter found here.
		for flag, a := range fn.Args {
			if dispatched[fn.GoName] && !strings.Contains(string(gen), fmt.Sprintf("inputArgs[%q]", a.GoName)) {
				t.Errorf("%s --%s: dagger.gen.go has no input arg %q", cmd, flag, a.GoName)
			}
		}
	}
	t.Logf("%s: constructor %s", mod.Object, flagList(mod.Constructor))
	for _, cmd := range slices.Sorted(maps.Keys(mod.Funcs)) {
		t.Logf("  %s %s", cmd, flagList(mod.Funcs[cmd].Args))
	}
}

func TestWoodpeckerDaggerCalls(t *testing.T) {
	mod := loadModule(t)
	flows := loadWorkflows(t)
	// The pipelines the design needs, and the functions each one runs, in
	// this order (the required check: the unit tests, then pr-check).
	want := map[string][]string{
		"pr-check.yaml":    {"test", "pr-check"},
		"release.yaml":     {"release"},
		"release-tag.yaml": {"release-tag"},
		"renovate.yaml":    nil,
	}
	for file, fns := range want {
		w, ok := flows[file]
		if !ok {
			t.Errorf(".woodpecker/%s is missing", file)
			continue
		}
		called, errs := checkWorkflowCalls(mod, w)
		for _, e := range errs {
			t.Error(e)
		}
		if !slices.Equal(called, fns) {
			t.Errorf("%s runs dagger call %v, want %v", file, called, fns)
		}
	}
	for file := range flows {
		if _, ok := want[file]; !ok {
			_, errs := checkWorkflowCalls(mod, flows[file])
			for _, e := range errs {
				t.Error(e)
			}
		}
	}
}

// TestWoodpeckerCheckerRejectsBogus proves the checker above is not
// vacuous: a synthetic workflow with bad calls is rejected, call by call,
// and good ones pass.
func TestWoodpeckerCheckerRejectsBogus(t *testing.T) {
	mod := loadModule(t)
	w := parseWorkflow(t, "synthetic.yaml", `
steps:
  - name: synthetic
    image: x
    environment:
      P:
        from_secret: p
    commands:
      - dagger call pr-chek
      - dagger --progress=plain call release --tagg v1.104.5-mt.1 --repository r --username u --password env:P
      - dagger call pr-check --format markdown extra-word
      - dagger call release-tag --gitea-url u --repository r --commit c
      - dagger call release-tag --giteaURL u --repository r --token env:MISSING --commit c
      - dagger call --sauce . pr-check
      - dagger call pr-check --format "$${FORMAT}" --budget x
  - name: not-sh
    image: x
    commands:
      - dagger call pr-check --format "json
`)
	_, errs := checkWorkflowCalls(mod, w)
	all := strings.Join(errs, "\n")
	for _, want := range []string{
		`unknown function "pr-chek"`,
		`release has no flag --tagg`,
		`release: required flag --tag missing`,
		`pr-check returns a scalar, nothing can follow it: "extra-word"`,
		`release-tag: required flag --token missing`,
		`release-tag has no flag --giteaURL (Dagger's name for it is --gitea-url)`,
		`secret env:MISSING is not in the step's environment`,
		`unknown module flag --sauce`,
		`dagger call pr-check --format ${FORMAT} --budget x: pr-check has no flag --budget`,
		`synthetic.yaml, step not-sh: `,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("checker missed %q; it reported:\n%s", want, all)
		}
	}

	good := parseWorkflow(t, "good.yaml", `
steps:
  build:
    image: x
    environment:
      TOKEN:
        from_secret: t
    commands: |
      dagger call pr-check --allow-unreviewed --budgets arm64=4MB/4.2MB --format=json
      dagger -m . call --source=. tarball --arch arm/v7 export --path ./x.tar
      dagger call release-tag --gitea-url "$CI_FORGE_URL" \
        --repository "$CI_REPO" --token env:TOKEN --commit "$(git rev-parse HEAD)" 2>&1 | tee log
      dagger core version
`)
	called, errs := checkWorkflowCalls(mod, good)
	if len(errs) > 0 {
		t.Errorf("good calls rejected:\n%s", strings.Join(errs, "\n"))
	}
	if !slices.Equal(called, []string{"pr-check", "tarball", "release-tag"}) {
		t.Errorf("good calls found as %v", called)
	}
}

func TestWoodpeckerShellWords(t *testing.T) {
	got, err := shellCommands("a 'b c' \"d \\\"e\\\"\" $(f \"g h\") # no\nx --y=\"1 2\" \\\n  z 2>&1 | tee out; w")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"a", "b c", `d "e"`, `$(f "g h")`}, {"f", "g h"}, {"x", "--y=1 2", "z"}, {"tee", "out"}, {"w"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("shellCommands = %q, want %q", got, want)
	}
	// A step's script: Woodpecker's $$ is the shell's $; an assignment is
	// not a command, the command it substitutes is.
	got, err = shellCommands(stepScript(wpContainer{commands: []string{
		`R=$(printf '%s' "$${CI_REPO}" | tr A-Z a-z)`,
		`dagger call x --a "$${R#*/}" --b=\$$HOME`,
	}}))
	if err != nil {
		t.Fatal(err)
	}
	want = [][]string{{"printf", "%s", "${CI_REPO}"}, {"tr", "A-Z", "a-z"}, {"dagger", "call", "x", "--a", "${R#*/}", "--b=$HOME"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("step script = %q, want %q", got, want)
	}
	// What sh would not run is an error, not a guess at words.
	for _, bad := range []string{`dagger call "x`, `dagger call $(x`, `a | `, `if x; then y`} {
		if got, err := shellCommands(bad); err == nil {
			t.Errorf("shellCommands(%q) = %q, want a syntax error", bad, got)
		}
	}
}

// TestWoodpeckerDaggerEngine: every step that runs dagger uses the engine
// image at dagger.json's engineVersion (it carries the same CLI) and
// reaches a privileged engine service of that image over TCP.
func TestWoodpeckerDaggerEngine(t *testing.T) {
	var meta struct {
		EngineVersion string `json:"engineVersion"`
	}
	readJSON(t, filepath.Join(repoRoot, "dagger.json"), &meta)
	if meta.EngineVersion == "" {
		t.Fatal("dagger.json has no engineVersion")
	}
	wantImage := daggerEngineImage + ":" + meta.EngineVersion
	anyImage := regexp.MustCompile(regexp.QuoteMeta(daggerEngineImage) + `:(\S+)`)
	runner := regexp.MustCompile(`^tcp://([a-z0-9-]+):(\d+)$`)
	steps := 0
	for file, w := range loadWorkflows(t) {
		for _, m := range anyImage.FindAllStringSubmatch(w.raw, -1) {
			if m[1] != meta.EngineVersion {
				t.Errorf("%s: %s, dagger.json's engineVersion is %s", file, m[0], meta.EngineVersion)
			}
		}
		for _, s := range w.steps {
			if !strings.Contains(strings.Join(s.commands, "\n"), "dagger ") {
				continue
			}
			steps++
			if s.image != wantImage {
				t.Errorf("%s, step %s: image %q, want %q (CLI = engine = dagger.json)", file, s.name, s.image, wantImage)
			}
			host, _ := s.env["_EXPERIMENTAL_DAGGER_RUNNER_HOST"].(string)
			m := runner.FindStringSubmatch(host)
			if m == nil {
				t.Errorf("%s, step %s: _EXPERIMENTAL_DAGGER_RUNNER_HOST=%q is not tcp://<service>:<port>", file, s.name, host)
				continue
			}
			i := slices.IndexFunc(w.services, func(c wpContainer) bool { return c.name == m[1] })
			if i < 0 {
				t.Errorf("%s, step %s: no service %q", file, s.name, m[1])
				continue
			}
			svc := w.services[i]
			if svc.image != wantImage || !svc.privileged {
				t.Errorf("%s: service %s: image %q privileged %v, want %q privileged", file, svc.name, svc.image, svc.privileged, wantImage)
			}
			listen := strings.Join(svc.entrypoint, " ")
			if !strings.Contains(listen, "--addr tcp://0.0.0.0:"+m[2]) || !slices.Contains(svc.ports, m[2]) {
				t.Errorf("%s: service %s does not listen on and expose port %s (entrypoint %q, ports %v)", file, svc.name, m[2], listen, svc.ports)
			}
		}
	}
	if steps < 3 {
		t.Errorf("found %d steps running dagger, want at least 3 (pr-check, release, release-tag)", steps)
	}
}

// TestWoodpeckerTriggers: each pipeline runs on the events the release
// design expects, and the tag release-tag creates starts release.yaml.
func TestWoodpeckerTriggers(t *testing.T) {
	flows := loadWorkflows(t)
	tag, _, err := release.AutoTag(pins.TailscaleVersion, nil)
	if err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]bool{"refs/tags/" + tag: true, "refs/tags/" + pins.TailscaleVersion: false} {
		matched := false
		for _, cond := range flows["release.yaml"].doc["when"].([]any) {
			if pattern, ok := cond.(map[string]any)["ref"].(string); ok {
				if m, err := path.Match(pattern, ref); err == nil && m {
					matched = true
				}
			}
		}
		if matched != want {
			t.Errorf("release.yaml runs for %s: %v, want %v", ref, matched, want)
		}
	}
	when := func(file string) string {
		b, err := json.Marshal(flows[file].doc["when"])
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for file, want := range map[string][]string{
		"pr-check.yaml":    {`{"event":"pull_request"}`, `{"branch":"main","event":"push"}`},
		"release.yaml":     {`{"event":"tag","ref":"refs/tags/v*-mt.*"}`},
		"release-tag.yaml": {`{"branch":"main","event":"push"}`},
		"renovate.yaml":    {`{"cron":"renovate","event":"cron"}`},
	} {
		got := when(file)
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: when = %s, want a condition %s", file, got, w)
			}
		}
	}
}

// TestWoodpeckerReleaseTagWaitsForTheCheck: release-tag.yaml tags only a
// commit whose own required check passed. Woodpecker starts a workflow
// after every workflow in its depends_on finished successfully, and never
// when one failed; the dependency must run on every event the dependent
// runs on, or the dependent waits forever.
func TestWoodpeckerReleaseTagWaitsForTheCheck(t *testing.T) {
	flows := loadWorkflows(t)
	deps := stringList(flows["release-tag.yaml"].doc["depends_on"])
	if !slices.Contains(deps, "pr-check") {
		t.Fatalf("release-tag.yaml depends_on %v, want pr-check", deps)
	}
	for _, dep := range deps {
		w, ok := flows[dep+".yaml"]
		if !ok {
			t.Errorf("release-tag.yaml depends on %q: no .woodpecker/%s.yaml", dep, dep)
			continue
		}
		for _, cond := range flows["release-tag.yaml"].doc["when"].([]any) {
			if !slices.ContainsFunc(w.doc["when"].([]any), func(c any) bool { return reflect.DeepEqual(c, cond) }) {
				t.Errorf("release-tag.yaml runs on %v, its dependency %s.yaml does not", cond, dep)
			}
		}
	}
}

// TestWoodpeckerEngineStateOnVolume: every Dagger engine service keeps its
// state on a named volume of its own (BuildKit on the container's overlay
// root falls back to a slow snapshotter; one engine locks one state dir).
func TestWoodpeckerEngineStateOnVolume(t *testing.T) {
	seen := map[string]string{}
	for file, w := range loadWorkflows(t) {
		for _, svc := range w.services {
			if !strings.HasPrefix(svc.image, daggerEngineImage+":") {
				continue
			}
			var vols []string
			for _, c := range w.doc["services"].([]any) {
				if m := c.(map[string]any); m["name"] == svc.name {
					vols = stringList(m["volumes"])
				}
			}
			ok := false
			for _, v := range vols {
				name, target, _ := strings.Cut(v, ":")
				if target == "/var/lib/dagger" && name != "" && !strings.Contains(name, "/") {
					ok = true
					if other, dup := seen[name]; dup {
						t.Errorf("%s and %s share the engine volume %s", file, other, name)
					}
					seen[name] = file
				}
			}
			if !ok {
				t.Errorf("%s: service %s keeps no state on a named volume at /var/lib/dagger (volumes %v)", file, svc.name, vols)
			}
		}
	}
	if len(seen) < 3 {
		t.Errorf("%d engine volumes, want one per workflow that runs the engine (3)", len(seen))
	}
}

// TestWoodpeckerSubstitution: Woodpecker substitutes $NAME and ${NAME} in
// the whole file (comments included) before anything runs, and an unknown
// name becomes empty. Only Woodpecker's own CI_ variables may be
// substituted that way; everything the shell should expand is written $$.
func TestWoodpeckerSubstitution(t *testing.T) {
	ref := regexp.MustCompile(`\$\$|\$\{[^}]*\}?|\$[A-Za-z_][A-Za-z0-9_]*|\$[^$({A-Za-z_]?`)
	woodpeckers := regexp.MustCompile(`^(\$CI_[A-Z_]+|\$\{CI_[A-Z_]+\})$`)
	for file, w := range loadWorkflows(t) {
		for _, m := range ref.FindAllString(w.raw, -1) {
			switch {
			case m == "$$", woodpeckers.MatchString(m):
			case m == "$":
				// "$(" is left alone by the substitution.
			default:
				t.Errorf("%s: %q is substituted by Woodpecker before the shell sees it; write $$ for the shell", file, m)
			}
		}
	}
}

// TestWoodpeckerRenovateVersion: the Renovate the pipeline runs is the one
// the test suite validates renovate.json with.
func TestWoodpeckerRenovateVersion(t *testing.T) {
	w := loadWorkflows(t)["renovate.yaml"]
	want := runAllRenovateVersion(t)
	found := false
	for _, s := range w.steps {
		if repo, tag, ok := strings.Cut(s.image, ":"); ok && repo == "renovate/renovate" {
			found = true
			if tag != want {
				t.Errorf("renovate.yaml runs renovate/renovate:%s, tests/run-all.sh validates with %s", tag, want)
			}
			if s.env["RENOVATE_PLATFORM"] != "gitea" {
				t.Errorf("renovate.yaml: RENOVATE_PLATFORM = %v", s.env["RENOVATE_PLATFORM"])
			}
			if tok, _ := s.env["RENOVATE_TOKEN"].(map[string]any); tok["from_secret"] == nil {
				t.Errorf("renovate.yaml: RENOVATE_TOKEN is not from a secret: %v", s.env["RENOVATE_TOKEN"])
			}
		}
	}
	if !found {
		t.Error("renovate.yaml has no renovate/renovate step")
	}
}

// runAllRenovateVersion is RENOVATE_VERSION from tests/run-all.sh.
func runAllRenovateVersion(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("run-all.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^RENOVATE_VERSION=(\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("tests/run-all.sh sets no RENOVATE_VERSION")
	}
	return string(m[1])
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// The required check and release always run the tailnet check with its
// own policy: no pipeline turns it off or swaps the policy.
func TestWoodpeckerRunsTheTailnetCheck(t *testing.T) {
	for _, file := range []string{"pr-check.yaml", "release.yaml"} {
		b, err := os.ReadFile(filepath.Join(repoRoot, ".woodpecker", file))
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "--tailnet") {
				t.Errorf(".woodpecker/%s:%d changes the tailnet check: %s", file, i+1, strings.TrimSpace(line))
			}
		}
	}
}
