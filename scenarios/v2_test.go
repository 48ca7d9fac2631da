package scenarios

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/mockserver"
)

// runOne runs a scenario source against a fresh embedded server.
func runOne(t *testing.T, src string) Result {
	t.Helper()
	sc := mustParse(t, "v2.yaml", src)
	res := NewRunner().Run(t.Context(), sc)
	for _, st := range res.Steps {
		t.Logf("%s %d %s: %s %v %v", st.Status, st.N, st.Kind, st.Summary, st.Failures, st.SkippedChecks)
	}
	return res
}

func wantPass(t *testing.T, src string) Result {
	t.Helper()
	res := runOne(t, src)
	if res.Status != Passed {
		t.Fatalf("%s: %s", res.Status, res.Reason)
	}
	return res
}

// wantFail checks that a scenario fails at step n with a failure that
// contains want: every check can fail.
func wantFail(t *testing.T, src string, n int, want string) {
	t.Helper()
	res := runOne(t, src)
	st, ok := failedStep(res)
	if res.Status != Failed || !ok || st.N != n || !strings.Contains(strings.Join(st.Failures, "; "), want) {
		t.Fatalf("%s: %q, want a failure at step %d containing %q", res.Status, res.Reason, n, want)
	}
}

// Everything new in the format, in one scenario that must pass.
func TestFormatV2Passes(t *testing.T) {
	wantPass(t, `name: v2
tags: [smoke]
steps:
  - request: {method: POST, path: /register, auth: none, body: '{"username": "u-${run_id}", "password": "pw-${scenario}-123"}'}
    expect: {status: 2xx}
    capture: {who: body.username}
  - login: {username: "${who}", password: "pw-${scenario}-123"}
    expect: {status: 200, cookies: {RefreshToken: {httponly: true, samesite: Strict, path: /}}}
  - expect: {token_changed: true, login_required: false}
  - request: {path: /protected, headers: {X-Trace: "t-${who}"}}
    expect: {status: [200, 204], body_contains: u-}
    capture: {ctype: header.Content-Type}
  - request: {path: /protected, auth: none}
    expect: {status: 4xx, error: [missing_token, invalid_token], headers: {www-authenticate: 'realm="tokenlab"'}}
  - repeat:
      times: 3
      steps:
        - refresh:
          expect: {rotations: 1, events: {rotation: 1}, no_events: [reuse_detected, family_revoked]}
  - login: {}
    client: phone
  - logout:
    client: phone
    expect: {login_required: true}
  - request: /protected
    expect: {status: 200, refreshes: 0}
`)
}

func TestVariablesAndRunID(t *testing.T) {
	src := `name: register twice
steps:
  - request: {method: POST, path: /register, auth: none, body: '{"username": "qa-${run_id}", "password": "password123"}'}
    expect: {status: 201}
`
	// ${run_id} differs per run, so registering twice on one server works.
	e := external(t)
	for range 2 {
		r := NewRunner()
		r.Server, r.AdminToken = e.URL, e.AdminToken
		if res := r.Run(t.Context(), mustParse(t, "r.yaml", src)); res.Status != Passed {
			t.Fatalf("%s: %s", res.Status, res.Reason)
		}
	}
}

func TestChecksCanFail(t *testing.T) {
	const login = "name: f\nsteps:\n  - login: {}\n"
	for _, tc := range []struct {
		name, steps string
		n           int
		want        string
	}{
		{"status class", "  - request: /protected\n    expect: {status: 4xx}\n", 2, "expected status 4xx, got 200"},
		{"status list", "  - request: /nowhere\n    expect: {status: [200, 201]}\n", 2, "expected status one of 200, 201, got 404"},
		{"error list", "  - request: {path: /protected, auth: none}\n    expect: {error: [token_expired, token_revoked]}\n", 2, "expected error one of token_expired, token_revoked, got missing_token"},
		{"event count", "  - refresh:\n    expect: {events: {rotation: 2}}\n", 2, "expected the server event rotation 2 times, got 1"},
		{"no_events", "  - refresh:\n    expect: {no_events: [rotation]}\n", 2, "expected no server event rotation, got 1"},
		{"header missing", "  - request: /protected\n    expect: {headers: {X-Nothing: a}}\n", 2, "expected the header X-Nothing, got no such header"},
		{"header value", "  - request: {path: /protected, auth: none}\n    expect: {status: 401, headers: {WWW-Authenticate: nope}}\n", 2, `expected the header WWW-Authenticate to contain "nope"`},
		{"cookie flag", "  - refresh:\n    expect: {cookies: {RefreshToken: {samesite: Lax}}}\n", 2, "expected cookie RefreshToken samesite Lax, got Strict"},
		{"cookie absent", "  - refresh:\n    expect: {cookies: {Nope: {}}}\n", 2, "expected the answer to set the cookie Nope"},
		{"a request without expect.status fails on 404", "  - request: /nowhere\n", 2, "the request failed: GET /nowhere → 404"},
		{"a request with other checks still fails on 404", "  - request: /nowhere\n    expect: {refreshes: 0}\n", 2, "the request failed"},
		{"capture of a missing field", "  - request: /protected\n    capture: {x: body.nope}\n", 2, "capture x: the answer has no body.nope"},
		{"refreshes per client", "  - login: {}\n    client: b\n  - refresh:\n    client: b\n    expect: {refreshes: 0}\n", 3, "expected 0 refreshes, got 1"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantFail(t, login+tc.steps, tc.n, tc.want) })
	}
}

// Wrong today 1: a password given without a username was ignored, and ""
// replaced by the default, so a wrong password "was accepted".
func TestWrongPasswordIsSentAsWritten(t *testing.T) {
	for _, pw := range []string{"wrong-password", `""`} {
		wantPass(t, "name: w\nsteps:\n  - login: {password: "+pw+"}\n    expect: {status: 4xx, login_required: true}\n")
		wantFail(t, "name: w\nsteps:\n  - login: {password: "+pw+"}\n", 1, "login failed")
	}
	wantPass(t, "name: w\nsteps:\n  - login: {username: alice}\n    expect: {status: 200}\n") // no password: the runner's
}

// Wrong today 3: after a successful logout, login_required is true.
func TestLogoutEndsTheSession(t *testing.T) {
	wantPass(t, "name: l\nsteps:\n  - login: {}\n  - logout:\n    expect: {status: 204, login_required: true}\n")
}

// Admin-only checks degrade: without the admin API an events check is a
// skipped check, and the rest of the scenario runs.
func TestEventChecksDegrade(t *testing.T) {
	e := external(t)
	r := NewRunner()
	r.Server = e.URL
	sc := mustParse(t, "d.yaml", `name: degrade
steps:
  - login: {}
  - refresh:
    expect: {status: 200, events: [rotation], no_events: [family_revoked]}
  - request: /protected
    expect: {status: 200}
`)
	res := r.Run(t.Context(), sc)
	if res.Status != Passed || res.SkippedChecks != 1 || len(res.Steps) != 3 {
		t.Fatalf("%s, %d skipped checks, %d steps: %s", res.Status, res.SkippedChecks, len(res.Steps), res.Reason)
	}
	if got := res.Steps[1].SkippedChecks; len(got) != 1 || !strings.Contains(got[0], "step 2 (refresh) checks server events") {
		t.Errorf("skipped checks %q, want one naming step 2 (refresh)", got)
	}
}

// Wrong today 5: a wrong admin token is a configuration error.
func TestWrongAdminTokenIsAnError(t *testing.T) {
	e := external(t)
	r := NewRunner()
	r.Server, r.AdminToken = e.URL, "tla_wrong_wrong_wrong"
	if err := r.CheckServer(t.Context()); err == nil || !strings.Contains(err.Error(), "refused the admin token") {
		t.Errorf("CheckServer = %v", err)
	}
	sc, _ := Builtin("access-expiry")
	if res := r.Run(t.Context(), sc); res.Status != Failed || !strings.Contains(res.Reason, "admin token was refused") {
		t.Errorf("%s: %q, want failed (not skipped) because the token was refused", res.Status, res.Reason)
	}
}

// Wrong today 6: settings are put back exactly, sub-millisecond too.
func TestSettingsRestoredExactly(t *testing.T) {
	e := external(t)
	a := &adminAPI{url: e.URL, token: e.AdminToken}
	ctx := t.Context()
	before, err := a.settings(ctx, map[string]any{"reuseGrace": "2500ms", "accessTtl": "500us", "accessDenylist": false})
	if err != nil {
		t.Fatal(err)
	}
	r := NewRunner()
	r.Server, r.AdminToken = e.URL, e.AdminToken
	sc := mustParse(t, "s.yaml", "name: s\nserver: {access_denylist: true, reuse_grace: 1s, access_ttl: 15m}\nsteps:\n  - login: {}\n")
	if res := r.Run(ctx, sc); res.Status != Passed {
		t.Fatalf("%s: %s", res.Status, res.Reason)
	}
	after, err := a.settings(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"reuseGrace", "accessTtl", "accessDenylist"} {
		if after[k] != before[k] {
			t.Errorf("%s = %v after the run, was %v", k, after[k], before[k])
		}
	}
	if before["reuseGrace"] != "2s500ms" || before["accessTtl"] != "500us" {
		t.Errorf("the server reports %v and %v; want 2s500ms and 500us", before["reuseGrace"], before["accessTtl"])
	}
}

// Wrong today 9: against an external server, an advance step shows the
// server's clock, not the runner's.
func TestAdvanceShowsTheServersClock(t *testing.T) {
	e := external(t)
	if err := e.Clock.Set(time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	r := NewRunner()
	r.Server, r.AdminToken = e.URL, e.AdminToken
	res := r.Run(t.Context(), mustParse(t, "a.yaml", "name: a\nsteps:\n  - advance: 1h\n"))
	if res.Status != Passed || !strings.Contains(res.Steps[0].Summary, "2031-03-04T06:06:07Z") {
		t.Errorf("%s %q: %v", res.Status, res.Reason, res.Steps)
	}
}

// A fault delays or fails calls; a delayed call still answers.
func TestFaultDelay(t *testing.T) {
	res := wantPass(t, `name: slow
steps:
  - login: {}
  - fault: {route: protected, delay: 50ms, times: 2}
  - request: /protected
    expect: {status: 200}
  - fault: {route: login, status: 500}
  - login: {}
    client: other
    expect: {status: 500, error: fault_injected}
`)
	if !strings.Contains(res.Steps[1].Summary, "the server will answer the next 2 calls to the protected route late, after 50ms") {
		t.Errorf("summary %q", res.Steps[1].Summary)
	}
}

// Ctrl-C: the scenario that was running is reported as interrupted, the
// ones that never started are left out, and what ran is kept.
func TestRunAllInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	basic, _ := Builtin("basic-login")
	slow := mustParse(t, "slow.yaml", "name: slow\nsteps:\n  - login: {}\n  - wait: 1m\n  - request: /protected\n")
	r := NewRunner()
	r.OnStep = func(sc *Scenario, sr StepResult) {
		if sc == slow && sr.N == 1 {
			go func() { time.Sleep(50 * time.Millisecond); cancel() }()
		}
	}
	results := r.RunAll(ctx, []*Scenario{basic, slow, basic}, 1)
	if len(results) != 2 || results[0].Status != Passed || !results[1].Interrupted || results[1].Status != Skipped ||
		!strings.Contains(results[1].Reason, "interrupted after 1 step") {
		t.Fatalf("results %+v", results)
	}
}

// The client's HTTP answers are kept for header and cookie checks in
// every dialect: the cookie dialect sets its cookies on login.
func TestCookieChecksInTheCookieDialect(t *testing.T) {
	r := NewRunner()
	var err error
	if r.Profile, err = client.ResolveProfile("seed-cookie"); err != nil {
		t.Fatal(err)
	}
	sc := mustParse(t, "c.yaml", "name: c\nsteps:\n  - login: {}\n    expect: {cookies: {AccessToken: {httponly: true}, RefreshToken: {httponly: true, secure: false}}}\n")
	if res := r.Run(t.Context(), sc); res.Status != Passed {
		t.Fatalf("%s: %s", res.Status, res.Reason)
	}
	_ = http.SameSiteStrictMode
}

// Wrong today 6: a restore that fails is reported, not ignored.
func TestFailedRestoreIsReported(t *testing.T) {
	puts := 0
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/admin/clock":
			w.Write([]byte(`{"mode": "frozen"}`))
		case r.URL.Path == "/admin/settings" && r.Method == http.MethodGet:
			w.Write([]byte(`{"rotation": true}`))
		case r.URL.Path == "/admin/settings": // the first PUT applies, the second (the restore) fails
			if puts++; puts > 1 {
				w.WriteHeader(http.StatusBadRequest)
				w.Write([]byte(`{"error": "invalid_request", "message": "the disk is full"}`))
				return
			}
			w.Write([]byte(`{"rotation": false}`))
		default:
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error": "missing_token"}`))
		}
	}))
	defer api.Close()
	r := NewRunner()
	r.Server, r.AdminToken = api.URL, "tla_fake_admin_token"
	res := r.Run(t.Context(), mustParse(t, "r.yaml", "name: r\nserver: {rotation: false}\nsteps:\n  - request: {path: /protected, auth: none}\n    expect: {status: 401}\n"))
	if res.Status != Failed || !strings.Contains(res.Reason, "restore the server's settings") || !strings.Contains(res.Reason, "the disk is full") {
		t.Errorf("%s: %q, want failed because the restore failed", res.Status, res.Reason)
	}
}

// A scenario's server: settings are the server's own PolicyPatch: as JSON
// they are the body of PUT /admin/settings (durations to the nanosecond,
// false sent as false, what is not set left out), and applied to a policy
// they change only what they set.
func TestServerSettingsArePolicyPatch(t *testing.T) {
	sc := mustParse(t, "s.yaml", "name: s\nserver: {reuse_grace: 2500ms, access_ttl: 500us, rotation: false}\nsteps:\n  - login: {}\n")
	data, err := json.Marshal(sc.Server.patch())
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"accessTtl":"500us","reuseGrace":"2s500ms","rotation":false}`; string(data) != want {
		t.Errorf("PUT /admin/settings body %s, want %s", data, want)
	}
	base := mockserver.DefaultConfig().Policy
	got, err := sc.Server.patch().Apply(base)
	if err != nil {
		t.Fatal(err)
	}
	want := base
	want.ReuseGrace, want.AccessTTL, want.Rotation = 2500*time.Millisecond, 500*time.Microsecond, false
	if got != want {
		t.Errorf("applied: %+v, want %+v", got, want)
	}
	if empty := mustParse(t, "e.yaml", "name: e\nserver: {clients: [{id: m, secret: s}]}\nsteps:\n  - login: {}\n"); !empty.Server.empty() {
		t.Error("a server: with only clients changes no setting, but empty() is false")
	}
}
