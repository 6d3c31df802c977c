package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"dagger/mikrotik-tailscale/internal/checkreport"
	"dagger/mikrotik-tailscale/internal/dagger"
	"dagger/mikrotik-tailscale/internal/layout"
	"dagger/mikrotik-tailscale/internal/pins"
	"dagger/mikrotik-tailscale/internal/platform"
	"dagger/mikrotik-tailscale/internal/tailnet"
	"dagger/mikrotik-tailscale/internal/tsbuild"
)

// Run the tailnet check for one platform and report it.
//
// Headscale (the pinned version, built here) serves a tailnet with TLS
// from a CA the check makes, embedded DERP and STUN; the image for this
// platform is the subnet router and exit node, started through its own
// entrypoint with docs/USAGE.md's environment; an amd64 image is the
// client. Checks: headless login, route and exit node approval, TCP to a
// LAN host and to an internet host through the router, tailscale ping and
// ping --tsmp both ways, the health probe, SYNs the policy rejects, a
// 60 s control outage, the state directory. pr-check and release run it
// for every platform.
func (m *MikrotikTailscale) Tailnet(
	ctx context.Context,
	// Router platform, as for build --arch (e.g. arm64, arm/v7; arm runs under the engine's emulation).
	// +default="amd64"
	arch string,
	// Report format: markdown, json, or github.
	// +default="markdown"
	format string,
	// Headscale policy (HuJSON) to run the tailnet under instead of the check's own, e.g. to see what a policy of yours allows.
	// +optional
	policy *dagger.File,
) (string, error) {
	a, err := platform.Parse(arch)
	if err != nil {
		return "", err
	}
	f, err := checkreport.ParseFormat(format)
	if err != nil {
		return "", err
	}
	pol, err := labPolicy(ctx, policy)
	if err != nil {
		return "", err
	}
	rv, err := m.reviewedSource(ctx, nil)
	if err != nil {
		return "", err
	}
	router, err := m.image(ctx, devSpec(a), rv)
	if err != nil {
		return "", err
	}
	base := router
	if a.Name != "amd64" {
		amd64, _ := platform.Parse("amd64")
		if base, err = m.image(ctx, devSpec(amd64), rv); err != nil {
			return "", err
		}
	}
	rep := checkreport.Report{Title: "mikrotik-tailscale tailnet check (Tailscale " + pins.TailscaleVersion + ", Headscale " + pins.HeadscaleVersion + ")"}
	rep.Checks = m.tailnetChecks(ctx, a, router, base, pol)
	var out strings.Builder
	if err := rep.Render(&out, f, func(string) string { return "" }); err != nil {
		return "", err
	}
	if !rep.Passed() {
		return "", fmt.Errorf("%d of %d checks failed\n%s", len(rep.Failed()), len(rep.Checks), out.String())
	}
	return out.String(), nil
}

// tailnetChecks runs the lab for router (platform a) with base, the amd64
// image, as client, control and hosts: one report row per check.
func (m *MikrotikTailscale) tailnetChecks(ctx context.Context, a platform.Arch, routerImage, baseImage *dagger.Container, policy string) []checkreport.Check {
	fail := func(err error) []checkreport.Check {
		return []checkreport.Check{result("tailnet: lab set up", a.Name, err)}
	}
	amd64, _ := platform.Parse("amd64")
	router, err := runnable(ctx, routerImage, a)
	if err != nil {
		return fail(err)
	}
	base, err := runnable(ctx, baseImage, amd64)
	if err != nil {
		return fail(err)
	}
	ca, err := tailnet.NewCA("arch "+a.Name+"\npolicy "+policy, []string{tailnet.ControlHost}, nil)
	if err != nil {
		return fail(err)
	}
	hs, err := m.headscale(ctx)
	if err != nil {
		return fail(err)
	}
	baseTool, routerTool := m.tailnetTool(amd64), m.tailnetTool(a)
	hsConf := tailnet.LabHeadscale()
	control := base.
		WithFile(tailnet.HeadscaleBin, hs).
		WithFile(tailnet.Tool, baseTool).
		WithNewFile(tailnet.HeadscaleConfigFile, tailnet.HeadscaleConfig(hsConf)).
		WithNewFile(hsConf.PolicyPath, policy).
		WithNewFile(tailnet.HeadscaleDir+"/tls.crt", string(ca.CertPEM)).
		WithNewFile(tailnet.HeadscaleDir+"/tls.key", string(ca.KeyPEM), dagger.ContainerWithNewFileOpts{Permissions: 0o600}).
		WithExec([]string{tailnet.Tool, "control-init"})
	routerKey, err := control.File(tailnet.RouterKey).Contents(ctx)
	if err != nil {
		// Headscale's own words (a policy it refuses, say) are in stderr.
		var ee *dagger.ExecError
		if errors.As(err, &ee) {
			return fail(fmt.Errorf("control server did not start (exit code %d):\n%s", ee.ExitCode, tailnet.LastLines(ee.Stderr, 20)))
		}
		return fail(fmt.Errorf("control server: %w", err))
	}
	controlSvc := control.
		WithExposedPort(tailnet.ControlPort).
		WithExposedPort(tailnet.STUNPort, dagger.ContainerWithExposedPortOpts{Protocol: dagger.NetworkProtocolUdp}).
		WithExposedPort(tailnet.AdminPort).
		AsService(dagger.ContainerAsServiceOpts{Args: []string{tailnet.Tool, "control"}})
	hostsSvc := base.
		WithFile(tailnet.Tool, baseTool).
		WithEnvVariable("TAILNET_LAB", a.Name). // one hosts service per lab: it keeps a route to its router

		WithExposedPort(tailnet.AdminPort).
		AsService(dagger.ContainerAsServiceOpts{Args: []string{tailnet.Tool, "hosts"}, InsecureRootCapabilities: true})

	id, err := router.Rootfs().Digest(ctx)
	if err != nil {
		return fail(err)
	}
	runVol := dag.CacheVolume(tailnet.VolumeName("run", a.Dir, id+policy))
	stateVol := dag.CacheVolume(tailnet.VolumeName("state", a.Dir, id+policy))
	role := []string{"client"}
	if a.Qemu == "" { // native: tailscaled has netfilter and must masquerade
		role = append(role, "--snat")
	}
	clientArgs, err := entrypointArgs(ctx, base, tailnet.Tool, role...)
	if err != nil {
		return fail(err)
	}
	clientSvc := base.
		WithFile(tailnet.Tool, baseTool).
		WithFile(tailnet.ClientKey, control.File(tailnet.ClientKey)).
		WithNewFile("/"+layout.ExtraCADir+"/"+tailnet.CAName, string(ca.CAPEM)).
		WithMountedTemp("/"+layout.SocketDir).
		WithMountedCache(tailnet.RouterRunDir, runVol).
		WithMountedCache(tailnet.RouterStateDir, stateVol).
		WithServiceBinding(tailnet.ControlHost, controlSvc).
		WithServiceBinding(tailnet.HostsHost, hostsSvc).
		WithExposedPort(tailnet.AdminPort).
		AsService(dagger.ContainerAsServiceOpts{Args: clientArgs, InsecureRootCapabilities: true})

	// The router is the exec (the engine emulates foreign platforms for
	// execs only); it prints the client service's results.
	routerArgs, err := entrypointArgs(ctx, router, tailnet.Tool, "router")
	if err != nil {
		return fail(err)
	}
	run := router.
		WithFile(tailnet.Tool, routerTool).
		WithNewFile(tailnet.CAFile, string(ca.CAPEM)).
		With(withEnv(tailnet.RouterEnv(strings.TrimSpace(routerKey)))).
		WithMountedCache("/"+layout.SocketDir, runVol).
		WithMountedCache("/"+layout.StateDir, stateVol).
		WithServiceBinding(tailnet.ControlHost, controlSvc).
		WithServiceBinding(tailnet.HostsHost, hostsSvc).
		WithServiceBinding(tailnet.ClientHost, clientSvc).
		WithExec(routerArgs, dagger.ContainerWithExecOpts{InsecureRootCapabilities: true})

	stdout, err := run.Stdout(ctx)
	var diag string
	if err != nil {
		var ee *dagger.ExecError
		if !errors.As(err, &ee) {
			return fail(err)
		}
		stdout, diag = ee.Stdout, ee.Stderr
	}
	results, perr := tailnet.ParseResults(stdout)
	if perr != nil {
		return fail(perr)
	}
	var checks []checkreport.Check
	if err != nil && tailnet.AllPassed(results) {
		// The lab failed outside the checks (the router exited, say).
		checks = append(checks, resultDetail("tailnet: lab ran to the end", a.Name, err, ""))
		checks[0].Detail += "\n" + tailnet.LastLines(tailnet.Diagnostics(stdout)+diag, 120)
	}
	firstFail := true
	for _, r := range results {
		c := checkreport.Check{Name: tailnet.Title(r.ID), Arch: a.Name, Passed: r.Passed, Detail: fmt.Sprintf("%s (%.0f s)", r.Detail, r.Seconds)}
		if !r.Passed && firstFail {
			c.Detail += "\n" + tailnet.LastLines(tailnet.Diagnostics(stdout)+diag, 120)
			firstFail = false
		}
		checks = append(checks, c)
	}
	return checks
}

// labPolicy is the policy file's text, or the check's own policy.
func labPolicy(ctx context.Context, f *dagger.File) (string, error) {
	if f == nil {
		return tailnet.Policy(), nil
	}
	p, err := f.Contents(ctx)
	if err != nil {
		return "", fmt.Errorf("tailnet policy: %w", err)
	}
	if strings.TrimSpace(p) == "" {
		return "", fmt.Errorf("tailnet policy: the file is empty; omit the option to use the check's own policy")
	}
	return p, nil
}

// runnable is img as the lab runs it: its filesystem, platform,
// environment, entrypoint and default args, without its labels. Release
// builds differ from each other only in labels, so the engine reuses one
// lab run for all of them.
func runnable(ctx context.Context, img *dagger.Container, a platform.Arch) (*dagger.Container, error) {
	c := dag.Container(dagger.ContainerOpts{Platform: dagger.Platform(a.Platform)}).WithRootfs(img.Rootfs())
	vars, err := img.EnvVariables(ctx)
	if err != nil {
		return nil, err
	}
	for _, v := range vars {
		name, err := v.Name(ctx)
		if err != nil {
			return nil, err
		}
		value, err := v.Value(ctx)
		if err != nil {
			return nil, err
		}
		c = c.WithEnvVariable(name, value)
	}
	entry, args, err := command(ctx, img)
	if err != nil {
		return nil, err
	}
	return c.WithEntrypoint(entry).WithDefaultArgs(args), nil
}

// command is img's entrypoint and default args.
func command(ctx context.Context, img *dagger.Container) (entry, args []string, err error) {
	if entry, err = img.Entrypoint(ctx); err != nil {
		return nil, nil, err
	}
	args, err = img.DefaultArgs(ctx)
	return entry, args, err
}

// entrypointArgs is tool role, then img's entrypoint and default args:
// the lab tool starts the image the way a runtime would.
func entrypointArgs(ctx context.Context, img *dagger.Container, tool string, role ...string) ([]string, error) {
	entry, args, err := command(ctx, img)
	if err != nil {
		return nil, err
	}
	return append(append(append([]string{tool}, role...), entry...), args...), nil
}

// headscale is the pinned Headscale, built in the golang container from
// the module proxy (checksum-verified) with the Go caches.
func (m *MikrotikTailscale) headscale(ctx context.Context) (*dagger.File, error) {
	dl := m.goBuilder().WithExec(tsbuild.ModDownloadArgs(pins.HeadscaleModule, pins.HeadscaleVersion))
	out, err := dl.Stdout(ctx)
	if err != nil {
		return nil, err
	}
	mod, err := tsbuild.ParseModDownload([]byte(out))
	if err != nil {
		return nil, err
	}
	const bin = "/out/headscale"
	return dl.
		With(withEnv(tailnet.HeadscaleBuildEnv())).
		WithWorkdir(mod.Dir).
		WithExec(tailnet.HeadscaleBuildArgs(bin)).
		File(bin), nil
}

// prefetchTailnet builds Headscale and every lab tool, for the engine's
// cache; errors surface where the check uses them.
func (m *MikrotikTailscale) prefetchTailnet(ctx context.Context) {
	if hs, err := m.headscale(ctx); err == nil {
		_, _ = hs.Sync(ctx)
	}
	for _, a := range platform.All() {
		_, _ = m.tailnetTool(a).Sync(ctx)
	}
}

// tailnetTool is the lab tool for a's containers, built from this
// module's own source.
func (m *MikrotikTailscale) tailnetTool(a platform.Arch) *dagger.File {
	const src, bin = "/src", "/out/tailnet-lab"
	return m.goBuilder().
		WithDirectory(src, m.Source, dagger.ContainerWithDirectoryOpts{Include: tailnet.ToolSources, Exclude: tailnet.ToolSourcesExcluded}).
		WithWorkdir(src).
		With(withEnv(tsbuild.BuildEnv(a))).
		WithExec(tailnet.ToolBuildArgs(bin)).
		File(bin)
}
