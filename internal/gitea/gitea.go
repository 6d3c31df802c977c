// Package gitea is the small part of the Gitea API the release-tag job
// needs: list a repository's tags and create one. It speaks HTTPS with a
// token; Forgejo serves the same API.
package gitea

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Client talks to one repository.
type Client struct {
	BaseURL string // e.g. https://gitea.example.com
	Owner   string
	Repo    string
	Token   string
	HTTP    *http.Client
}

// Timeout bounds each API request: a hung forge fails the job instead of
// holding it until the CI runner's own limit.
const Timeout = 30 * time.Second

// getTries is how often an idempotent request (listing tags) is tried
// when the forge does not answer or answers 5xx.
const getTries = 3

// NewClient splits "owner/name" and checks the base URL: https, or plain
// http to a loopback address only (the token would cross the network in
// the clear).
func NewClient(baseURL, repo, token string) (*Client, error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("repository %q: expected owner/name", repo)
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("Gitea URL %q: expected https://host[/path]", baseURL)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("Gitea URL %q: expected https://host[/path] (plain http only to a loopback address: the token would travel in the clear)", baseURL)
	}
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Owner: owner, Repo: name, Token: token,
		HTTP: &http.Client{Timeout: Timeout}}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

var commitRE = regexp.MustCompile(`^(?:[0-9a-f]{40}|[0-9a-f]{64})$`)

// CheckCommit accepts a full commit hash only: Gitea's tag API takes a
// branch name or an empty target too, and would then tag whatever that
// branch's head is, perhaps a commit no check ran on.
func CheckCommit(commit string) error {
	if !commitRE.MatchString(commit) {
		return fmt.Errorf("commit %q: expected a full commit hash, 40 (SHA-1) or 64 (SHA-256) lower-case hex digits, e.g. Woodpecker's CI_COMMIT_SHA", commit)
	}
	return nil
}

func (c *Client) endpoint(path string) string {
	return fmt.Sprintf("%s/api/v1/repos/%s/%s/%s", c.BaseURL, url.PathEscape(c.Owner), url.PathEscape(c.Repo), path)
}

func (c *Client) do(ctx context.Context, method, u string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "token "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return &statusError{fmt.Sprintf("%s %s: %s: %s", method, u, resp.Status, strings.TrimSpace(string(msg))), resp.StatusCode}
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

type statusError struct {
	msg  string
	code int
}

func (e *statusError) Error() string { return e.msg }

// get is do for a GET, tried getTries times, 1 s apart and then 2 s,
// while the forge does not answer or answers 5xx.
func (c *Client) get(ctx context.Context, u string, out any) error {
	var err error
	for try := 1; try <= getTries; try++ {
		if err = c.do(ctx, http.MethodGet, u, nil, out); err == nil {
			return nil
		}
		var se *statusError
		if errors.As(err, &se) && se.code < 500 || try == getTries {
			break
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(try) * time.Second):
		}
	}
	return err
}

// Tags lists every tag name, following pagination.
func (c *Client) Tags(ctx context.Context) ([]string, error) {
	const limit = 50
	var names []string
	for page := 1; ; page++ {
		var batch []struct {
			Name string `json:"name"`
		}
		u := c.endpoint(fmt.Sprintf("tags?page=%d&limit=%d", page, limit))
		if err := c.get(ctx, u, &batch); err != nil {
			return nil, err
		}
		for _, t := range batch {
			names = append(names, t.Name)
		}
		if len(batch) < limit {
			return names, nil
		}
	}
}

// CreateTag creates an annotated tag at target (a commit SHA or branch).
func (c *Client) CreateTag(ctx context.Context, name, target, message string) error {
	body := map[string]string{"tag_name": name, "target": target, "message": message}
	return c.do(ctx, http.MethodPost, c.endpoint("tags"), body, nil)
}
