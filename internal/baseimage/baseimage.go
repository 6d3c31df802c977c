// Package baseimage checks the base image references a user may pass in
// place of the pins (a registry mirror's copies, say) before any work
// starts.
package baseimage

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Check fails, naming the flag, when ref is not a pinned image reference
// the engine can pull: [registry/]repository:tag, optionally
// @sha256:digest.
func Check(flag, ref string) error {
	if ref == "" {
		return fmt.Errorf("--%s is empty: give an image reference such as registry.example.com/library/debian:12.15-slim", flag)
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		return fmt.Errorf("--%s %q is not an image reference (registry/repository:tag[@sha256:digest]): %w", flag, ref, err)
	}
	// Without a tag the engine would pull :latest, whatever that is today.
	if _, isTag := r.(name.Tag); isTag && !strings.Contains(ref[strings.LastIndex(ref, "/")+1:], ":") {
		return fmt.Errorf("--%s %q names no tag: pin the version (repository:tag[@sha256:digest]), never :latest by default", flag, ref)
	}
	return nil
}

// CAUpdater is Debian's update-ca-certificates, which the builder images
// carry (golang:*-bookworm always, a Debian image when ca-certificates is
// installed). An engine configured with custom CAs (a TLS-intercepting
// proxy, a private registry mirror) runs it twice around every exec in a
// container that has it, to add its CAs and take them out again: seconds
// and a burst of openssl processes per exec, where without it the engine
// simply appends its CAs to the bundle file for the exec (docs/DESIGN.md).
// No build step of the pipeline runs the tool, so the builders start
// without it.
const CAUpdater = "/usr/sbin/update-ca-certificates"
