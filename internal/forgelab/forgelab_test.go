package forgelab

import (
	"slices"
	"strings"
	"testing"
)

func TestAppIni(t *testing.T) {
	s := Server{Dir: "/tmp/forge", StaticRoot: "/mod/gitea", IP: "10.87.0.1", Port: 3443, CertFile: "/tmp/forge/tls.crt", KeyFile: "/tmp/forge/tls.key"}
	cfg := parseIni(t, s.AppIni())
	want := map[string]map[string]string{
		"":           {"WORK_PATH": "/tmp/forge"},
		"server":     {"PROTOCOL": "https", "HTTP_ADDR": "10.87.0.1", "HTTP_PORT": "3443", "ROOT_URL": "https://10.87.0.1:3443/", "CERT_FILE": s.CertFile, "KEY_FILE": s.KeyFile, "STATIC_ROOT_PATH": "/mod/gitea", "DISABLE_SSH": "true", "OFFLINE_MODE": "true"},
		"database":   {"DB_TYPE": "sqlite3", "PATH": "/tmp/forge/gitea.db"},
		"security":   {"INSTALL_LOCK": "true"},
		"service":    {"DISABLE_REGISTRATION": "true"},
		"packages":   {"ENABLED": "true"},
		"repository": {"ROOT": "/tmp/forge/repositories", "DEFAULT_BRANCH": "main"},
	}
	for sec, keys := range want {
		for k, v := range keys {
			if got := cfg[sec][k]; got != v {
				t.Errorf("[%s] %s = %q, want %q", sec, k, got, v)
			}
		}
	}
	if got := s.Repository(); got != "10.87.0.1:3443/lab/mikrotik-tailscale" {
		t.Errorf("Repository() = %q", got)
	}
	v6 := Server{IP: "fd00::1", Port: 443}
	if got := v6.RootURL(); got != "https://[fd00::1]:443/" {
		t.Errorf("RootURL() for IPv6 = %q", got)
	}
}

func TestCommands(t *testing.T) {
	s := Server{Dir: "/f"}
	got := s.Command("/bin/gitea", TokenArgs()...)
	if !slices.Equal(got[:5], []string{"/bin/gitea", "--config", "/f/app.ini", "--work-path", "/f"}) {
		t.Errorf("Command: %v", got)
	}
	joined := strings.Join(got, " ")
	if !strings.Contains(joined, "--scopes write:package,write:repository --raw") || strings.Contains(joined, "admin,") {
		t.Errorf("token args: %s", joined)
	}
	if b := strings.Join(BuildArgs("/o/gitea", "v1.27.3"), " "); b != "go build -trimpath -ldflags=-s -w -X main.Version=1.27.3 -o /o/gitea ." {
		t.Errorf("BuildArgs: %s", b)
	}
}

// parseIni reads the flat "[section]" / "KEY = value" form AppIni writes;
// a line of any other form fails the test.
func parseIni(t *testing.T, text string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{"": {}}
	sec := ""
	for _, line := range strings.Split(text, "\n") {
		switch {
		case line == "":
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			sec = line[1 : len(line)-1]
			out[sec] = map[string]string{}
		default:
			k, v, ok := strings.Cut(line, " = ")
			if !ok {
				t.Fatalf("line %q is neither a section nor KEY = value", line)
			}
			if _, dup := out[sec][k]; dup {
				t.Fatalf("[%s] %s set twice", sec, k)
			}
			out[sec][k] = v
		}
	}
	return out
}
