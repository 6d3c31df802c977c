package busybox

// Runner carries out the stage's commands in the unpacked BusyBox source
// tree: the Dagger shell's build container or a directory on the host
// suite's machine. Both run Configure, so the steps and checks between
// the source and a checked .config exist once.
type Runner interface {
	// Output runs argv in the source tree and returns its stdout; the
	// tree is left as it was.
	Output(argv []string) (string, error)
	// Run runs argv in the source tree for its effect. A lazy runner may
	// defer it: its failure then shows at the next ReadFile.
	Run(argv []string) error
	// SetEnv adds KEY=VALUE settings for every later command.
	SetEnv(env []string)
	WriteFile(rel, content string) error
	ReadFile(rel string) (string, error)
}

// Configured is a source tree whose .config the stage wrote and checked.
type Configured struct {
	Index     *Index
	Selection Selection
	Epoch     int64
	Config    string // the final .config
}

// Configure derives the applet symbols from the source, resolves the
// applet list (busybox-applets.config, parsed by ParseList), sets the reproducible
// build environment, writes strategy s's fragment, completes it with
// upstream's defaults, and checks the result.
func Configure(r Runner, list []Entry, s Strategy) (Configured, error) {
	scan, err := r.Output(SourceLinesArgs())
	if err != nil {
		return Configured{}, err
	}
	ix, err := ParseSource(scan)
	if err != nil {
		return Configured{}, err
	}
	sel, err := ix.Resolve(list)
	if err != nil {
		return Configured{}, err
	}
	epochOut, err := r.Output(EpochArgs())
	if err != nil {
		return Configured{}, err
	}
	epoch, err := ParseEpoch(epochOut)
	if err != nil {
		return Configured{}, err
	}
	if err := CheckFeatures(ix, s); err != nil {
		return Configured{}, err
	}
	fragment, err := Fragment(s, ix, sel)
	if err != nil {
		return Configured{}, err
	}
	r.SetEnv(Env(epoch))
	if err := r.WriteFile(FragmentPath, fragment); err != nil {
		return Configured{}, err
	}
	if err := r.Run(BaseConfigArgs()); err != nil {
		return Configured{}, err
	}
	// With stdin empty, oldconfig fails instead of guessing if it has to
	// ask.
	if err := r.Run(OldconfigArgs()); err != nil {
		return Configured{}, err
	}
	final, err := r.ReadFile(".config")
	if err != nil {
		return Configured{}, err
	}
	if err := CheckConfig(final, s, ix, sel); err != nil {
		return Configured{}, err
	}
	return Configured{Index: ix, Selection: sel, Epoch: epoch, Config: final}, nil
}
