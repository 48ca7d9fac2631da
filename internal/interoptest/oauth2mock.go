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

	stderr := &syncBuffer{}
	cmd := exec.Command(node, "server.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "OAUTH2_MOCK_PORT=0") // the OS picks a free port; the first line names it
	cmd.Stderr = stderr
	// The server exits when its stdin closes: even a test killed by a
	// timeout leaves no server behind.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start oauth2-mock-server: %v", err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		stopProcess(cmd)
		if tb.Failed() {
			tb.Logf("oauth2-mock-server stderr:\n%s", stderr.String())
		}
	})
	issuer := readIssuer(tb, stdout, stderr)
	waitForDiscovery(tb, issuer) // its discovery document names the same issuer
	return issuer
}
