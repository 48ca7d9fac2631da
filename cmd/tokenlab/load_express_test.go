package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/internal/testskip"
)

// TestLoadE2ESeedExpressRefresh runs `tokenlab load --mode refresh` against
// the seed-style Express server in testdata/seed-express (the scenarios
// work's): each client must follow its own rotation chain there too, with
// no reuse or revocation. It needs node and npm; under CI=true it must run.
func TestLoadE2ESeedExpressRefresh(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("..", "..", "testdata", "seed-express"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "package.json")); err != nil {
		t.Skip("testdata/seed-express is not in this tree yet (it comes from the scenarios work)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		testskip.Real(t, "node", "not installed, so tokenlab load is not run against the Express API")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Fatalf("testdata/seed-express has no node_modules and npm is missing: %v", err)
		}
		out, err := exec.CommandContext(t.Context(), npm, "ci", "--no-audit", "--no-fund", "--prefix", dir).CombinedOutput()
		if err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
	}
	// Port 0: the server picks one and says it on its first line.
	cmd := exec.CommandContext(t.Context(), node, "server.js", "0")
	cmd.Dir = dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Scan()
		first <- sc.Text()
		io.Copy(io.Discard, stdout)
	}()
	var url string
	select {
	case line := <-first:
		_, url, _ = strings.Cut(line, "listening on ")
		if !strings.HasPrefix(url, "http://127.0.0.1:") {
			t.Fatalf("seed-express said %q, want its URL", line)
		}
	case <-time.After(30 * time.Second): // a bound, not a delay
		t.Fatal("seed-express did not start within 30 s")
	}
	code, out, errOut := runLoadCmd(t, url, "--profile", "seed-json", "--mode", "refresh", "--clients", "2",
		"--requests", "100", "--duration", "60s", "--register", "--prefix", "loadtest",
		"--password-file", passwordFile(t, "load-test-password-1"), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r loadJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	wantCleanRun(t, "refresh", r, 100)
	if int64(r.Rotated) != r.Requests {
		t.Errorf("%d of %d refreshes rotated; the seed server rotates every refresh token", r.Rotated, r.Requests)
	}
}
