package baseimage

import (
	"strings"
	"testing"

	"dagger/mikrotik-tailscale/internal/pins"
)

func TestCheckAcceptsThePinsAndMirrorCopies(t *testing.T) {
	for _, ref := range []string{
		pins.GolangImage,
		pins.DebianImage,
		"debian:12.15-slim",
		"mirror.example.com:5000/library/golang:1.27.3-bookworm",
		"mirror.example.com/library/debian:12.15-slim@sha256:abd67ffcfa541b485a3dff59865ab629aa048a6c613e639d36e7456b0b229241",
	} {
		if err := Check("debian-image", ref); err != nil {
			t.Errorf("%s: %v", ref, err)
		}
	}
}

func TestCheckRejectsNonReferences(t *testing.T) {
	for _, ref := range []string{"", "debian", "Debian:12", "debian:12@sha256:short", "http://mirror/debian:12"} {
		err := Check("debian-image", ref)
		if err == nil {
			t.Errorf("%q accepted", ref)
			continue
		}
		if !strings.Contains(err.Error(), "--debian-image") {
			t.Errorf("%q: error does not name the flag: %v", ref, err)
		}
	}
}
