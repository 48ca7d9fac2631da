package interoptest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// HydraClientID is the public client StartHydra registers.
const HydraClientID = "tokenlab"

// hydraBuild is Ory Hydra built once per test binary.
var hydraBuild struct {
	once sync.Once
	path string
	out  string
	err  error
}

// hydraBuildTimeout bounds the build. A cold one (empty build cache, its
// C SQLite included) took about 3 minutes on this project's 2-core machine;
// .ci/run builds it once before the tests, so there the test's own build
// is a link of a few seconds.
const hydraBuildTimeout = 6 * time.Minute

// BuildHydra builds testdata/hydra (Ory Hydra v2 from the Go module proxy,
// with SQLite for its in-memory DSN) into a temp dir once per test binary
// and returns the program. When the build fails (no module proxy, no C
// compiler) the test is skipped with the reason, and fails under CI=true.
func BuildHydra(tb testing.TB) string {
	tb.Helper()
	goTool := RequireTool(tb, "go", "builds Ory Hydra from its Go module")
	RequireTool(tb, "gcc", "compiles Hydra's SQLite (cgo)")
	src := filepath.Join(RepoRoot(tb), "testdata", "hydra")
	hydraBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "tokenlab-hydra-")
		if err != nil {
			hydraBuild.err = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), hydraBuildTimeout)
		defer cancel()
		hydraBuild.path = filepath.Join(dir, "hydra")
		cmd := exec.CommandContext(ctx, goTool, "build", "-tags", "sqlite,sqlite_omit_load_extension", "-o", hydraBuild.path, ".")
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly", "CGO_ENABLED=1")
		out, err := cmd.CombinedOutput()
		hydraBuild.out, hydraBuild.err = string(out), err
	})
	if hydraBuild.err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("build Ory Hydra: %v\n%s", hydraBuild.err, hydraBuild.out)
		}
		tb.Skipf("Ory Hydra did not build (%v; it needs the Go module proxy once): %s",
			hydraBuild.err, strings.TrimSpace(hydraBuild.out))
	}
	return hydraBuild.path
}

// Hydra is a running Ory Hydra.
type Hydra struct {
	Issuer string // the public port: http://127.0.0.1:PORT
	Admin  string // the admin API: http://127.0.0.1:PORT
}

// StartHydra runs Hydra (`hydra serve all --dev`) on two loopback ports
// with an in-memory database and the given refresh-token rotation grace
// period (0: Hydra's default, none), and registers the public client
// HydraClientID (authorization code with PKCE, refresh tokens, loopback
// redirects; Hydra accepts any port on them, RFC 8252). Hydra has no
// login page: its login and consent URLs name a port nothing listens on,
// and a login helper accepts the requests through the admin API
// (cmd/tokenlab/testdata/hydra-login.sh). It stops when the test ends.
func StartHydra(tb testing.TB, grace time.Duration) Hydra {
	tb.Helper()
	bin := BuildHydra(tb)
	public, admin := freePort(tb), freePort(tb)
	h := Hydra{Issuer: "http://127.0.0.1:" + public, Admin: "http://127.0.0.1:" + admin}
	nowhere := "http://127.0.0.1:9" // the discard port: the helper reads the challenge from the redirect
	cmd := exec.Command(bin, "serve", "all", "--dev")
	cmd.Env = append(os.Environ(),
		"DSN=memory", "SECRETS_SYSTEM="+randomString(tb), "LOG_LEVEL=warn",
		"SERVE_PUBLIC_HOST=127.0.0.1", "SERVE_PUBLIC_PORT="+public,
		"SERVE_ADMIN_HOST=127.0.0.1", "SERVE_ADMIN_PORT="+admin,
		"URLS_SELF_ISSUER="+h.Issuer, "URLS_LOGIN="+nowhere+"/login", "URLS_CONSENT="+nowhere+"/consent",
		"OAUTH2_GRANT_REFRESH_TOKEN_ROTATION_GRACE_PERIOD="+grace.String())
	startProcess(tb, "hydra", cmd, nil) // Hydra prints no issuer line: its discovery document tells when it serves
	waitForDiscovery(tb, h.Issuer)
	h.registerClient(tb)
	return h
}

// registerClient creates the public client through the admin API.
func (h Hydra) registerClient(tb testing.TB) {
	tb.Helper()
	body := fmt.Sprintf(`{"client_id":%q,"token_endpoint_auth_method":"none",`+
		`"grant_types":["authorization_code","refresh_token"],"response_types":["code"],`+
		`"scope":"openid offline_access offline","redirect_uris":["http://127.0.0.1/callback"]}`, HydraClientID)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Post(h.Admin+"/admin/clients", "application/json", bytes.NewBufferString(body))
	if err != nil {
		tb.Fatalf("register the client at Hydra: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		tb.Fatalf("register the client at Hydra: %s", resp.Status)
	}
}

// freePort is a port of 127.0.0.1 free a moment ago: Hydra takes its
// ports from its settings, not from a listener it is handed.
func freePort(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}
