package cacerts

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cert is a self-signed certificate in PEM, a CA or not.
func cert(t *testing.T, name string, ca bool) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Unix(0, 0),
		NotAfter:              time.Unix(0, 0).AddDate(100, 0, 0),
		IsCA:                  ca,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// rootsOf is a Root list pinning the given PEM certificates.
func rootsOf(t *testing.T, certs map[string][]byte) []Root {
	var roots []Root
	for name, c := range certs {
		b, _ := pem.Decode(c)
		parsed, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b.Bytes)
		roots = append(roots, Root{File: name, Subject: parsed.Subject.CommonName, Issuer: "test", SHA256: hex.EncodeToString(sum[:])})
	}
	return roots
}

func testRoots(t *testing.T, n int) (map[string][]byte, []Root, []byte) {
	certs := map[string][]byte{}
	var b []byte
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("root_%d.crt", i)
		certs[name] = cert(t, fmt.Sprintf("root %d", i), true)
		b = append(b, certs[name]...)
	}
	return certs, rootsOf(t, certs), b
}

func TestCheckAcceptsExactlyTheRoots(t *testing.T) {
	_, roots, b := testRoots(t, 3)
	n, err := Check(b, roots)
	if err != nil || n != 3 {
		t.Fatalf("Check = %d, %v", n, err)
	}
}

func TestCheckRejects(t *testing.T) {
	certs, roots, full := testRoots(t, 3)
	first, _ := pem.Decode(full)
	renamed := append([]Root(nil), roots...)
	renamed[0].Subject = "someone else"
	cases := map[string]struct {
		bundle []byte
		roots  []Root
		want   string
	}{
		"a root missing":    {certs["root_1.crt"], roots, "lacks 2 reviewed root(s)"},
		"an unreviewed one": {append(append([]byte(nil), full...), cert(t, "stranger", true)...), roots, "is not a reviewed root"},
		"wrong subject":     {full, renamed, `want "someone else"`},
		"duplicate":         {append(append([]byte(nil), full...), pem.EncodeToMemory(first)...), roots, "appears twice"},
		"not a CA":          {append(append([]byte(nil), full...), cert(t, "leaf", false)...), roots, "not a CA"},
		"a key":             {append(append([]byte(nil), full...), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}})...), roots, "want only CERTIFICATE"},
		"garbage":           {append(append([]byte(nil), full...), []byte("not pem at all\n")...), roots, "trailing data"},
		"broken DER":        {append(append([]byte(nil), full...), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2, 3}})...), roots, "certificate 4"},
		"empty":             {nil, roots, "lacks 3"},
	}
	for name, c := range cases {
		if _, err := Check(c.bundle, c.roots); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", name, err, c.want)
		}
	}
}

// The reviewed set covers the CAs the design promises (docs/DESIGN.md):
// Let's Encrypt, Sectigo/ZeroSSL and Google Trust Services, each with its
// RSA and ECDSA roots, and pins every root completely.
func TestRootsCoverThePromisedCAs(t *testing.T) {
	subjects := map[string]bool{}
	for _, r := range Roots {
		if len(r.SHA256) != 64 || strings.ToLower(r.SHA256) != r.SHA256 {
			t.Errorf("%s: fingerprint %q is not 64 lower-case hex digits", r.File, r.SHA256)
		}
		if !strings.HasSuffix(r.File, ".crt") || strings.ContainsAny(r.File, "/ '") || r.Subject == "" || r.Issuer == "" {
			t.Errorf("incomplete root %+v", r)
		}
		if subjects[r.Subject] {
			t.Errorf("%s twice", r.Subject)
		}
		subjects[r.Subject] = true
	}
	for _, s := range []string{"ISRG Root X1", "ISRG Root X2", "USERTrust RSA Certification Authority",
		"USERTrust ECC Certification Authority", "GTS Root R1", "GTS Root R4"} {
		if !subjects[s] {
			t.Errorf("Roots lacks %s", s)
		}
	}
}

// BundleArgs against a package built here the way Debian lays it out:
// the reviewed roots' certificates in byte order, each ending in a
// newline (one file has none), nothing else of the Mozilla directory.
func TestBundleArgsConcatenatesInByteOrder(t *testing.T) {
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Fatal("dpkg-deb is needed (Debian's dpkg): ", err)
	}
	dir := t.TempDir()
	pkg := filepath.Join(dir, "pkg")
	moz := filepath.Join(pkg, MozillaDir)
	if err := os.MkdirAll(filepath.Join(pkg, "DEBIAN"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(moz, 0o755); err != nil {
		t.Fatal(err)
	}
	control := "Package: ca-certificates\nVersion: 1\nArchitecture: all\nMaintainer: test <t@example.com>\nDescription: test\n"
	if err := os.WriteFile(filepath.Join(pkg, "DEBIAN", "control"), []byte(control), 0o644); err != nil {
		t.Fatal(err)
	}
	// Byte order puts upper case before lower case and "_" after both.
	names := []string{"b_root.crt", "B_Root.crt", "a.crt", "Z.crt"}
	certs := map[string][]byte{}
	for _, n := range names {
		certs[n] = cert(t, n, true)
	}
	certs["a.crt"] = []byte(strings.TrimSuffix(string(certs["a.crt"]), "\n"))
	for n, c := range certs {
		if err := os.WriteFile(filepath.Join(moz, n), c, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(moz, "README"), []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("dpkg-deb", "--root-owner-group", "--build", pkg, filepath.Join(dir, "ca-certificates_1_all.deb")).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb --build: %v\n%s", err, out)
	}
	out := filepath.Join(dir, "bundle.crt")
	// Every file but Z.crt is a reviewed root: it must stay out.
	picked := map[string][]byte{}
	for _, n := range []string{"b_root.crt", "B_Root.crt", "a.crt"} {
		picked[n] = certs[n]
	}
	args := BundleArgs(filepath.Join(dir, "ca-certificates_*.deb"), out, rootsOf(t, picked))
	if b, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	for _, n := range []string{"B_Root.crt", "a.crt", "b_root.crt"} {
		want = append(want, certs[n]...)
		if want[len(want)-1] != '\n' {
			want = append(want, '\n')
		}
	}
	if string(got) != string(want) {
		t.Fatalf("bundle is not the certificates in byte order:\n%s", got)
	}

	// A reviewed root the package no longer ships fails the build, by name.
	gone := append(rootsOf(t, picked), Root{File: "Gone_Root.crt", Subject: "gone", Issuer: "test", SHA256: strings.Repeat("0", 64)})
	missing := BundleArgs(filepath.Join(dir, "ca-certificates_*.deb"), out, gone)
	if b, err := exec.Command(missing[0], missing[1:]...).CombinedOutput(); err == nil || !strings.Contains(string(b), "Gone_Root.crt is not in the package") {
		t.Fatalf("a missing root was not reported: %v\n%s", err, b)
	}

	// Two packages matching the pattern is an error, not a merge.
	if err := os.WriteFile(filepath.Join(dir, "ca-certificates_2_all.deb"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err == nil || !strings.Contains(string(b), "want exactly one package") {
		t.Fatalf("two packages accepted: %v\n%s", err, b)
	}
}
