package busybox

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseListKeepsOrderAndSkipsComments(t *testing.T) {
	list, err := ParseList("# shell\nsh\n\n  ash   # the shell behind sh\n[\n[[\n#ls\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := Names(list); !slices.Equal(got, []string{"sh", "ash", "[", "[["}) {
		t.Fatalf("Names = %v", got)
	}
	if list[1].Line != 4 || list[3].Line != 6 {
		t.Fatalf("line numbers wrong: %+v", list)
	}
}

func TestParseListErrorsNameTheLine(t *testing.T) {
	for text, want := range map[string]string{
		"sh\nls cat\n":      ListFile + ":2: one applet per line",
		"sh\nls\n\nsh\n":    ListFile + `:4: "sh" is already listed on line 1`,
		"# nothing\n\n":     "no applets listed",
		"ls\n\tgrep egrep ": ListFile + ":2:",
	} {
		_, err := ParseList(text)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseList(%q) = %v, want error containing %q", text, err, want)
		}
	}
}

// The repository's list parses and stays the curated size.
func TestRepositoryListParses(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", ListFile))
	if err != nil {
		t.Fatal(err)
	}
	list, err := ParseList(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(list); n < 100 || n > 120 {
		t.Errorf("%s lists %d applets, want about 100-120", ListFile, n)
	}
	// What a debug shell on a router needs (issue 28), and what the image
	// itself runs: tshealth (health probe), mknod (the smoke run's TUN).
	for _, want := range []string{"sh", "ip", "ping", "ping6", "traceroute6", "nslookup", "wget", "nc",
		"ps", "top", "vi", "tar", "gzip", "df", "tshealth", "mknod"} {
		if !slices.Contains(Names(list), want) {
			t.Errorf("%s lacks %s", ListFile, want)
		}
	}
}
