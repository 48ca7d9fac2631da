package main

// `tokenlab probe` through the real binary against `tokenlab serve`
// processes with different token rules, on a real clock: the probe's
// waits are the measurement (grace windows pass in real time), bounded by
// a small --max-wait.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/internal/interoptest"
	"github.com/tokenlab/tokenlab/probe"
)

// runProbe runs `tokenlab probe URL args…` and returns its exit code and
// output. The password file holds the serve's demo password.
func runProbe(tb testing.TB, target string, args ...string) (code int, stdout, stderr string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tokenlabBinary(tb), append([]string{"probe", target}, args...)...)
	cmd.Env = serveSpec{}.environ()
	cmd.Dir = tb.TempDir()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		tb.Fatalf("probe: %v", err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

// demoPasswordFile writes the demo user's password (no newline: the login
// helper's curl sends the file as it is).
func demoPasswordFile(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "password")
	if err := os.WriteFile(path, []byte("password123"), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// probeServe starts serve on a real clock with the given rules and probes
// it as alice with --json; it returns the report.
func probeServe(t *testing.T, serveFlags []string, probeFlags ...string) probe.Report {
	t.Helper()
	p := startServe(t, append([]string{"--clock", "real"}, serveFlags...)...)
	args := append([]string{"--username", "alice", "--password-file", demoPasswordFile(t), "--yes", "--json",
		"--protected", p.banner.URL + "/protected"}, probeFlags...)
	code, out, errOut := runProbe(t, p.banner.URL, args...)
	if code != 0 {
		t.Fatalf("probe exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	var r probe.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("probe --json: %v\n%s", err, out)
	}
	if strings.Contains(errOut, "password123") || strings.Contains(out, "password123") {
		t.Error("the probe's output holds the password")
	}
	if strings.Contains(out+errOut, "eyJ") { // serve's tokens are JWTs: a header starts so
		t.Error("the probe's output holds a token")
	}
	return r
}

// wantTraits compares the measured traits with want (as probe.Value words
// them); a key absent from want is not checked.
func wantTraits(t *testing.T, r probe.Report, want map[string]string) {
	t.Helper()
	for _, k := range probe.TraitKeys {
		w, ok := want[k]
		if !ok {
			continue
		}
		if got := probe.Value(r.Traits, k); got != w {
			var ev strings.Builder
			for _, s := range r.Evidence[k] {
				fmt.Fprintf(&ev, "  %.1f s %s → %d %s: %s\n", s.AtS, s.Request, s.Status, s.Error, s.Outcome)
			}
			t.Errorf("%s = %s, want %s; evidence:\n%s", k, got, w, ev.String())
		}
	}
	if m := r.ClosestPreset; m.Name == "" || len(m.Matches)+len(m.Differs)+len(m.Unmeasured) != len(probe.TraitKeys) {
		t.Errorf("closest_preset %+v does not account for every trait", m)
	}
}

// TestProbeE2EDefaultRules: serve's defaults (rotation, a reuse revokes
// the family, PKCE S256 required, iss in the redirect), with the PKCE
// logins completed by a login helper.
func TestProbeE2EDefaultRules(t *testing.T) {
	t.Parallel()
	interoptest.RequireTool(t, "curl", "the login helper script fills in serve's login page")
	helper := filepath.Join(interoptest.RepoRoot(t), "cmd", "tokenlab", "testdata", "probe-login.sh")
	r := probeServe(t, nil, "--flow", "pkce", "--login-helper", helper, "--max-wait", "2s")
	wantTraits(t, r, map[string]string{
		"rotates_refresh_token": "true", "old_refresh_after_rotation": "refused", "grace_window_s": "0",
		"reuse_outside_grace": "revokes_family", "reuse_revokes_access_tokens": "false", "reuse_error": "400 invalid_grant",
		"concurrent_refresh": "family_revoked", "revocation": "family", "revocation_revokes_access_tokens": "false",
		"pkce": "required_s256", "iss_in_authorization_response": "true", "id_token": "true",
	})
	// serve is an OpenID Provider: its userinfo tells whether an access
	// token is still good, and the probe prefers it to --protected.
	if r.Logins != 7 || r.AccessCheck != "userinfo" {
		t.Errorf("logins %d, access checked by %q", r.Logins, r.AccessCheck)
	}
}

// TestProbeE2EDeviceFlow: the chains log in with device authorization
// (the login helper approves each code), and the same helper completes
// the PKCE logins.
func TestProbeE2EDeviceFlow(t *testing.T) {
	t.Parallel()
	interoptest.RequireTool(t, "curl", "the login helper script approves serve's device codes")
	helper := filepath.Join(interoptest.RepoRoot(t), "cmd", "tokenlab", "testdata", "probe-login.sh")
	r := probeServe(t, []string{"--device-interval", "1s"}, "--flow", "device", "--login-helper", helper, "--max-wait", "1s")
	wantTraits(t, r, map[string]string{
		"rotates_refresh_token": "true", "old_refresh_after_rotation": "refused", "reuse_outside_grace": "revokes_family",
		"concurrent_refresh": "family_revoked", "revocation": "family", "pkce": "required_s256", "iss_in_authorization_response": "true",
	})
	if r.Flow != probe.FlowDevice || r.Logins != 8 {
		t.Errorf("flow %s with %d logins, want device with 4 chains and 4 PKCE logins", r.Flow, r.Logins)
	}
}

// TestProbeE2EReuseGrace: a 2 s grace window is measured to ±1 s; after it
// a reuse revokes the family, and with the access denylist its access
// tokens too; five refreshes at once all win inside the window.
func TestProbeE2EReuseGrace(t *testing.T) {
	t.Parallel()
	r := probeServe(t, []string{"--reuse-grace", "2s", "--access-denylist"}, "--flow", "password", "--max-wait", "4s")
	wantTraits(t, r, map[string]string{
		"rotates_refresh_token": "true", "old_refresh_after_rotation": "accepted_within_grace",
		"reuse_outside_grace": "revokes_family", "reuse_revokes_access_tokens": "true", "reuse_error": "400 invalid_grant",
		"concurrent_refresh": "all_win", "revocation": "family", "revocation_revokes_access_tokens": "true",
		"pkce": "null", "iss_in_authorization_response": "null", "id_token": "true",
	})
	if g := r.Traits.GraceWindowS; g == nil || g.Beyond || g.Seconds < 1 || g.Seconds > 3 {
		t.Errorf("grace_window_s = %v, want 2 ± 1", g)
	}
}

// TestProbeE2ENoRotation: the same refresh token comes back every time,
// so the old one is the current one: accepted, for longer than the wait.
func TestProbeE2ENoRotation(t *testing.T) {
	t.Parallel()
	r := probeServe(t, []string{"--rotation=false"}, "--max-wait", "2s")
	wantTraits(t, r, map[string]string{
		"rotates_refresh_token": "false", "old_refresh_after_rotation": "accepted", "grace_window_s": ">2",
		"reuse_outside_grace": "accepted", "reuse_error": "null", "concurrent_refresh": "all_win", "revocation": "token",
	})
}

// TestProbeE2ENoReuseDetection: a spent token is refused and nothing else
// is revoked, so one of five concurrent refreshes wins and its chain goes
// on.
func TestProbeE2ENoReuseDetection(t *testing.T) {
	t.Parallel()
	r := probeServe(t, []string{"--reuse-detection=false"}, "--max-wait", "2s")
	wantTraits(t, r, map[string]string{
		"rotates_refresh_token": "true", "old_refresh_after_rotation": "refused", "grace_window_s": "0",
		"reuse_outside_grace": "refuses_token", "reuse_revokes_access_tokens": "false", "reuse_error": "400 invalid_grant",
		"concurrent_refresh": "one_wins",
	})
}

// TestProbeE2ERefusals: the probe refuses a remote provider without
// --allow-remote, does not start without --yes when it cannot ask, and
// takes one output format.
func TestProbeE2ERefusals(t *testing.T) {
	t.Parallel()
	pw := demoPasswordFile(t)
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"remote":       {[]string{"https://login.example.com", "--username", "alice", "--password-file", pw, "--yes"}, "is not on this machine"},
		"remote api":   {[]string{"http://127.0.0.1:9", "--protected", "https://api.example.com/me", "--username", "alice", "--password-file", pw, "--yes"}, "is not on this machine"},
		"no yes":       {[]string{"http://127.0.0.1:9", "--username", "alice", "--password-file", pw}, "pass --yes"},
		"two formats":  {[]string{"http://127.0.0.1:9", "--username", "alice", "--password-file", pw, "--yes", "--json", "--markdown"}, "not both"},
		"no password":  {[]string{"http://127.0.0.1:9", "--username", "alice", "--yes"}, "needs --username and a password"},
		"json profile": {[]string{"http://127.0.0.1:9", "--profile", "tokenlab", "--username", "alice", "--password-file", pw, "--yes"}, "use --profile oauth2"},
	} {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runProbe(t, tc.args[0], tc.args[1:]...)
			if code != exitUsage || !strings.Contains(errOut, tc.want) || out != "" {
				t.Errorf("exit %d, want %d with %q\nstdout: %s\nstderr: %s", code, exitUsage, tc.want, out, errOut)
			}
		})
	}
}

// runReport is the part of `tokenlab run --format json` the probe family
// tests read.
type runReport struct {
	Passed, Failed, Skipped int
	Scenarios               []struct {
		Name, Status, Reason string
		Steps                []struct{ Summary string }
	}
}

// runFamily runs `tokenlab run --server URL probe args…` with the JSON
// report.
func runFamily(t *testing.T, server string, args ...string) (int, runReport, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tokenlabBinary(t), append([]string{"run", "--server", server, "probe", "--format", "json"}, args...)...)
	cmd.Env = serveSpec{}.environ()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.Run()
	var rep runReport
	if cmd.ProcessState.ExitCode() != exitUsage {
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("run --format json: %v\n%s\nstderr: %s", err, out.String(), errOut.String())
		}
	}
	return cmd.ProcessState.ExitCode(), rep, errOut.String()
}

// TestRunProbeFamily: `tokenlab run --server URL probe` reports each trait
// as a scenario with its evidence; pinned to an earlier probe of the same
// rules it passes, pinned to another provider's preset the traits that
// differ fail, and it needs --server.
func TestRunProbeFamily(t *testing.T) {
	t.Parallel()
	p := startServe(t, "--clock", "real")
	protected := p.banner.URL + "/protected"
	code, out, errOut := runProbe(t, p.banner.URL, "--username", "alice", "--password-file", demoPasswordFile(t), "--yes", "--json", "--protected", protected, "--max-wait", "1s")
	if code != 0 {
		t.Fatalf("probe exit %d: %s", code, errOut)
	}
	pin := filepath.Join(t.TempDir(), "rules.json")
	if err := os.WriteFile(pin, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}

	code, rep, errOut := runFamily(t, p.banner.URL, "--probe-expect", pin, "--probe-protected", protected, "--probe-max-wait", "1s")
	if code != 0 || rep.Failed != 0 || len(rep.Scenarios) != len(probe.TraitKeys)+1 {
		t.Fatalf("pinned run: exit %d, %+v\nstderr: %s", code, rep, errOut)
	}
	skipped := map[string]bool{}
	for _, sc := range rep.Scenarios {
		if sc.Status == "skipped" {
			skipped[sc.Name] = true
		}
		if sc.Name == "probe/reuse_outside_grace" && len(sc.Steps) == 0 {
			t.Errorf("%s has no evidence steps", sc.Name)
		}
	}
	if len(skipped) != 2 || !skipped["probe/pkce"] || !skipped["probe/iss_in_authorization_response"] {
		t.Errorf("skipped %v, want only pkce and iss (the password flow makes no authorization request)", skipped)
	}

	code, rep, _ = runFamily(t, p.banner.URL, "--probe-expect", "auth0", "--probe-max-wait", "1s")
	failed := map[string]string{}
	for _, sc := range rep.Scenarios {
		if sc.Status == "failed" {
			failed[sc.Name] = sc.Reason
		}
	}
	if code != 1 || failed["probe/reuse_error"] != "expected 403 invalid_grant, measured 400 invalid_grant" || len(failed) != 1 {
		t.Errorf("pinned to auth0: exit %d, failed %v", code, failed)
	}

	cmd := exec.Command(tokenlabBinary(t), "run", "probe")
	cmd.Env = serveSpec{}.environ()
	msg, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != exitUsage || !strings.Contains(string(msg), "give --server URL") {
		t.Errorf("without --server: exit %d: %s", cmd.ProcessState.ExitCode(), msg)
	}
}

// TestProbeE2EClientCredentials: a client-credentials login gives no
// refresh token, so every refresh trait is null with the reason in its
// evidence, and no preset is close.
func TestProbeE2EClientCredentials(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secret := filepath.Join(dir, "robot.secret")
	clients := filepath.Join(dir, "clients.yaml")
	if err := os.WriteFile(secret, []byte("robot-secret-from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(clients, []byte("- id: robot\n  secret_file: robot.secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, "--clock", "real", "--client-file", clients)
	code, out, errOut := runProbe(t, p.banner.URL, "--flow", "client-credentials", "--client-id", "robot",
		"--client-secret-file", secret, "--yes", "--json", "--max-wait", "1s")
	if code != 0 {
		t.Fatalf("probe exit %d: %s", code, errOut)
	}
	var r probe.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	for _, k := range probe.TraitKeys[:9] {
		if v := probe.Value(r.Traits, k); v != "null" {
			t.Errorf("%s = %s, want null", k, v)
		}
	}
	if ev := r.Evidence["revocation"]; len(ev) != 1 || !strings.Contains(ev[0].Request, "no refresh token") {
		t.Errorf("revocation evidence %+v", ev)
	}
	if r.ClosestPreset.Name != "" || strings.Contains(out, "robot-secret-from-a-file") {
		t.Errorf("closest %+v, or the secret is in the report", r.ClosestPreset)
	}
}
