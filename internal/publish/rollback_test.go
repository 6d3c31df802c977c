package publish

import (
	"context"
	"strings"
	"testing"
)

func TestRollbackMovesStableToAnOlderRelease(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	old, cur := testIndex(t), testIndex(t)
	if _, err := Publish(ctx, old, s.repo(), "v1.102.4-mt.1"); err != nil {
		t.Fatal(err)
	}
	if _, err := Publish(ctx, cur, s.repo(), "v1.104.5-mt.1"); err != nil {
		t.Fatal(err)
	}
	res, err := Rollback(ctx, s.repo(), "v1.102.4-mt.1")
	if err != nil {
		t.Fatal(err)
	}
	if !res.StableMoved || s.digestAt("stable") != digest(t, old) {
		t.Fatalf("stable not rolled back: %+v", res)
	}
	if s.digestAt("v1.104.5-mt.1") != digest(t, cur) {
		t.Fatal("rollback changed the newer release tag")
	}
	again, err := Rollback(ctx, s.repo(), "v1.102.4-mt.1")
	if err != nil || again.StableMoved {
		t.Fatalf("second rollback should be a no-op: %+v, %v", again, err)
	}
}

func TestRollbackRefusesUnpublishedOrMalformedTags(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	if _, err := Publish(ctx, testIndex(t), s.repo(), "v1.104.5-mt.1"); err != nil {
		t.Fatal(err)
	}
	before := s.digestAt("stable")
	_, err := Rollback(ctx, s.repo(), "v1.102.4-mt.1")
	if err == nil || !strings.Contains(err.Error(), "not in the registry") {
		t.Fatalf("rollback to a missing tag: %v", err)
	}
	if _, err := Rollback(ctx, s.repo(), "latest"); err == nil {
		t.Fatal("rollback to a non-release tag accepted")
	}
	if s.digestAt("stable") != before {
		t.Fatal("a refused rollback moved stable")
	}
}
