// Package gitea is the part of the Gitea API the release-tag job needs,
// on Gitea's own Go SDK: list a repository's tags and create one. It
// speaks HTTPS with a token (internal/transport); Forgejo serves the same
// API.
package gitea

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	sdk "code.gitea.io/sdk/gitea"

	"dagger/mikrotik-tailscale/internal/transport"
)

// Client talks to one repository.
type Client struct {
	Owner, Repo string
	// HTTP is the client every request goes through.
	HTTP *http.Client
	base string
	tok  string
}

// Timeout bounds each API request: a hung forge fails the job instead of
// holding it until the CI runner's own limit.
const Timeout = 30 * time.Second

// getTries is how often an idempotent request (listing tags) is tried
// when the forge does not answer or answers 5xx.
const getTries = 3

// NewClient splits "owner/name" and checks the base URL: https, or plain
// http to a loopback address only (the token would cross the network in
// the clear). rt carries the requests (transport.New: the CAs to trust).
func NewClient(baseURL, repo, token string, rt http.RoundTripper) (*Client, error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("repository %q: expected owner/name", repo)
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("Gitea URL %q: expected https://host[/path]", baseURL)
	}
	if u.Scheme == "http" && !transport.IsLoopback(u.Hostname()) {
		return nil, fmt.Errorf("Gitea URL %q: expected https://host[/path] (plain http only to a loopback address: the token would travel in the clear)", baseURL)
	}
	return &Client{Owner: owner, Repo: name, HTTP: &http.Client{Timeout: Timeout, Transport: rt},
		base: strings.TrimRight(baseURL, "/"), tok: token}, nil
}

// sdk is a client bound to ctx. The server's version is not asked for:
// both calls exist since Gitea 1.15, and the probe would be one more
// request to fail.
func (c *Client) sdk(ctx context.Context) (*sdk.Client, error) {
	return sdk.NewClient(c.base, sdk.SetHTTPClient(c.HTTP), sdk.SetToken(c.tok), sdk.SetContext(ctx), sdk.SetGiteaVersion(""))
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

// apiError names the request and the forge's status next to its message
// (the SDK's error carries the message alone).
func (c *Client) apiError(what string, resp *sdk.Response, err error) error {
	if resp == nil || resp.Response == nil {
		return fmt.Errorf("%s %s/%s: %w", what, c.Owner, c.Repo, err)
	}
	return fmt.Errorf("%s %s/%s: %s: %w", what, c.Owner, c.Repo, resp.Status, err)
}

// retryable: the forge did not answer, or answered 5xx. A certificate it
// was refused for will be refused again.
func retryable(resp *sdk.Response, err error) bool {
	var cert *tls.CertificateVerificationError
	if errors.As(err, &cert) {
		return false
	}
	return resp == nil || resp.Response == nil || resp.StatusCode >= 500
}

// Tags lists every tag name, following pagination. Each page is tried
// getTries times, 1 s apart and then 2 s, while the forge does not answer
// or answers 5xx.
func (c *Client) Tags(ctx context.Context) ([]string, error) {
	api, err := c.sdk(ctx)
	if err != nil {
		return nil, err
	}
	const limit = 50
	var names []string
	for page := 1; ; page++ {
		var batch []*sdk.Tag
		for try := 1; ; try++ {
			var resp *sdk.Response
			batch, resp, err = api.ListRepoTags(c.Owner, c.Repo, sdk.ListRepoTagsOptions{ListOptions: sdk.ListOptions{Page: page, PageSize: limit}})
			if err == nil {
				break
			}
			retry := retryable(resp, err)
			err = c.apiError("listing the tags of", resp, err)
			if !retry || try == getTries {
				return nil, err
			}
			select {
			case <-ctx.Done():
				return nil, err
			case <-time.After(time.Duration(try) * time.Second):
			}
		}
		for _, t := range batch {
			names = append(names, t.Name)
		}
		if len(batch) < limit {
			return names, nil
		}
	}
}

// CreateTag creates an annotated tag at target (a full commit hash). Not
// retried: a create that reached the forge but lost its answer would
// fail the second time; the caller lists the tags again instead.
func (c *Client) CreateTag(ctx context.Context, name, target, message string) error {
	api, err := c.sdk(ctx)
	if err != nil {
		return err
	}
	_, resp, err := api.CreateTag(c.Owner, c.Repo, sdk.CreateTagOption{TagName: name, Target: target, Message: message})
	if err != nil {
		return c.apiError("creating tag "+name+" in", resp, err)
	}
	return nil
}
