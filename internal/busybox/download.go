package busybox

import (
	"errors"
	"fmt"
	"strings"
)

// DebianOrigURL is Debian's archive copy of the release tarball: the
// .orig.tar.bz2 of Debian's busybox source package is upstream's tarball
// byte for byte (the same sha256), and deb.debian.org answers where
// busybox.net does not.
func DebianOrigURL(version string) string {
	return "https://deb.debian.org/debian/pool/main/b/busybox/busybox_" + version + ".orig.tar.bz2"
}

// URLs are the places the release tarball is fetched from, in order:
// upstream first, then Debian's copy. Whichever answers, the tarball is
// checked against the pinned sha256 before anything reads it.
func URLs(version string) []string { return []string{URL(version), DebianOrigURL(version)} }

// FetchFirst calls fetch for each URL in order and returns the first
// result that succeeds, with its URL. When every URL fails, the error
// names each one with its own error.
func FetchFirst[T any](urls []string, fetch func(url string) (T, error)) (T, string, error) {
	var zero T
	if len(urls) == 0 {
		return zero, "", errors.New("busybox: no source URL to fetch from")
	}
	var failures []string
	for _, u := range urls {
		v, err := fetch(u)
		if err == nil {
			return v, u, nil
		}
		failures = append(failures, fmt.Sprintf("%s: %v", u, err))
	}
	return zero, "", fmt.Errorf("busybox source: every URL failed:\n  %s", strings.Join(failures, "\n  "))
}
