package platform

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// Every platform's call runs at the same time: each waits until all have
// started, which only completes if none waits for another to finish.
func TestEachRunsAllAtOnce(t *testing.T) {
	var started sync.WaitGroup
	started.Add(len(All()))
	all := make(chan struct{})
	go func() { started.Wait(); close(all) }()
	seen := make([]string, len(All()))
	err := Each(func(i int, a Arch) error {
		seen[i] = a.Name
		started.Done()
		select {
		case <-all:
			return nil
		case <-time.After(10 * time.Second):
			return errors.New("the other platforms never started")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range All() {
		if seen[i] != a.Name {
			t.Errorf("index %d got %q, want %q", i, seen[i], a.Name)
		}
	}
}

func TestEachJoinsErrorsInPlatformOrder(t *testing.T) {
	err := Each(func(i int, a Arch) error {
		if a.Dir == "amd64" || a.Dir == "armv5" {
			return errors.New("broken")
		}
		return nil
	})
	if err == nil {
		t.Fatal("no error")
	}
	want := "amd64: broken\narm/v5: broken"
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestEachNilWhenAllSucceed(t *testing.T) {
	if err := Each(func(int, Arch) error { return nil }); err != nil {
		t.Fatal(err)
	}
}
