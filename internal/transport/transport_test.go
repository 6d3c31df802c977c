package transport

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, rt http.RoundTripper, url string) error {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := rt.RoundTrip(req)
	if err == nil {
		resp.Body.Close()
	}
	return err
}

func TestExtraCAIsTrusted(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})

	plain, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := get(t, plain, srv.URL); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a server of an unknown CA was accepted without --extra-ca: %v", err)
	}
	withCA, err := New(ca)
	if err != nil {
		t.Fatal(err)
	}
	if err := get(t, withCA, srv.URL); err != nil {
		t.Errorf("the extra CA is not trusted: %v", err)
	}
}

func TestPlainHTTPOnlyToLoopback(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	rt, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := get(t, rt, srv.URL); err != nil {
		t.Errorf("plain http to loopback refused: %v", err)
	}
	for _, u := range []string{"http://192.168.88.1:3000/v2/", "http://10.87.0.1/api/v1/version", "http://gitea.example.com/v2/"} {
		err := get(t, rt, u)
		if err == nil || !strings.Contains(err.Error(), "plain http carries credentials in the clear") {
			t.Errorf("%s: %v, want a refusal", u, err)
		}
	}
}

func TestBadExtraCA(t *testing.T) {
	for name, b := range map[string]string{
		"no PEM":  "not a certificate",
		"a key":   "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		"garbled": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
	} {
		if _, err := New([]byte(b)); err == nil || !strings.HasPrefix(err.Error(), "extra CA:") {
			t.Errorf("%s: %v, want an extra CA error", name, err)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true, "127.1.2.3": true,
		"10.87.0.1": false, "gitea.example.com": false, "localhost.example.com": false} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v", host, got)
		}
	}
}
