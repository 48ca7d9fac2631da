// Package interoptest starts things tokenlab did not write, for tests that
// check tokenlab against them: an independent OAuth server (panva's
// oidc-provider from npm, see testdata/oidc-provider) and a real browser
// (Debian's headless Chromium driven through chromedp).
//
// Everything listens on 127.0.0.1 only and is stopped by t.Cleanup. A tool
// that is missing (node, npm, chromium) skips the test with the reason, except
// under CI=true, where CI is expected to have installed it and the test fails.
package interoptest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tokenlab/tokenlab/internal/testskip"
)

// RequireTool returns the path of the named program, or skips the test
// (fails it under CI=true) when the program is not installed.
func RequireTool(tb testing.TB, name, why string) string {
	tb.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	testskip.Real(tb, name, fmt.Sprintf("not installed (%s); .ci/run installs it", why))
	return ""
}

// RequireNodeModules returns node's path once dir (a folder of testdata/
// with a package-lock.json) has every locked package installed. Tests
// never run npm themselves: .ci/run installs each such folder once,
// before the tests, so parallel test binaries never install over each
// other and a test needs no registry. Without node or the packages the
// test skips with the command to run, except under CI=true, where it
// fails.
func RequireNodeModules(tb testing.TB, dir string) string {
	tb.Helper()
	node := RequireTool(tb, "node", "runs the independent servers and readers under testdata/")
	missing, err := notInstalled(dir)
	if err != nil {
		tb.Fatal(err)
	}
	if missing == "" {
		return node
	}
	testskip.Real(tb, "npm packages", fmt.Sprintf("%s lacks %s: run npm ci --prefix %s (.ci/run does)", dir, missing, dir))
	return ""
}

// RepoRoot is the directory holding go.mod, found from the test's working
// directory (a package directory) upwards.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		} else if !errors.Is(err, os.ErrNotExist) {
			tb.Fatal(err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
