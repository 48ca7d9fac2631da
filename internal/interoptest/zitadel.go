package interoptest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// zitadelBuild is the zitadel/oidc example OP built once per test binary.
var zitadelBuild struct {
	once sync.Once
	path string
	out  string
	err  error
}

// zitadelBuildTimeout bounds the build, module downloads included (the
// module cache makes later builds take about a second).
const zitadelBuildTimeout = 4 * time.Minute

// BuildZitadelOP builds testdata/zitadel-op (the example OpenID Provider of
// github.com/zitadel/oidc, from the Go module proxy) into a temp dir once
// per test binary and returns the program. When the build fails (no module
// proxy) the test is skipped with the reason, and fails under CI=true.
func BuildZitadelOP(tb testing.TB) string {
	tb.Helper()
	goTool := RequireTool(tb, "go", "builds the zitadel/oidc example OP from its Go module")
	src := filepath.Join(RepoRoot(tb), "testdata", "zitadel-op")
	zitadelBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "tokenlab-zitadel-op-")
		if err != nil {
			zitadelBuild.err = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), zitadelBuildTimeout)
		defer cancel()
		zitadelBuild.path = filepath.Join(dir, "zitadel-op")
		cmd := exec.CommandContext(ctx, goTool, "build", "-o", zitadelBuild.path, ".")
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
		out, err := cmd.CombinedOutput()
		zitadelBuild.out, zitadelBuild.err = string(out), err
	})
	if zitadelBuild.err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("build the zitadel/oidc example OP: %v\n%s", zitadelBuild.err, zitadelBuild.out)
		}
		tb.Skipf("the zitadel/oidc example OP did not build (%v; it needs the Go module proxy once): %s",
			zitadelBuild.err, strings.TrimSpace(zitadelBuild.out))
	}
	return zitadelBuild.path
}

// StartZitadelOP starts the example OP on a loopback port and returns its
// issuer (with the trailing slash zitadel's issuers have). Its users are
// test-user@127.0.0.1 and test-user2 (password verysecure), its public
// client "native". It stops when the test ends.
func StartZitadelOP(tb testing.TB) string {
	tb.Helper()
	// It listens before it prints: the issuer answers from then on.
	return startIssuer(tb, "zitadel-op", exec.Command(BuildZitadelOP(tb)))
}
