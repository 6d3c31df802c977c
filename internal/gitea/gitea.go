// Package gitea is the small part of the Gitea API the release-tag job
// needs: list a repository's tags and create one. It speaks plain HTTP
// with a token; Forgejo serves the same API.
package gitea

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Client talks to one repository.
type Client struct {
	BaseURL string // e.g. https://gitea.example.com
	Owner   string
	Repo    string
	Token   string
	HTTP    *http.Client
}

// NewClient splits "owner/name" and checks the base URL.
func NewClient(baseURL, repo, token string) (*Client, error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("repository %q: expected owner/name", repo)
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("Gitea URL %q: expected https://host[/path]", baseURL)
	}
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Owner: owner, Repo: name, Token: token, HTTP: http.DefaultClient}, nil
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
		return fmt.Errorf("%s %s: %s: %s", method, u, resp.Status, strings.TrimSpace(string(msg)))
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
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
		if err := c.do(ctx, http.MethodGet, u, nil, &batch); err != nil {
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
