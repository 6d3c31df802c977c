package main

import (
	"context"

	"dagger/mikrotik-tailscale/internal/pins"
)

// Report which Tailscale features are compiled in, which are left out, and why.
//
// The Go build tag set and the review behind it, as markdown, including
// any upstream feature nobody has reviewed yet (kept out until then).
func (m *MikrotikTailscale) Features(ctx context.Context) (string, error) {
	rv, err := m.reviewedSource(ctx, nil)
	if err != nil {
		return "", err
	}
	return rv.review.Markdown(pins.TailscaleVersion), nil
}
