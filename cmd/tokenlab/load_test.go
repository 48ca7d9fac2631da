package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// loadJSON is what the tests read of `tokenlab load --json`.
type loadJSON struct {
	Mode      string           `json:"mode"`
	Clients   int              `json:"clients"`
	Requests  int64            `json:"requests"`
	OK        int64            `json:"ok"`
	Non2xx    int64            `json:"non2xx"`
	Errors    int64            `json:"errors"`
	PerSecond float64          `json:"requestsPerSecond"`
	P50       float64          `json:"p50Micros"`
	P99       float64          `json:"p99Micros"`
	Max       float64          `json:"maxMicros"`
	Relogins  int              `json:"relogins"`
	Rotated   int              `json:"rotated"`
	Reused    int              `json:"reused"`
	Revoked   int              `json:"revoked"`
	Statuses  map[string]int64 `json:"statuses"`
}

// runLoadCmd runs `tokenlab load` in this process and returns its exit
// code and outputs.
func runLoadCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"load"}, args...), strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func passwordFile(t *testing.T, pw string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(path, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// wantCleanRun checks a parsed report: every request answered 2xx, none
// refused for reuse or revocation, and the request bound honoured.
func wantCleanRun(t *testing.T, mode string, r loadJSON, max int64) {
	t.Helper()
	if r.Mode != mode || r.Requests == 0 || r.Requests > max || r.OK != r.Requests {
		t.Errorf("%s: %d requests (bound %d), %d ok", mode, r.Requests, max, r.OK)
	}
	if r.Non2xx != 0 || r.Errors != 0 || r.Reused != 0 || r.Revoked != 0 || r.Relogins != 0 {
		t.Errorf("%s: non-2xx %d, errors %d, reused %d, revoked %d, re-logins %d; want none", mode,
			r.Non2xx, r.Errors, r.Reused, r.Revoked, r.Relogins)
	}
	if r.P50 <= 0 || r.P99 < r.P50 || r.Max < r.P99 || r.PerSecond <= 0 {
		t.Errorf("%s: p50 %.1f µs, p99 %.1f µs, max %.1f µs, %.0f req/s: inconsistent", mode, r.P50, r.P99, r.Max, r.PerSecond)
	}
}

// TestLoadE2EEveryModeAgainstServe runs `tokenlab load` against the real
// `tokenlab serve` binary in every mode and parses its --json report.
func TestLoadE2EEveryModeAgainstServe(t *testing.T) {
	p := startServe(t, "--user", "alice:password123")
	pw := passwordFile(t, "password123")
	for _, tc := range []struct {
		mode     string
		requests int64
		extra    []string
	}{
		{"protected", 200, nil},
		{"refresh", 200, nil},
		{"login", 6, nil},
		{"mixed", 40, nil},
		{"refresh", 100, []string{"--register", "--prefix", "loadtest"}},
		{"refresh", 100, []string{"--profile", "oauth2"}},
		{"mixed", 40, []string{"--profile", "oauth2"}},
	} {
		args := append([]string{p.banner.URL, "--mode", tc.mode, "--clients", "2", "--requests",
			strconv.FormatInt(tc.requests, 10), "--duration", "60s",
			"--password-file", pw, "--json"}, tc.extra...)
		code, out, errOut := runLoadCmd(t, args...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.mode, code, errOut)
		}
		var r loadJSON
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%s: --json output is not JSON: %v\n%s", tc.mode, err, out)
		}
		wantCleanRun(t, tc.mode, r, tc.requests)
		if tc.mode == "refresh" && (r.Requests != tc.requests || int64(r.Rotated) != r.Requests) {
			t.Errorf("refresh: %d requests, %d rotated; want exactly the bound %d, every answer a new refresh token", r.Requests, r.Rotated, tc.requests)
		}
	}
	// Each refresh followed its own chain: the server saw no reuse at all.
	for _, e := range p.client(t).events() {
		if e.Kind == "reuse_detected" || e.Kind == "family_revoked" {
			t.Fatalf("the load caused %s", e.Kind)
		}
	}
}

// TestLoadTableOutput: without --json the report is an aligned table.
func TestLoadTableOutput(t *testing.T) {
	p := startServe(t, "--user", "alice:password123")
	code, out, errOut := runLoadCmd(t, p.banner.URL, "--mode", "protected", "--clients", "1", "--requests", "20",
		"--password-file", passwordFile(t, "password123"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"req/s", "p99 · max", "reuse · revoked", "tokenlab · protected"} {
		if !strings.Contains(out, want) {
			t.Errorf("the table lacks %q:\n%s", want, out)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines[1:] {
		if len([]rune(l)) != len([]rune(lines[0])) {
			t.Fatalf("the table's lines differ in width:\n%s", out)
		}
	}
}

// TestLoadRefusesRemoteTargets: only loopback is loaded without
// --allow-remote, and nothing is sent before the refusal.
func TestLoadRefusesRemoteTargets(t *testing.T) {
	pw := passwordFile(t, "x")
	for _, target := range []string{"http://192.0.2.1:8080", "http://example.com", "https://10.0.0.1", "http://[2001:db8::1]:80", "http://localhost.example.com"} {
		code, _, errOut := runLoadCmd(t, target, "--requests", "1", "--password-file", pw)
		if code != exitUsage || !strings.Contains(errOut, "--allow-remote") {
			t.Errorf("%s: exit %d, %q; want a usage error naming --allow-remote", target, code, errOut)
		}
	}
	// The password never comes from argv.
	code, _, errOut := runLoadCmd(t, "http://127.0.0.1:1", "--requests", "1", "--password", "secret")
	if code != exitUsage || !strings.Contains(errOut, "unknown flag") {
		t.Errorf("--password: exit %d, %q; want it refused", code, errOut)
	}
}
