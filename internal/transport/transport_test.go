package transport

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
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

// A registry at a loopback or private address over https that paginates
// its tag list with relative links, as Gitea does: every page is read.
func TestTagListOverHTTPSAtAPrivateAddress(t *testing.T) {
	tags := []string{"v1.104.5-mt.1", "v1.104.5-mt.2", "stable"}
	var pages []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		if r.URL.Path != "/v2/lab/mt/tags/list" {
			http.NotFound(w, r)
			return
		}
		pages = append(pages, r.URL.RawQuery)
		var page []string
		switch r.URL.Query().Get("last") {
		case "":
			page = tags[:2]
		case tags[1]:
			page = tags[2:]
		}
		if len(page) > 0 {
			w.Header().Set("Link", `</v2/lab/mt/tags/list?last=`+page[len(page)-1]+`>; rel="next"`)
		}
		json.NewEncoder(w).Encode(map[string]any{"name": "lab/mt", "tags": append([]string{}, page...)})
	}))
	defer srv.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	rt, err := New(ca)
	if err != nil {
		t.Fatal(err)
	}
	repo, err := name.NewRepository(strings.TrimPrefix(srv.URL, "https://") + "/lab/mt")
	if err != nil {
		t.Fatal(err)
	}
	got, err := remote.List(repo, remote.WithTransport(rt))
	if err != nil {
		t.Fatalf("listing the tags: %v (pages asked: %v)", err, pages)
	}
	if !slices.Equal(got, tags) {
		t.Errorf("tags %v, want %v (pages asked: %v)", got, tags, pages)
	}
}
