package main

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
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
		if os.Getenv("CI") == "true" {
			t.Fatal("node is required under CI=true")
		}
		t.Skip("node is not installed")
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
	port := freePort(t)
	cmd := exec.CommandContext(t.Context(), node, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "HOST=127.0.0.1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(30 * time.Second) // a bound, not a delay
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Express server did not listen on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	code, out, errOut := runLoadCmd(t, "http://"+addr, "--profile", "seed-json", "--mode", "refresh", "--clients", "2",
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

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
