package scenarios

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// oauthRunner is a runner in the oauth2 dialect on embedded servers.
func oauthRunner() *Runner {
	r := NewRunner()
	r.Profile = profiled("oauth2")
	return r
}

// The client lives through a refresh that times out: the token endpoint
// answers after 1 s, the client gives up after 500 ms, keeps its session,
// and refreshes once the endpoint is quick again. This takes about 1 s of
// real time: the fault's delay is real (the server sleeps), and the
// embedded server waits for the late answer before it closes. The timeout
// bounds the login and the last refresh too: 200 ms was too short for
// them under -race on a loaded 2-core machine.
func TestRefreshTimeoutKeepsTheSession(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 1 s of real time")
	}
	r := NewRunner()
	r.RequestTimeout = 500 * time.Millisecond
	res := r.Run(t.Context(), mustParse(t, "timeout.yaml", `name: refresh-timeout
steps:
  - login: {}
  - advance: 16m
  - fault: {route: token, delay: 1s}
  - refresh:
    say: The refresh times out on the client's side.
    expect: {error: timeout, login_required: false}
  - request: /protected
    say: The endpoint is quick again; the client refreshes with the refresh token it kept.
    expect: {status: 200, refreshes: 1}
`))
	for _, st := range res.Steps {
		t.Logf("%s %d %s: %s %v", st.Status, st.N, st.Kind, st.Summary, st.Failures)
	}
	if res.Status != Passed {
		t.Fatalf("%s: %s", res.Status, res.Reason)
	}
}

func runOAuth(t *testing.T, src string) Result {
	t.Helper()
	res := oauthRunner().Run(t.Context(), mustParse(t, "flow.yaml", src))
	for _, st := range res.Steps {
		t.Logf("%s %d %s: %s %v", st.Status, st.N, st.Kind, st.Summary, st.Failures)
	}
	return res
}

// Every flow key misused is a load error on its line, saying what is wrong.
func TestParseFlowMisuse(t *testing.T) {
	head := "name: x\nsteps:\n  - login: {}\n"
	for _, c := range []struct{ name, step, want string }{
		{"unknown flow", "  - login: {flow: implicit}\n", `login flow must be one of password, pkce, device, client-credentials, not "implicit"`},
		{"deny on a password login", "  - login: {deny: true}\n", "deny presses Deny on the pkce or device login page; a password login has none"},
		{"wrong verifier on a device login", "  - login: {flow: device, wrong_verifier: true}\n", "wrong_verifier is for flow: pkce"},
		{"wrong verifier and deny", "  - login: {flow: pkce, deny: true, wrong_verifier: true}\n", "a denied login gets no code"},
		{"polls on pkce", "  - login: {flow: pkce, polls: [authorization_pending]}\n", "polls are for flow: device"},
		{"an unknown poll answer", "  - login: {flow: device, polls: [expired_token]}\n", `polls lists authorization_pending or slow_down, not "expired_token"`},
		{"slow_down first", "  - login: {flow: device, polls: [slow_down]}\n", "the first poll cannot be slow_down"},
		{"client credentials with a password", "  - login: {flow: client-credentials, client_id: m, password: x}\n", "client-credentials logs in as the client itself"},
		{"client credentials without a client", "  - login: {flow: client-credentials}\n", "client-credentials needs client_id"},
		{"a secret two ways", "  - login: {flow: pkce, client_id: m, client_secret: a, client_secret_env: B}\n", "give the client's secret one way"},
		{"a secret without its client", "  - login: {flow: pkce, client_secret: a}\n", "a client secret needs the client_id"},
		{"a bad env name", "  - login: {flow: pkce, client_id: m, client_secret_env: \"$X\"}\n", "client_secret_env is the name of an environment variable"},
		{"an unknown variable in a secret", "  - login: {flow: pkce, client_id: m, client_secret: \"${nope}\"}\n", "unknown variable ${nope}"},
		{"save a code after a password login", "  - save: {token: code, as: c}\n", "save: {token: code} keeps the code of a pkce or device login"},
		{"a saved code sent as a token", "  - login: {flow: pkce}\n  - save: {token: code, as: c}\n  - request: {path: /protected, token: c}\n", "c is a saved code, not an access token"},
		{"a scenario client without a secret", "", "a scenario's client needs an id and a secret"},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := head + c.step
			if c.step == "" {
				src = "name: x\nserver:\n  clients: [{id: m}]\nsteps:\n  - login: {}\n"
			}
			_, err := Parse("flow.yaml", []byte(src))
			var le *LoadError
			if !errors.As(err, &le) || le.Line == 0 || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %v, want a line and %q", err, c.want)
			}
		})
	}
}

// A wrong password on the /device page stops the device login with the
// page's error, and the device stops polling.
func TestDeviceWrongPassword(t *testing.T) {
	res := runOAuth(t, `name: device-wrong-password
steps:
  - login: {flow: device, password: not-hers}
    expect: {error: login_failed, login_required: true, has_refresh_token: false, no_events: [device_approved]}
  - login: {flow: device, polls: [authorization_pending, authorization_pending]}
    expect: {status: 200, events: {device_slow_down: 0, device_approved: 1}}
`)
	if res.Status != Passed {
		t.Fatalf("%s: %s", res.Status, res.Reason)
	}
	if s := res.Steps[0].Summary; !strings.Contains(s, "the /device page answered 200 login_failed") {
		t.Errorf("summary %q does not say the page refused", s)
	}
	if s := res.Steps[1].Summary; !strings.Contains(s, "polls: authorization_pending, authorization_pending; approved on /device → 200") {
		t.Errorf("summary %q does not show the polls", s)
	}
}

// A device login's checks can fail: an approved login expected to be
// denied fails on its error check.
func TestDeviceChecksCanFail(t *testing.T) {
	res := runOAuth(t, `name: device-polls
steps:
  - login: {flow: device, polls: [authorization_pending]}
    expect: {error: access_denied}
`)
	st, ok := failedStep(res)
	if res.Status != Failed || !ok || !strings.Contains(strings.Join(st.Failures, "; "), "expected error access_denied, got no error") {
		t.Fatalf("%s: %q, want the step to fail on its error check", res.Status, res.Reason)
	}
}

// Scope and resource go with the flow's requests and come back in the
// token; a ${var} in the secret is expanded.
func TestFlowScopeResourceAndSecretVariable(t *testing.T) {
	res := runOAuth(t, `name: flow-keys
server:
  clients: [{id: reporter, secret: reporter-secret-0123456789}]
steps:
  - login: {flow: pkce, scope: "read write", resource: "https://api.example/"}
    expect: {status: 200, claims: {scope: read write, aud: "https://api.example/"}}
  - login: {flow: client-credentials, client_id: reporter, client_secret: "wrong-${run_id}"}
    client: job
    expect: {status: 401, error: invalid_client}
  - login: {flow: client-credentials, client_id: reporter, scope: read}
    client: job
    expect: {status: 200, claims: {sub: reporter, scope: read}, has_refresh_token: false}
`)
	if res.Status != Passed {
		t.Fatalf("%s: %s", res.Status, res.Reason)
	}
}

// Against an OAuth server that is not tokenlab's, the runner cannot fill
// the login pages: pkce and device steps are skipped, naming the step;
// client credentials need no page and run.
func TestFlowsAgainstAnotherServer(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/oauth-authorization-server", "/.well-known/openid-configuration":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"issuer":%q,"token_endpoint":%q,"authorization_endpoint":%q,"grant_types_supported":["authorization_code","client_credentials"]}`,
				srv.URL, srv.URL+"/token", srv.URL+"/authorize")
		case "/authorize":
			fmt.Fprint(w, `<html><form method="post" action="/login"><input name="email"></form></html>`)
		case "/token":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"access_token":"opaque","token_type":"Bearer","expires_in":300}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	for _, c := range []struct{ profile, src, want string }{
		{"oauth2", "name: p\nsteps:\n  - request: {path: /x, auth: none}\n    expect: {status: 404}\n  - login: {flow: pkce}\n",
			"step 2 (login) fills tokenlab's login pages as the person at the browser, but the server's authorize page is not tokenlab's login form"},
		{"tokenlab", "name: c\nsteps:\n  - login: {flow: client-credentials, client_id: m, client_secret: s}\n",
			"step 1 (login) logs in with the client-credentials flow, which needs an oauth2 profile (profile tokenlab logs in with a password) or tokenlab's server"},
	} {
		r := NewRunner()
		r.Server, r.Profile = srv.URL, profiled(c.profile)
		res := r.Run(t.Context(), mustParse(t, "x.yaml", c.src))
		if res.Status != Skipped || !strings.Contains(res.Reason, c.want) {
			t.Errorf("%s: %q, want skipped: %q", res.Status, res.Reason, c.want)
		}
	}
	r := NewRunner()
	r.Server, r.Profile = srv.URL, profiled("oauth2")
	res := r.Run(t.Context(), mustParse(t, "x.yaml", "name: c\nsteps:\n  - login: {flow: client-credentials, client_id: m, client_secret: s}\n    expect: {status: 200, has_refresh_token: false}\n"))
	if res.Status != Passed {
		t.Errorf("client credentials against another OAuth server: %s: %s", res.Status, res.Reason)
	}
}

// The page reader takes every input of the form that posts to the
// action, unescaped, and the error paragraph's code and text.
func TestReadPage(t *testing.T) {
	p := readPage([]byte(`<form method="post" action="/other"><input name="x" value="no"></form>
<p class="error" id="error" role="alert" data-error="invalid_request">Bad &amp; wrong <b>request</b>.</p>
<form method="post" action="/oauth/authorize"><input type="hidden" name="state" value="a&amp;b">
<input id="username" name="username" value="alice"><input name="password" type="password"></form>`), "/oauth/authorize")
	if p.form.Get("state") != "a&b" || p.form.Get("username") != "alice" || !p.form.Has("password") || p.form.Has("x") {
		t.Errorf("form %v", p.form)
	}
	if p.errCode != "invalid_request" || p.errText != "Bad & wrong request." {
		t.Errorf("error %q %q", p.errCode, p.errText)
	}
}

// FuzzReadPage: any page is read without a panic.
func FuzzReadPage(f *testing.F) {
	f.Add([]byte(`<form action="/device"><input name="user_code" value="BCDF-GHJK"></form><p id="result" data-result="approved">`), "/device")
	f.Add([]byte(`<p class="error" id="error" data-error="x">`), "/oauth/authorize")
	f.Add([]byte(`<form action="/a"><input name=a value="b"><input name="c" value="`), "/a")
	f.Fuzz(func(t *testing.T, body []byte, action string) {
		p := readPage(body, action)
		if p.form != nil && !strings.Contains(string(body), action) {
			t.Errorf("a form for %q in a page without it", action)
		}
	})
}

// An OAuth server without the password grant (oidc-provider, most
// identity providers): a scenario that logs in with a password is skipped
// before anything is sent, naming the login step and what the server
// offers, not failed with the server's refusal, and the login is named
// even when a later step (an advance) could not run either.
func TestPasswordLoginSkippedWithoutPasswordGrant(t *testing.T) {
	offered := []string{"authorization_code", "refresh_token"}
	tokenCalls := 0
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			fmt.Fprintf(w, `{"issuer": %q, "token_endpoint": %q, "authorization_endpoint": %q, "grant_types_supported": ["%s"]}`,
				"http://"+r.Host, "http://"+r.Host+"/token", "http://"+r.Host+"/authorize", strings.Join(offered, `", "`))
		case "/token":
			tokenCalls++
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error": "unsupported_grant_type"}`))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer api.Close()
	run := func(name string) Result {
		sc, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		r := NewRunner()
		r.Server, r.Profile = api.URL, profiled("oauth2")
		return r.Run(t.Context(), sc)
	}
	const want = "step 1 (login) needs the password grant, which this server does not offer: it offers authorization_code, refresh_token"
	for _, name := range []string{"basic-login", "access-expiry"} {
		if res := run(name); res.Status != Skipped || res.Reason != want {
			t.Errorf("%s: %s %q, want skipped: %q", name, res.Status, res.Reason, want)
		}
	}
	if tokenCalls != 0 {
		t.Errorf("the token endpoint was called %d times; a skipped scenario sends nothing", tokenCalls)
	}
	// A server that offers it: the login may run, so the advance it
	// cannot do is what skips access-expiry.
	offered = append(offered, "password")
	if res := run("access-expiry"); res.Status != Skipped || !strings.HasPrefix(res.Reason, "step 4 (advance) needs the admin clock") {
		t.Errorf("with the password grant offered: %s %q, want skipped at step 4 (advance)", res.Status, res.Reason)
	}
}

// Wrong today 5: a refresh that times out against a fault longer than the
// embedded server's shutdown grace failed the scenario after every step
// had passed, with a bare "context deadline exceeded": the server's
// shutdown waited for the handler still sleeping in the delay.
func TestRefreshTimeoutOnALongDelayStillPasses(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 0.5 s of real time")
	}
	r := NewRunner()
	r.RequestTimeout = 500 * time.Millisecond
	res := r.Run(t.Context(), mustParse(t, "timeout.yaml", `name: refresh-timeout-long-delay
steps:
  - login: {}
  - fault: {route: token, delay: 1m}
  - refresh:
    expect: {error: timeout, login_required: false}
`))
	if res.Status != Passed {
		t.Fatalf("%s: %s", res.Status, res.Reason)
	}
}
