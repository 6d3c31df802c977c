// Package forgelab is the engine suite's forge: a real Gitea, built from
// the module proxy at pins.GiteaVersion, holding the release's container
// registry and repository. This package decides its build and its
// configuration; tests/engine runs it.
package forgelab

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// The forge's accounts and names: an admin user who owns the org that owns
// the repository and its container package, as a project's maintainers
// would set it up.
const (
	Admin      = "forge-admin"
	AdminEmail = "forge-admin@example.com"
	Org        = "lab"
	Repo       = "mikrotik-tailscale"
	TokenName  = "release"
)

// TokenScopes are the release token's: push the container package, tag
// the repository. Nothing else (no admin, no org, no user scope).
var TokenScopes = []string{"write:package", "write:repository"}

// BuildArgs builds Gitea in its downloaded module directory (its go.mod,
// go.sum and replaces decide every dependency). No build tags: since 1.26
// its default SQLite driver is pure Go, so no C toolchain is needed.
// main.Version is what Gitea's Makefile sets; /api/v1/version reports it.
func BuildArgs(out, version string) []string {
	return []string{"go", "build", "-trimpath",
		"-ldflags=-s -w -X main.Version=" + strings.TrimPrefix(version, "v"), "-o", out, "."}
}

// BuildEnv is the build's environment beyond the builder's.
func BuildEnv() []string { return []string{"CGO_ENABLED=0"} }

// Server is where one forge lives and listens.
type Server struct {
	// Dir holds the database, repositories, packages and logs.
	Dir string
	// StaticRoot is Gitea's module source: without the bindata build tag
	// (its assets need a JavaScript build) Gitea reads its templates and
	// locales from there, and exits at start without them.
	StaticRoot string
	// IP is the one address it listens on and is reached at, by the
	// test process and by the engine's containers alike: the registry's
	// token realm is built from it.
	IP   string
	Port int
	// CertFile and KeyFile are its TLS certificate (for IP) and key: the
	// router's updater speaks https only.
	CertFile, KeyFile string
}

// Host is host:port.
func (s Server) Host() string { return net.JoinHostPort(s.IP, strconv.Itoa(s.Port)) }

// RootURL is the forge's public URL.
func (s Server) RootURL() string { return "https://" + s.Host() + "/" }

// AppIni is the forge's configuration: installed (no web installer),
// SQLite, packages on, nothing reaching out (no SSH, no mail, no
// federation, offline avatars), registration closed.
func (s Server) AppIni() string {
	// Gitea refuses to run as root unless told; the suites run as root in
	// CI, and this forge lives in a temporary directory for one run.
	return fmt.Sprintf(`APP_NAME = mikrotik-tailscale test forge
RUN_MODE = prod
WORK_PATH = %[1]s
I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true

[server]
PROTOCOL = https
HTTP_ADDR = %[2]s
HTTP_PORT = %[3]d
ROOT_URL = %[4]s
DOMAIN = %[2]s
CERT_FILE = %[5]s
KEY_FILE = %[6]s
STATIC_ROOT_PATH = %[7]s
APP_DATA_PATH = %[1]s/data
DISABLE_SSH = true
OFFLINE_MODE = true
LFS_START_SERVER = false

[database]
DB_TYPE = sqlite3
PATH = %[1]s/gitea.db

[security]
INSTALL_LOCK = true

[service]
DISABLE_REGISTRATION = true

[repository]
ROOT = %[1]s/repositories
DEFAULT_BRANCH = main

[packages]
ENABLED = true

[mailer]
ENABLED = false

[log]
MODE = file
LEVEL = Info
ROOT_PATH = %[1]s/log
`, s.Dir, s.IP, s.Port, s.RootURL(), s.CertFile, s.KeyFile, s.StaticRoot)
}

// Command is one gitea invocation against this server's configuration.
func (s Server) Command(bin string, args ...string) []string {
	return append([]string{bin, "--config", s.Dir + "/app.ini", "--work-path", s.Dir}, args...)
}

// MigrateArgs creates the database.
func MigrateArgs() []string { return []string{"migrate"} }

// AdminCreateArgs creates the admin user with password.
func AdminCreateArgs(password string) []string {
	return []string{"admin", "user", "create", "--admin", "--username", Admin, "--password", password,
		"--email", AdminEmail, "--must-change-password=false"}
}

// TokenArgs makes the release token; Gitea prints it alone (--raw).
func TokenArgs() []string {
	return []string{"admin", "user", "generate-access-token", "--username", Admin,
		"--token-name", TokenName, "--scopes", strings.Join(TokenScopes, ","), "--raw"}
}

// Repository is the release's image repository on this forge.
func (s Server) Repository() string { return s.Host() + "/" + Org + "/" + Repo }
