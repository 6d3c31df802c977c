package gitea

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeGitea serves the two endpoints with real pagination and token checks.
type fakeGitea struct {
	mu   sync.Mutex
	tags []string
	made []map[string]string
}

func (f *fakeGitea) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "token s3cret" {
		http.Error(w, `{"message":"token is required"}`, http.StatusUnauthorized)
		return
	}
	if r.URL.Path != "/api/v1/repos/me/mikrotik-tailscale/tags" {
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.Method {
	case http.MethodGet:
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		out := []map[string]string{}
		for i := (page - 1) * limit; i < page*limit && i < len(f.tags); i++ {
			out = append(out, map[string]string{"name": f.tags[i]})
		}
		json.NewEncoder(w).Encode(out)
	case http.MethodPost:
		var body map[string]string
		json.NewDecoder(r.Body).Decode(&body)
		if slices.Contains(f.tags, body["tag_name"]) {
			http.Error(w, `{"message":"tag already exists"}`, http.StatusConflict)
			return
		}
		f.tags = append(f.tags, body["tag_name"])
		f.made = append(f.made, body)
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{}`)
	}
}

func newClient(t *testing.T, f *fakeGitea, token string) *Client {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := NewClient(srv.URL+"/", "me/mikrotik-tailscale", token, http.DefaultTransport)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTagsFollowsPagination(t *testing.T) {
	f := &fakeGitea{}
	for i := range 120 {
		f.tags = append(f.tags, fmt.Sprintf("v0.%d.0", i))
	}
	got, err := newClient(t, f, "s3cret").Tags(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 120 || got[119] != "v0.119.0" {
		t.Fatalf("got %d tags, last %q", len(got), got[len(got)-1])
	}
}

func TestCreateTag(t *testing.T) {
	f := &fakeGitea{}
	c := newClient(t, f, "s3cret")
	if err := c.CreateTag(context.Background(), "v1.104.5-mt.1", "abc123", "Tailscale 1.104.5"); err != nil {
		t.Fatal(err)
	}
	if len(f.made) != 1 || f.made[0]["target"] != "abc123" || f.made[0]["tag_name"] != "v1.104.5-mt.1" {
		t.Fatalf("created %v", f.made)
	}
	err := c.CreateTag(context.Background(), "v1.104.5-mt.1", "abc123", "again")
	if err == nil || !strings.Contains(err.Error(), "409") {
		t.Fatalf("duplicate create: %v", err)
	}
}

func TestErrorsCarryStatusAndMessage(t *testing.T) {
	_, err := newClient(t, &fakeGitea{}, "wrong").Tags(context.Background())
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "token is required") {
		t.Fatalf("err = %v", err)
	}
}

func TestNewClientValidates(t *testing.T) {
	for _, tc := range []struct{ url, repo string }{
		{"https://g.example", "noslash"}, {"https://g.example", "a/b/c"}, {"ftp://g.example", "a/b"}, {"g.example", "a/b"},
		{"http://g.example", "a/b"}, {"http://10.0.0.1:3000", "a/b"},
	} {
		if _, err := NewClient(tc.url, tc.repo, "t", http.DefaultTransport); err == nil {
			t.Errorf("NewClient(%q, %q) accepted", tc.url, tc.repo)
		}
	}
	if _, err := NewClient("http://g.example", "a/b", "t", http.DefaultTransport); err == nil || !strings.Contains(err.Error(), "plain http only to a loopback address") {
		t.Errorf("plain http elsewhere: %v", err)
	}
	for _, u := range []string{"https://g.example/sub", "http://127.0.0.1:3000", "http://[::1]:3000", "http://localhost:3000"} {
		c, err := NewClient(u, "a/b", "t", http.DefaultTransport)
		if err != nil {
			t.Errorf("NewClient(%q): %v", u, err)
		} else if c.HTTP.Timeout != Timeout {
			t.Errorf("NewClient(%q): no request timeout", u)
		}
	}
}

func TestCheckCommit(t *testing.T) {
	for _, ok := range []string{strings.Repeat("a1", 20), strings.Repeat("0f", 32)} {
		if err := CheckCommit(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "main", "abc123", strings.Repeat("A1", 20), strings.Repeat("a", 41), strings.Repeat("g", 40)} {
		if err := CheckCommit(bad); err == nil || !strings.Contains(err.Error(), "expected a full commit hash") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// Listing tags is retried on 5xx (bounded), never on 4xx.
func TestTagsRetriesServerErrors(t *testing.T) {
	for _, tc := range []struct {
		fail, code, wantCalls int
		wantErr               bool
	}{
		{1, http.StatusServiceUnavailable, 2, false},
		{5, http.StatusBadGateway, getTries, true},
		{5, http.StatusNotFound, 1, true},
	} {
		var mu sync.Mutex
		calls := 0
		f := &fakeGitea{tags: []string{"v1.0.0"}}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			calls++
			n := calls
			mu.Unlock()
			if n <= tc.fail {
				http.Error(w, `{"message":"busy"}`, tc.code)
				return
			}
			f.ServeHTTP(w, r)
		}))
		c, err := NewClient(srv.URL, "me/mikrotik-tailscale", "s3cret", http.DefaultTransport)
		if err != nil {
			t.Fatal(err)
		}
		tags, err := c.Tags(context.Background())
		srv.Close()
		if (err != nil) != tc.wantErr || calls != tc.wantCalls || (err == nil && !slices.Equal(tags, []string{"v1.0.0"})) {
			t.Errorf("%d× %d: calls %d (want %d), tags %v, err %v", tc.fail, tc.code, calls, tc.wantCalls, tags, err)
		}
	}
}

// A forge whose certificate is refused is not asked again.
func TestTagsDoesNotRetryARefusedCertificate(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	rt := &countingTransport{next: http.DefaultTransport}
	c, err := NewClient(srv.URL, "me/mikrotik-tailscale", "s3cret", rt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err = c.Tags(context.Background()); err == nil || !strings.Contains(err.Error(), "certificate") || rt.calls != 1 {
		t.Errorf("err %v after %d requests; want one certificate error", err, rt.calls)
	}
}

type countingTransport struct {
	next  http.RoundTripper
	calls int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.calls++
	return c.next.RoundTrip(r)
}
