package main

import (
	"context"

	"dagger/mikrotik-tailscale/internal/pins"
)

// Features reports the Go build tag set compiled into Tailscale and the
// review behind it: what is included and why, what is omitted and why,
// and any upstream feature nobody has reviewed yet (kept out until then).
func (m *MikrotikTailscale) Features(ctx context.Context) (string, error) {
	_, review, err := reviewedSource(ctx)
	if err != nil {
		return "", err
	}
	return review.Markdown(pins.TailscaleVersion), nil
}
