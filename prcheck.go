package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"

	"dagger/mikrotik-tailscale/internal/budget"
	"dagger/mikrotik-tailscale/internal/checkreport"
	"dagger/mikrotik-tailscale/internal/dagger"
	"dagger/mikrotik-tailscale/internal/features"
	"dagger/mikrotik-tailscale/internal/layout"
	"dagger/mikrotik-tailscale/internal/ocicheck"
	"dagger/mikrotik-tailscale/internal/pins"
	"dagger/mikrotik-tailscale/internal/platform"
	"dagger/mikrotik-tailscale/internal/smoke"
)

// Run the required pull request check: build every platform and check it.
//
// Fails, with a report of every check, when the Go version guard fails,
// the feature catalogue disagrees with upstream (or upstream added a
// feature nobody reviewed), tailscale.combined is not in exactly one
// layer, a path sits in two layers, an image exceeds its size budget, the
// RouterOS tarball is not importable, the compiled-in features differ from
// the recipe, or the smoke run inside the image fails (daemon starts,
// status says logged out, routes and exit node can be set, version
// matches, the shell runs a pipeline), or the tailnet check fails on a
// platform (see tailnet: login, routes, exit node, pings, rejected SYNs,
// control outage, state directory).
func (m *MikrotikTailscale) PrCheck(
	ctx context.Context,
	// Report format: markdown, json, or github (workflow-command annotations plus the markdown report).
	// +default="markdown"
	format string,
	// Size budget overrides as ARCH=COMPRESSED/UNCOMPRESSED, e.g. arm64=4MB/4.2MB; the defaults are the measured sizes plus about 3 %.
	// +optional
	budgets []string,
	// Report upstream features nobody has reviewed yet instead of failing.
	// +optional
	allowUnreviewed bool,
	// Check images with these opt-in features (see build); each widens every budget by its allowance.
	// +optional
	with []string,
	// Run the tailnet check on every platform (Headscale, the image as router, a client; a few minutes). --tailnet=false for a quick local run; CI and release always run it.
	// +default=true
	tailnet bool,
	// Headscale policy (HuJSON) for the tailnet check instead of the check's own, e.g. your tailnet's.
	// +optional
	tailnetPolicy *dagger.File,
) (string, error) {
	f, err := checkreport.ParseFormat(format)
	if err != nil {
		return "", err
	}
	limits, err := budget.Parse(budgets)
	if err != nil {
		return "", err
	}
	opts, err := features.ParseWith(with)
	if err != nil {
		return "", err
	}
	limits = budget.WithAllowance(limits, features.Allowance(opts))
	policy, err := labPolicy(ctx, tailnetPolicy)
	if err != nil {
		return "", err
	}
	rep := checkreport.Report{Title: "mikrotik-tailscale PR check (Tailscale " + pins.TailscaleVersion + ")"}
	if len(opts) > 0 {
		rep.Title += " with " + strings.Join(opts, ", ")
	}
	rep.Checks = m.prChecks(ctx, limits, allowUnreviewed, opts, tailnet, policy, nil, func(_ int, a platform.Arch, rv reviewed) (*dagger.Container, error) {
		return m.image(ctx, devSpec(a), rv)
	})

	var out bytes.Buffer
	if err := rep.Render(&out, f, func(string) string { return "" }); err != nil {
		return "", err
	}
	if !rep.Passed() {
		return "", fmt.Errorf("%d of %d checks failed\n%s", len(rep.Failed()), len(rep.Checks), out.String())
	}
	return out.String(), nil
}

// imageBuilder builds the image of one platform (i is its index in
// platform.All()) from the reviewed source.
type imageBuilder func(i int, a platform.Arch, rv reviewed) (*dagger.Container, error)

// prChecks runs every check of the required check on the images build
// returns: pr-check's dev builds, or the very images release publishes.
// The reviewed source is resolved here, once, unless the caller already
// did (resolved: release builds from it before the checks).
func (m *MikrotikTailscale) prChecks(ctx context.Context, limits map[string]ocicheck.Budget, allowUnreviewed bool, with []string, withTailnet bool, policy string, resolved *reviewed, build imageBuilder) []checkreport.Check {
	if withTailnet {
		// Headscale and the lab tools build beside the images (their
		// downloads and compiles overlap); the tailnet check waits for them.
		go m.prefetchTailnet(ctx)
	}
	var rv reviewed
	var checks []checkreport.Check
	if resolved != nil {
		rv = *resolved
		checks = []checkreport.Check{
			resultDetail("Tailscale source and Go version guard", "", nil, "checked before the builds"),
			resultDetail("feature catalogue matches upstream featuretags", "", nil, "checked before the builds"),
		}
	} else {
		src, err := m.tailscaleSource(ctx)
		checks = append(checks, result("Tailscale source and Go version guard", "", err))
		if err != nil {
			return checks
		}
		review, err := featureReview(ctx, src, with)
		checks = append(checks, result("feature catalogue matches upstream featuretags", "", err))
		if err != nil {
			return checks
		}
		rv = reviewed{src, review}
	}
	review := rv.review
	var unreviewed error
	if len(review.Unreviewed) > 0 {
		unreviewed = fmt.Errorf("not yet reviewed (omitted, decide in internal/features/catalog.go): %s", strings.Join(review.Unreviewed, ", "))
	}
	c := result("every upstream feature reviewed", "", unreviewed)
	if allowUnreviewed && unreviewed != nil {
		c.Passed, c.Detail = true, "allowed: "+c.Detail
	}
	checks = append(checks, c)

	perArch := make([][]checkreport.Check, len(platform.All()))
	images := make([]*dagger.Container, len(platform.All()))
	_ = platform.Each(func(i int, a platform.Arch) error { // failures are checks
		perArch[i], images[i] = m.archChecks(ctx, i, a, rv, limits[a.Name], build)
		return nil
	})
	for _, cs := range perArch {
		checks = append(checks, cs...)
	}
	if withTailnet {
		checks = append(checks, m.tailnetAll(ctx, images, policy)...)
	}
	return checks
}

// tailnetAll runs the tailnet check for every platform side by side, each
// image as the router and the amd64 image as client, control and hosts.
func (m *MikrotikTailscale) tailnetAll(ctx context.Context, images []*dagger.Container, policy string) []checkreport.Check {
	base := images[platform.Index("amd64")]
	perArch := make([][]checkreport.Check, len(images))
	_ = platform.Each(func(i int, a platform.Arch) error { // failures are checks
		switch {
		case images[i] == nil:
			perArch[i] = []checkreport.Check{result("tailnet: lab set up", a.Name, fmt.Errorf("no image: it did not build or failed an earlier check"))}
		case base == nil:
			perArch[i] = []checkreport.Check{result("tailnet: lab set up", a.Name, fmt.Errorf("no amd64 image for the client and the control server"))}
		default:
			perArch[i] = m.tailnetChecks(ctx, a, images[i], base, policy)
		}
		return nil
	})
	var checks []checkreport.Check
	for _, cs := range perArch {
		checks = append(checks, cs...)
	}
	return checks
}

// archChecks builds one platform's image and checks it; the image comes
// back only when every check passed.
func (m *MikrotikTailscale) archChecks(ctx context.Context, i int, a platform.Arch, rv reviewed, limit ocicheck.Budget, build imageBuilder) ([]checkreport.Check, *dagger.Container) {
	review := rv.review
	ctr, err := build(i, a, rv)
	if err != nil {
		return []checkreport.Check{result("image builds", a.Name, err)}, nil
	}
	var checks []checkreport.Check

	img, err := exportedImage(ctx, ctr)
	if err != nil {
		return append(checks, result("image exports as OCI", a.Name, err)), nil
	}
	checks = append(checks,
		result("tailscale.combined in exactly one layer", a.Name, ocicheck.CheckSingleLayer(img, layout.Binary)),
		result("no path in two layers", a.Name, ocicheck.CheckNoDuplicates(img)),
		resultDetail("size budget", a.Name, ocicheck.CheckBudgets(img, limit),
			fmt.Sprintf("compressed %s (max %s), uncompressed %s (max %s)",
				ocicheck.Bytes(img.Compressed), ocicheck.Bytes(limit.MaxCompressed),
				ocicheck.Bytes(img.Uncompressed), ocicheck.Bytes(limit.MaxUncompressed))),
	)

	checks = append(checks, result("RouterOS tarball importable", a.Name, m.checkRouterOSTarball(ctx, ctr)))

	info, err := ctr.WithExec([]string{"/" + layout.BinDir + "/tailscale", "debug", "go-buildinfo"}).Stdout(ctx)
	if err == nil {
		var tags []string
		if tags, err = features.TagsFromBuildInfo(info); err == nil {
			if d := features.Diff(review.Tags, tags); len(d) > 0 {
				err = fmt.Errorf("compiled-in tags differ from the recipe: %s", strings.Join(d, ", "))
			}
		}
	}
	checks = append(checks, result("compiled-in features equal the recipe", a.Name, err))

	checks = append(checks, result("smoke run in the image", a.Name, smokeRun(ctx, ctr)))
	for _, c := range checks {
		if !c.Passed {
			return checks, nil
		}
	}
	return checks, ctr
}

// exportedImage inspects the image exactly as it would be published.
func exportedImage(ctx context.Context, ctr *dagger.Container) (ocicheck.Inspection, error) {
	path, cleanup, err := exportFile(ctx, ctr.AsTarball(dagger.ContainerAsTarballOpts{
		ForcedCompression: dagger.ImageLayerCompressionGzip,
	}), "image.tar")
	if err != nil {
		return ocicheck.Inspection{}, err
	}
	defer cleanup()
	idx, err := ocicheck.LoadIndexFromOCITar(path)
	if err != nil {
		return ocicheck.Inspection{}, err
	}
	imgs, err := ocicheck.Images(idx)
	if err != nil {
		return ocicheck.Inspection{}, err
	}
	if len(imgs) != 1 {
		return ocicheck.Inspection{}, fmt.Errorf("expected one platform image, found %d", len(imgs))
	}
	return ocicheck.Inspect(imgs[0].Image)
}

// checkRouterOSTarball exports the tarball `dagger call tarball` returns
// and checks RouterOS can import it.
func (m *MikrotikTailscale) checkRouterOSTarball(ctx context.Context, ctr *dagger.Container) error {
	tar, err := m.routerOSTarball(ctx, ctr, defaultCreated)
	if err != nil {
		return err
	}
	path, cleanup, err := exportFile(ctx, tar, "routeros.tar")
	if err != nil {
		return err
	}
	defer cleanup()
	return ocicheck.CheckRouterOSTarball(path)
}

// smokeRun runs the smoke script inside the image. tailscaled needs
// CAP_NET_ADMIN and a TUN device, as on the router. A failure reports the
// exit code, both output streams and the daemon log, which the engine
// reads from the container's filesystem (not through the image's tools).
func smokeRun(ctx context.Context, ctr *dagger.Container) error {
	run := ctr.
		WithMountedTemp("/"+layout.SocketDir).
		WithExec([]string{"/bin/sh", "-c", smoke.Script(strings.TrimPrefix(pins.TailscaleVersion, "v"))},
			dagger.ContainerWithExecOpts{InsecureRootCapabilities: true, Expect: dagger.ReturnTypeAny})
	var r smoke.Run
	var err error
	if r.ExitCode, err = run.ExitCode(ctx); err != nil {
		return err
	}
	if r.Stdout, err = run.Stdout(ctx); err != nil {
		return err
	}
	if r.Stderr, err = run.Stderr(ctx); err != nil {
		return err
	}
	// Absent when the script failed before starting the daemon.
	if log, lerr := run.File(smoke.LogFile).Contents(ctx); lerr == nil {
		r.Log = log
	} else {
		r.Log = "(not readable: " + lerr.Error() + ")"
	}
	return r.Err()
}

// exportFile writes a Dagger file into this function's own filesystem so
// Go code can read it; cleanup removes it.
func exportFile(ctx context.Context, f *dagger.File, name string) (string, func(), error) {
	dir, err := os.MkdirTemp("", "mikrotik-tailscale-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	path, err := f.Export(ctx, dir+"/"+name)
	if err != nil {
		cleanup()
		return "", nil, err
	}
	return path, cleanup, nil
}

func result(name, arch string, err error) checkreport.Check {
	return resultDetail(name, arch, err, "")
}

// resultDetail records a check; detail describes a pass, the error a fail.
func resultDetail(name, arch string, err error, detail string) checkreport.Check {
	c := checkreport.Check{Name: name, Arch: arch, Passed: err == nil, Detail: detail}
	if err != nil {
		c.Detail = err.Error()
	}
	return c
}
