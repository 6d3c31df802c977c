// Package cacerts is the recipe for the image's CA bundle: a reviewed set
// of root certificates (Roots) taken from Debian's ca-certificates
// package at the pinned version (internal/pins.CACertificatesVersion) and
// concatenated in byte order the way update-ca-certificates does. It is
// built from the package's files only, so nothing a build machine trusts
// locally (a proxy's CA, say) can end up in the image, and every root is
// pinned by fingerprint, so a package update that drops or changes one
// fails the build instead of breaking logins on routers.
package cacerts

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// MozillaDir is where the package keeps the certificates.
const MozillaDir = "usr/share/ca-certificates/mozilla"

// Root is one root certificate the image trusts: its file in MozillaDir,
// its subject, the certificate authority that issues server certificates under it,
// and the SHA-256 fingerprint of its DER encoding.
type Root struct {
	File    string
	Subject string // the certificate's subject common name
	Issuer  string
	SHA256  string
}

// Roots is the image's trust set. tailscaled makes TLS connections only to
// its control server, DERP servers and bootstrap DNS: Tailscale's own run
// on Let's Encrypt certificates, and a self-hosted Headscale (with its
// embedded DERP) has a certificate from one of the large ACME or cloud
// CAs. The full Mozilla set (148 roots, 222,073 bytes in ca-certificates
// 20250419~deb12u2) cost 7 % of the arm64 root filesystem for roots
// nothing in the image talks to; these 12 take 16,419 bytes. A control
// server with a private CA works through the state mount
// (docs/USAGE.md). Fingerprints: the pinned package's files
// (openssl x509 -fingerprint -sha256), checked by Check at every build.
var Roots = []Root{
	{"ISRG_Root_X1.crt", "ISRG Root X1", "Let's Encrypt (Tailscale's control and DERP servers)", "96bcec06264976f37460779acf28c5a7cfe8a3c0aae11a8ffcee05c0bddf08c6"},
	{"ISRG_Root_X2.crt", "ISRG Root X2", "Let's Encrypt, ECDSA", "69729b8e15a86efc177a57afb7171dfc64add28c2fca8cf1507e34453ccb1470"},
	{"USERTrust_RSA_Certification_Authority.crt", "USERTrust RSA Certification Authority", "Sectigo and ZeroSSL", "e793c9b02fd8aa13e21c31228accb08119643b749c898964b1746d46c3d4cbd2"},
	{"USERTrust_ECC_Certification_Authority.crt", "USERTrust ECC Certification Authority", "Sectigo and ZeroSSL, ECDSA", "4ff460d54b9c86dabfbcfc5712e0400d2bed3fbc4d4fbdaa86e06adcd2a9ad7a"},
	{"Sectigo_Public_Server_Authentication_Root_R46.crt", "Sectigo Public Server Authentication Root R46", "Sectigo and ZeroSSL, new hierarchy", "7bb647a62aeeac88bf257aa522d01ffea395e0ab45c73f93f65654ec38f25a06"},
	{"Sectigo_Public_Server_Authentication_Root_E46.crt", "Sectigo Public Server Authentication Root E46", "Sectigo and ZeroSSL, new hierarchy, ECDSA", "c90f26f0fb1b4018b22227519b5ca2b53e2ca5b3be5cf18efe1bef47380c5383"},
	{"GTS_Root_R1.crt", "GTS Root R1", "Google Trust Services (also Cloudflare)", "d947432abde7b7fa90fc2e6b59101b1280e0e1c7e4e40fa3c6887fff57a7f4cf"},
	{"GTS_Root_R2.crt", "GTS Root R2", "Google Trust Services", "8d25cd97229dbf70356bda4eb3cc734031e24cf00fafcfd32dc76eb5841c7ea8"},
	{"GTS_Root_R3.crt", "GTS Root R3", "Google Trust Services, ECDSA", "34d8a73ee208d9bcdb0d956520934b4e40e69482596e8b6f73c8426b010a6f48"},
	{"GTS_Root_R4.crt", "GTS Root R4", "Google Trust Services, ECDSA", "349dfa4058c5e263123b398ae795573c4e1313c83fe68f93556cd5e8031b3c7d"},
	{"DigiCert_Global_Root_G2.crt", "DigiCert Global Root G2", "DigiCert (Azure and many commercial certificates)", "cb3ccbb76031e5e0138f8dd39a23f9de47ffc35e43c1144cea27d46a5ab1cb5f"},
	{"Amazon_Root_CA_1.crt", "Amazon Root CA 1", "Amazon (AWS Certificate Manager, e.g. a Headscale behind an AWS load balancer)", "8ecde6884f3d87b1125ba31ac3fcb13d7016de7f57cc904fe1cb97c6ae98196e"},
}

// BundleArgs unpacks the .deb file matching debGlob and writes the bundle
// of roots to out: their files in C-locale (byte) order, each ending in a
// newline, as update-ca-certificates concatenates them. A root missing
// from the package fails the command, naming it.
func BundleArgs(debGlob, out string, roots []Root) []string {
	var files []string
	for _, r := range roots {
		files = append(files, shellQuote(r.File))
	}
	slices.Sort(files) // quoting keeps byte order: names are [A-Za-z0-9._-]
	script := strings.Join([]string{
		"set -e",
		"export LC_ALL=C",
		"root=$(mktemp -d)",
		"set -- " + debGlob,
		`[ "$#" -eq 1 ] && [ -f "$1" ] || { echo "want exactly one package matching ` + debGlob + `, found: $*" >&2; exit 1; }`,
		`dpkg-deb -x "$1" "$root"`,
		"cd \"$root\"/" + MozillaDir,
		"for f in " + strings.Join(files, " ") + "; do",
		`  [ -f "$f" ] || { echo "root certificate $f is not in the package (dropped upstream? review internal/cacerts.Roots)" >&2; exit 1; }`,
		`  sed -e '$a\' "$f"`,
		"done >" + shellQuote(out),
		`rm -rf "$root"`,
	}, "\n")
	return []string{"sh", "-c", script}
}

// Check parses a bundle: only PEM CERTIFICATE blocks, each a valid X.509
// CA certificate, none twice, and exactly the roots given, by
// fingerprint. It returns the number of certificates.
func Check(bundle []byte, roots []Root) (int, error) {
	want := map[string]Root{}
	for _, r := range roots {
		want[strings.ToLower(r.SHA256)] = r
	}
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
		sum := sha256.Sum256(b.Bytes)
		fp := hex.EncodeToString(sum[:])
		if seen[fp] {
			return 0, fmt.Errorf("CA bundle: %q appears twice", c.Subject)
		}
		r, ok := want[fp]
		if !ok {
			return 0, fmt.Errorf("CA bundle: %q (sha256 %s) is not a reviewed root (internal/cacerts.Roots)", c.Subject, fp)
		}
		if c.Subject.CommonName != r.Subject {
			return 0, fmt.Errorf("CA bundle: %s has subject %q, want %q", r.File, c.Subject.CommonName, r.Subject)
		}
		seen[fp] = true
	}
	if strings.TrimSpace(string(rest)) != "" {
		return 0, errors.New("CA bundle: trailing data that is not PEM")
	}
	var missing []string
	for _, r := range roots {
		if !seen[strings.ToLower(r.SHA256)] {
			missing = append(missing, fmt.Sprintf("%s (%s, sha256 %s)", r.File, r.Issuer, r.SHA256))
		}
	}
	if len(missing) > 0 {
		return 0, fmt.Errorf("CA bundle lacks %d reviewed root(s): %s", len(missing), strings.Join(missing, "; "))
	}
	return len(seen), nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
