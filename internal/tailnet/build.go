package tailnet

// HeadscaleBuildArgs builds Headscale in its downloaded module directory:
// the module's own go.mod and go.sum decide every dependency. The host
// suite and the engine run it alike.
func HeadscaleBuildArgs(out string) []string {
	return []string{"go", "build", "-trimpath", "-o", out, "./cmd/headscale"}
}

// HeadscaleBuildEnv is the build's environment beyond the builder's: a
// static binary (its SQLite driver is pure Go), so it runs in the image.
func HeadscaleBuildEnv() []string { return []string{"CGO_ENABLED=0"} }

// ToolPackage is the lab tool's package in this module.
const ToolPackage = "./internal/tailnet/cmd/tailnet-lab"

// ToolBuildArgs builds the lab tool, static and stripped.
func ToolBuildArgs(out string) []string {
	return []string{"go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, ToolPackage}
}

// ToolSources are the module paths the lab tool is built from (a
// Directory filter): the tool and the internal packages it imports, not
// the generated Dagger bindings.
var ToolSources = []string{"go.mod", "go.sum", "internal/"}

// ToolSourcesExcluded keeps the Dagger bindings out of ToolSources.
var ToolSourcesExcluded = []string{"internal/dagger/"}
