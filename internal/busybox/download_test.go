package busybox

import (
	"errors"
	"strings"
	"testing"
)

func TestURLsUpstreamFirstThenDebian(t *testing.T) {
	got := URLs("1.37.0")
	want := []string{
		"https://busybox.net/downloads/busybox-1.37.0.tar.bz2",
		"https://deb.debian.org/debian/pool/main/b/busybox/busybox_1.37.0.orig.tar.bz2",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("URLs = %v, want %v", got, want)
	}
}

func TestFetchFirstTakesTheFirstThatAnswers(t *testing.T) {
	var tried []string
	v, url, err := FetchFirst([]string{"a", "b", "c"}, func(u string) (string, error) {
		tried = append(tried, u)
		if u == "a" {
			return "", errors.New("no such host")
		}
		return "file from " + u, nil
	})
	if err != nil || v != "file from b" || url != "b" || strings.Join(tried, "") != "ab" {
		t.Fatalf("got %q from %q (%v), tried %v", v, url, err, tried)
	}
}

func TestFetchFirstNamesEveryFailedURL(t *testing.T) {
	_, _, err := FetchFirst(URLs("1.37.0"), func(u string) (int, error) {
		return 0, errors.New("failed: " + u[len(u)-12:])
	})
	if err == nil {
		t.Fatal("no error when every URL failed")
	}
	for _, u := range URLs("1.37.0") {
		if !strings.Contains(err.Error(), u+": failed: ") {
			t.Errorf("error does not name %s with its failure:\n%v", u, err)
		}
	}
	if _, _, err := FetchFirst(nil, func(string) (int, error) { return 1, nil }); err == nil {
		t.Error("no URLs: no error")
	}
}
