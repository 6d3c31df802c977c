// Package transport is the HTTP transport every credentialed request of a
// release goes through (registry pushes, the forge's API): the system's
// CAs plus any the caller adds for a forge behind a private CA, and no
// plain http except to a loopback address, where nothing crosses a
// network.
package transport

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// New returns a transport that trusts the system's CAs and every
// certificate in extraCAPEM (PEM; may be empty), and refuses plain-http
// requests to anything but a loopback address.
func New(extraCAPEM []byte) (http.RoundTripper, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if len(extraCAPEM) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if err := appendPEM(pool, extraCAPEM); err != nil {
			return nil, err
		}
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return httpsOnly{t}, nil
}

// appendPEM adds every certificate of b, and fails on anything else: a
// key or a garbled file given as a CA must not pass silently.
func appendPEM(pool *x509.CertPool, b []byte) error {
	n := 0
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return fmt.Errorf("extra CA: a PEM %q block, want only CERTIFICATE blocks", block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return fmt.Errorf("extra CA: %w", err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return errors.New("extra CA: no PEM certificate in the file")
	}
	return nil
}

// httpsOnly refuses plain http off loopback: a token or password would
// cross the network in the clear.
type httpsOnly struct{ next http.RoundTripper }

func (h httpsOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme != "https" && !IsLoopback(r.URL.Hostname()) {
		return nil, fmt.Errorf("refusing %s %s: plain http carries credentials in the clear; serve it over https (a private CA goes in --extra-ca)", r.Method, r.URL.Redacted())
	}
	resp, err := h.next.RoundTrip(r)
	if err == nil {
		absoluteNextLink(resp)
	}
	return resp, err
}

// absoluteNextLink spells out a relative pagination link (Gitea sends
// </v2/...>; rel="next" on every tag list) with the scheme
// go-containerregistry expects of the registry. It resolves such a link
// against the request (https) but requires the scheme its name rules give
// the registry, http for a private or loopback address, so listing the
// tags of an https registry at such an address fails ("pagination URL
// scheme "https" does not match registry scheme "http""). Its scheme
// transport sends the spelled-out link over https again, the host stays
// the registry's, and httpsOnly still refuses plain http.
func absoluteNextLink(resp *http.Response) {
	link := resp.Header.Get("Link")
	if resp.Request == nil || !strings.HasPrefix(link, "</") {
		return
	}
	reg, err := name.NewRegistry(resp.Request.URL.Host)
	if err != nil || reg.Scheme() == resp.Request.URL.Scheme {
		return
	}
	resp.Header.Set("Link", "<"+reg.Scheme()+"://"+resp.Request.URL.Host+link[1:])
}

// IsLoopback reports whether host is localhost or a loopback address.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
