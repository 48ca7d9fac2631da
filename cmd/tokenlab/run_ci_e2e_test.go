package main

// Scenarios a CI can trust, through the real binary: events counted per
// scenario on a shared server with -j, a dead server and an all-skipped
// run that stop the build, and interrupted runs whose reports an
// independent TAP and JUnit reader take as failed.

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/internal/interoptest"
)

// A scenario that replays a spent refresh token: reuse detected.
const replayScenario = `name: replayer
steps:
  - repeat:
      times: 8
      steps:
        - login: {}
        - save: {token: refresh, as: spent}
        - refresh:
        - replay: spent
          expect: {status: 401, error: token_reused, events: [reuse_detected, family_revoked]}
`

// Scenarios that replay nothing while replayers run beside them.
const quietScenario = `name: quiet
steps:
  - login: {}
  - repeat:
      times: 20
      steps:
        - refresh:
          expect: {events: {refresh: 1, rotation: 1}, no_events: [reuse_detected, family_revoked]}
`

// It watches the server while the replayers replay.
const falseClaimScenario = `name: claims-a-reuse
steps:
  - login: {}
  - wait: 300ms
    expect: {events: [reuse_detected]}
`

// The same literal forged token twice in one scenario, and in every
// copy of it: the server coalesces identical rejections (on a frozen
// clock, until it moves) and each one must still count.
const forgeTwiceScenario = `name: forges-twice
steps:
  - request: {path: /protected, auth: none, headers: {Authorization: "Bearer not.a.jwt"}}
    expect: {status: 401, events: {access_rejected: 1}}
  - request: {path: /protected, auth: none, headers: {Authorization: "Bearer not.a.jwt"}}
    expect: {status: 401, events: {access_rejected: 1}}
`

type jsonRun struct {
	Passed, Failed, Skipped, Planned int
	Interrupted                      bool
	Scenarios                        []struct {
		Name, Status, Reason string
	}
}

func TestRunE2ESharedServerCountsOwnEvents(t *testing.T) {
	t.Parallel()
	p := startServe(t)
	dir := t.TempDir()
	write := func(name, src string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	replay, quiet, claim, forge := write("replay.yaml", replayScenario), write("quiet.yaml", quietScenario),
		write("claim.yaml", falseClaimScenario), write("forge.yaml", forgeTwiceScenario)
	var args []string
	for range 2 {
		args = append(args, replay, replay, claim, replay, forge, quiet)
	}
	out := filepath.Join(dir, "report.json")
	code, stdout, stderr := runBinary(t, append([]string{"run", "--server", p.banner.URL, "--admin-token", e2eAdminToken,
		"-j", "4", "--format", "json", "--out", out}, args...)...)
	if code != exitFailed {
		t.Errorf("exit %d, want 1 (claims-a-reuse fails every time); stderr %q", code, stderr)
	}
	var rep jsonRun
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("%v; stdout:\n%s", err, stdout)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	for _, sc := range rep.Scenarios {
		want := "passed"
		if sc.Name == "claims-a-reuse" {
			want = "failed" // it never replays: another scenario's reuse must not count
		}
		if sc.Status != want {
			t.Errorf("%s %s, want %s: %s", sc.Name, sc.Status, want, sc.Reason)
		}
		if sc.Name == "claims-a-reuse" && !strings.Contains(sc.Reason, "expected the server event reuse_detected, got []") {
			t.Errorf("claims-a-reuse failed for another reason: %s", sc.Reason)
		}
	}
	if len(rep.Scenarios) != len(args) {
		t.Errorf("%d scenarios in the report, %d given", len(rep.Scenarios), len(args))
	}
}

func TestRunE2EDeadServerAndAllSkipped(t *testing.T) {
	t.Parallel()
	t.Run("a server that does not answer stops the run", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		dead := "http://" + l.Addr().String()
		l.Close() // nothing listens there now
		for _, env := range []map[string]string{{"TOKENLAB_ADMIN_TOKEN": e2eAdminToken}, nil} {
			code, stdout, stderr := runBinaryEnv(t, env, "run", "--server", dead, "--format", "tap")
			if code != exitUsage || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, dead+" does not answer") {
				t.Errorf("admin token %v: exit %d, stdout %q, stderr %q; want 2 and one sentence", env != nil, code, stdout, stderr)
			}
		}
	})
	t.Run("a run in which every scenario skipped tested nothing", func(t *testing.T) {
		t.Parallel()
		p := startServe(t) // its admin token is not given: every clock scenario skips
		code, stdout, stderr := runBinary(t, "run", "--server", p.banner.URL, "access-expiry", "refresh-expiry")
		if code != exitUsage || !strings.Contains(stderr, "every scenario was skipped, so nothing was tested") ||
			!strings.Contains(stderr, "--allow-all-skipped") {
			t.Errorf("exit %d, stderr %q; want 2 and the reason", code, stderr)
		}
		wantCounts(t, stdout, "0 passed, 0 failed, 2 skipped")
		code, _, stderr = runBinary(t, "run", "--server", p.banner.URL, "--allow-all-skipped", "access-expiry", "refresh-expiry")
		if code != exitOK {
			t.Errorf("--allow-all-skipped: exit %d, stderr %q", code, stderr)
		}
	})
}

// The reports of a run stopped by a signal, read by readers tokenlab did
// not write: node-tap's parser and test-results-parser's JUnit reader
// must call the run failed.
func TestRunE2EInterruptedReportsReadAsFailed(t *testing.T) {
	t.Parallel()
	readers := reportReaders(t)
	slow := writeScenario(t, "slow.yaml", "name: slow\nsteps:\n  - login: {}\n  - wait: 1m\n")
	for _, tc := range []struct {
		format string
		sig    syscall.Signal
		check  func(t *testing.T, report string)
	}{
		{"tap", syscall.SIGINT, func(t *testing.T, report string) {
			got := readers.read(t, "tap", report)
			if got["ok"] != false || got["bailout"] != "interrupted: 2 of 3 scenarios ran" || got["plan"] != 3.0 || got["count"] != 2.0 {
				t.Errorf("tap-parser read %v\n%s", got, readFile(t, report))
			}
		}},
		{"junit", syscall.SIGTERM, func(t *testing.T, report string) {
			got := readers.read(t, "junit", report)
			if got["status"] != "FAIL" || got["errors"] != 1.0 {
				t.Errorf("the JUnit reader read %v\n%s", got, readFile(t, report))
			}
		}},
		{"json", syscall.SIGINT, func(t *testing.T, report string) {
			var rep jsonRun
			if err := json.Unmarshal([]byte(readFile(t, report)), &rep); err != nil {
				t.Fatal(err)
			}
			if !rep.Interrupted || rep.Planned != 3 || len(rep.Scenarios) != 2 {
				t.Errorf("JSON: %+v", rep)
			}
		}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			t.Parallel()
			report := filepath.Join(t.TempDir(), "report."+tc.format)
			code := runUntil(t, "✓ 1 log in", tc.sig, "run", "--format", tc.format, "--out", report, "basic-login", slow, "tampered-token")
			if code != exitInterrupted {
				t.Errorf("exit %d, want 130", code)
			}
			tc.check(t, report)
		})
	}
}

// runUntil runs the binary and sends it sig once the line after the
// scenario "slow" started shows want.
func runUntil(t *testing.T, want string, sig syscall.Signal, args ...string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tokenlabBinary(t), args...)
	cmd.Env = serveSpec{}.environ()
	cmd.Dir = t.TempDir()
	seen := make(chan struct{})
	out := &signalWriter{after: "slow", want: want, seen: seen}
	cmd.Stdout, cmd.Stderr = out, &bytes.Buffer{}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-seen:
		cmd.Process.Signal(sig)
	case <-ctx.Done():
	}
	cmd.Wait()
	if ctx.Err() != nil {
		t.Fatalf("%q never appeared:\n%s", want, out.String())
	}
	return cmd.ProcessState.ExitCode()
}

// signalWriter closes seen once its text shows want after after.
type signalWriter struct {
	mu          sync.Mutex
	buf         bytes.Buffer
	after, want string
	seen        chan struct{}
	done        bool
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if _, rest, ok := strings.Cut(w.buf.String(), w.after); ok && !w.done && strings.Contains(rest, w.want) {
		w.done = true
		close(w.seen)
	}
	return n, err
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// reportReaders is testdata/report-readers: node and its npm packages.
type reportReader struct{ node, dir string }

func reportReaders(t *testing.T) reportReader {
	t.Helper()
	dir := filepath.Join(interoptest.RepoRoot(t), "testdata", "report-readers")
	return reportReader{node: interoptest.RequireNodeModules(t, dir), dir: dir}
}

func (r reportReader) read(t *testing.T, kind, report string) map[string]any {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), r.node, filepath.Join(r.dir, "read.js"), kind, report).Output()
	if err != nil {
		t.Fatalf("read.js %s: %v", kind, err)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("read.js %s printed %q: %v", kind, out, err)
	}
	return got
}

// Issue 18.8: run takes the OAuth client for password and refresh grants:
// --client-id, its secret from --client-secret-file or
// TOKENLAB_CLIENT_SECRET, never from the command line without a warning.
func TestRunCmdClientIDAndSecret(t *testing.T) {
	const secret = "ci-client-secret-for-the-run-flags"
	sc := writeScenario(t, "confidential.yaml", `name: confidential
server:
  clients: [{id: ci-app, secret: `+secret+`}]
steps:
  - login: {}
  - refresh:
    expect: {rotations: 1}
`)
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runScenarioCmd(t, "run", "--profile", "oauth2", "--client-id", "ci-app", "--client-secret-file", secretFile, sc)
	if code != exitOK || stderr != "" {
		t.Errorf("with the secret file: exit %d\n%s%s", code, stdout, stderr)
	}
	t.Setenv("TOKENLAB_CLIENT_SECRET", secret)
	if code, stdout, stderr := runScenarioCmd(t, "run", "--profile", "oauth2", "--client-id", "ci-app", sc); code != exitOK || stderr != "" {
		t.Errorf("with TOKENLAB_CLIENT_SECRET: exit %d\n%s%s", code, stdout, stderr)
	}
	t.Setenv("TOKENLAB_CLIENT_SECRET", "")
	if code, stdout, _ := runScenarioCmd(t, "run", "--profile", "oauth2", "--client-id", "ci-app", sc); code != exitFailed || !strings.Contains(stdout, "invalid_client") {
		t.Errorf("without the secret: exit %d, want 1 and invalid_client\n%s", code, stdout)
	}
	if code, _, stderr := runScenarioCmd(t, "run", "--profile", "oauth2", "--client-secret-file", secretFile, sc); code != exitUsage || !strings.Contains(stderr, "need --client-id") {
		t.Errorf("a secret without a client: exit %d, %q", code, stderr)
	}
	if _, _, stderr := runScenarioCmd(t, "run", "--profile", "oauth2", "--client-id", "ci-app", "--client-secret", secret, sc); !strings.Contains(stderr, "warning: --client-secret is deprecated") {
		t.Errorf("--client-secret without a warning: %q", stderr)
	}
}
