package layout

import (
	"fmt"

	"dagger/mikrotik-tailscale/internal/busybox"
)

// ImageLayers are the image's layers for the text of the BusyBox applet
// list (busybox.ListFile), validated. The pipeline's build, its image
// stamp and both test suites take the layout from here, so they cannot
// drift apart.
func ImageLayers(appletList string) ([]Layer, error) {
	list, err := busybox.ParseList(appletList)
	if err != nil {
		return nil, err
	}
	layers, err := Layers(busybox.Names(list))
	if err != nil {
		return nil, err
	}
	if err := Validate(layers); err != nil {
		return nil, fmt.Errorf("image layout: %w", err)
	}
	return layers, nil
}
