// Package cacerts is the recipe for the image's CA bundle: the Mozilla
// certificates of Debian's ca-certificates package at the pinned version
// (internal/pins.CACertificatesVersion), concatenated in byte order the
// way update-ca-certificates does. It is built from the package's files
// only, so nothing a build machine trusts locally (a proxy's CA, say) can
// end up in the image.
package cacerts

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// MozillaDir is where the package keeps the certificates.
const MozillaDir = "usr/share/ca-certificates/mozilla"

// MinCertificates is a floor no Mozilla set has come near in years (about
// 140 roots in 2025): a bundle with fewer was cut short.
const MinCertificates = 100

// BundleArgs unpacks the .deb files matching debGlob and writes the
// bundle to out: every *.crt in MozillaDir in C-locale (byte) order, each
// ending in a newline, as update-ca-certificates concatenates them.
func BundleArgs(debGlob, out string) []string {
	script := strings.Join([]string{
		"set -e",
		"export LC_ALL=C",
		"root=$(mktemp -d)",
		"set -- " + debGlob,
		`[ "$#" -eq 1 ] && [ -f "$1" ] || { echo "want exactly one package matching ` + debGlob + `, found: $*" >&2; exit 1; }`,
		`dpkg-deb -x "$1" "$root"`,
		"cd \"$root\"/" + MozillaDir,
		"set -- *.crt",
		`[ -f "$1" ] || { echo "no certificates in ` + MozillaDir + `" >&2; exit 1; }`,
		`for f do sed -e '$a\' "$f"; done >` + shellQuote(out),
		`rm -rf "$root"`,
	}, "\n")
	return []string{"sh", "-c", script}
}

// Check parses a bundle: only PEM CERTIFICATE blocks, each a valid X.509
// CA certificate, none twice, at least MinCertificates. It returns the
// number of certificates.
func Check(bundle []byte) (int, error) {
	seen := map[string]bool{}
	rest := bundle
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return 0, fmt.Errorf("CA bundle: a %q block, want only CERTIFICATE", b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return 0, fmt.Errorf("CA bundle, certificate %d: %w", len(seen)+1, err)
		}
		if !c.IsCA {
			return 0, fmt.Errorf("CA bundle: %q is not a CA certificate", c.Subject)
		}
		if seen[string(b.Bytes)] {
			return 0, fmt.Errorf("CA bundle: %q appears twice", c.Subject)
		}
		seen[string(b.Bytes)] = true
	}
	if strings.TrimSpace(string(rest)) != "" {
		return 0, errors.New("CA bundle: trailing data that is not PEM")
	}
	if len(seen) < MinCertificates {
		return 0, fmt.Errorf("CA bundle holds %d certificates, want at least %d: cut short?", len(seen), MinCertificates)
	}
	return len(seen), nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
