package cacerts

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
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

func bundle(t *testing.T, n int) []byte {
	var b []byte
	for i := 0; i < n; i++ {
		b = append(b, cert(t, fmt.Sprintf("root %d", i), true)...)
	}
	return b
}

func TestCheckAcceptsAFullBundle(t *testing.T) {
	n, err := Check(bundle(t, MinCertificates))
	if err != nil || n != MinCertificates {
		t.Fatalf("Check = %d, %v", n, err)
	}
}

func TestCheckRejects(t *testing.T) {
	full := bundle(t, MinCertificates)
	first, _ := pem.Decode(full)
	cases := map[string][]byte{
		"too few":    bundle(t, MinCertificates-1),
		"duplicate":  append(full, pem.EncodeToMemory(first)...),
		"not a CA":   append(full, cert(t, "leaf", false)...),
		"a key":      append(full, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}})...),
		"garbage":    append(full, []byte("not pem at all\n")...),
		"broken DER": append(full, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2, 3}})...),
	}
	for name, b := range cases {
		if _, err := Check(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// BundleArgs against a package built here the way Debian lays it out:
// certificates in byte order, each ending in a newline (one file has
// none), nothing but the Mozilla directory's *.crt.
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
	args := BundleArgs(filepath.Join(dir, "ca-certificates_*.deb"), out)
	if b, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	for _, n := range []string{"B_Root.crt", "Z.crt", "a.crt", "b_root.crt"} {
		want = append(want, certs[n]...)
		if want[len(want)-1] != '\n' {
			want = append(want, '\n')
		}
	}
	if string(got) != string(want) {
		t.Fatalf("bundle is not the certificates in byte order:\n%s", got)
	}

	// Two packages matching the pattern is an error, not a merge.
	if err := os.WriteFile(filepath.Join(dir, "ca-certificates_2_all.deb"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err == nil || !strings.Contains(string(b), "want exactly one package") {
		t.Fatalf("two packages accepted: %v\n%s", err, b)
	}
}
