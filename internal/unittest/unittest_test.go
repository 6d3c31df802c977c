package unittest

import (
	"slices"
	"testing"
)

func TestArgsCoverEveryInternalPackage(t *testing.T) {
	args := Args()
	if args[0] != "go" || args[1] != "test" || !slices.Contains(args, "./internal/...") {
		t.Fatalf("Args = %v", args)
	}
	if slices.Contains(args, "./...") || slices.Contains(args, "./tests/...") {
		t.Errorf("Args = %v: tests/ needs root and the host's toolchains", args)
	}
}
