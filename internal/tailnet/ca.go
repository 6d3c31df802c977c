package tailnet

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"time"
)

// CA is a throwaway certificate authority and one server certificate it
// signed, all PEM.
type CA struct {
	CAPEM, CertPEM, KeyPEM []byte
}

// caValidFrom and caValidity bound the lab CA: fixed, so the same seed
// gives the same bytes.
var caValidFrom = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

const caValidity = 100 * 365 * 24 * time.Hour

// NewCA makes a CA and a server certificate for the DNS names and IP
// addresses given, deterministically from seed: Ed25519 keys from the
// seed's hash and Ed25519's deterministic signatures. The same lab
// (seed) is the same bytes, so the engine's cache can reuse a lab step;
// another seed (platform, policy) is another CA. It is trusted only inside
// the lab's containers.
func NewCA(seed string, names []string, ips []net.IP) (CA, error) {
	caKey := ed25519.NewKeyFromSeed(derive(seed, "ca"))
	key := ed25519.NewKeyFromSeed(derive(seed, "server"))
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mikrotik-tailscale tailnet lab CA"},
		NotBefore:             caValidFrom,
		NotAfter:              caValidFrom.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(nil, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return CA{}, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return CA{}, err
	}
	cn := "tailnet lab server"
	if len(names) > 0 {
		cn = names[0]
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    caValidFrom,
		NotAfter:     caValidFrom.Add(caValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     names,
		IPAddresses:  ips,
	}
	leafDER, err := x509.CreateCertificate(nil, leafTmpl, ca, key.Public(), caKey)
	if err != nil {
		return CA{}, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return CA{}, err
	}
	return CA{
		CAPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

// derive is a 32-byte Ed25519 seed for one key of the lab.
func derive(seed, which string) []byte {
	sum := sha256.Sum256([]byte("mikrotik-tailscale tailnet lab\x00" + seed + "\x00" + which))
	return sum[:]
}
