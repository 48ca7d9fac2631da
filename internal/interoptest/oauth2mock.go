package interoptest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// StartOAuth2MockServer starts oauth2-mock-server (testdata/oauth2-mock-server,
// as its lockfile installed it: see RequireNodeModules) on a free port of
// 127.0.0.1 and returns its issuer, http://127.0.0.1:PORT. The mock has no
// login page and no users: its authorization endpoint redirects at once
// with a code, and its token endpoint takes any client, password, code and
// refresh token. It is stopped when the test ends.
func StartOAuth2MockServer(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(RepoRoot(tb), "testdata", "oauth2-mock-server")
	node := RequireNodeModules(tb, dir)
	requireNodeVersion(tb, node, "oauth2-mock-server")

	cmd := exec.Command(node, "server.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "OAUTH2_MOCK_PORT=0") // the OS picks a free port; the first line names it
	issuer := startIssuer(tb, "oauth2-mock-server", cmd)
	waitForDiscovery(tb, issuer) // its discovery document names the same issuer
	return issuer
}
