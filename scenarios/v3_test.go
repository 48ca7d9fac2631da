package scenarios

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/mockserver"
	"golang.org/x/crypto/bcrypt"
)

func runWith(t *testing.T, r *Runner, file, src string) Result {
	t.Helper()
	res := r.Run(t.Context(), mustParse(t, file, src))
	for _, st := range res.Steps {
		t.Logf("%s %d %s: %s %v", st.Status, st.N, st.Kind, st.Summary, st.Failures)
	}
	return res
}

func runnerWithProfile(t *testing.T, name string) *Runner {
	t.Helper()
	r := NewRunner()
	p, err := client.ResolveProfile(name)
	if err != nil {
		t.Fatal(err)
	}
	r.Profile = p
	return r
}

// graceSuccessor is point 10's story: inside the grace window a replay of
// the spent refresh token gets the same successor, whatever the dialect
// calls the tokens.
const graceSuccessor = `name: grace-same-successor
server: {reuse_grace: 10s}
steps:
  - login: {}
    capture: {first: token.refresh, first_access: token.access}
    expect: {equal: [first, refresh_token]}
  - save: {from: first, as: spent}
  - refresh:
    capture: {successor: token.refresh}
    expect: {equal: [successor, refresh_token], not_equal: [first, successor]}
  - replay: ${first}
    say: The spent token again, inside the grace window.
    capture: {again: token.refresh}
    expect: {status: 200, equal: [successor, again]}
  - replay: spent
    capture: {third: token.refresh}
    expect: {status: 200, equal: [again, third]}
  - request: {path: /protected, auth: none, headers: {Authorization: "Bearer ${access_token}"}}
    expect: {status: 200}
`

func TestTokenValuesWhateverTheDialect(t *testing.T) {
	src := graceSuccessor
	for _, profile := range []string{"tokenlab", "seed-cookie", "oauth2"} {
		t.Run(profile, func(t *testing.T) {
			res := runWith(t, runnerWithProfile(t, profile), "grace.yaml", src)
			if res.Status != Passed {
				t.Fatalf("%s: %s", res.Status, res.Reason)
			}
		})
	}
}

// Outside the grace window the same comparison fails: equal can fail, and
// says so without printing a token.
func TestEqualCanFail(t *testing.T) {
	res := runOne(t, `name: no-grace
steps:
  - login: {}
    capture: {first: token.refresh}
  - refresh:
    capture: {successor: token.refresh}
  - login: {}
    client: other
    capture: {others: token.refresh}
    expect: {equal: [successor, others]}
`)
	st, ok := failedStep(res)
	if !ok || st.N != 3 || !strings.Contains(st.Failures[0], "expected ${others} to equal ${successor}, got two different values") {
		t.Fatalf("%s: %q", res.Status, res.Reason)
	}
	if strings.Contains(res.Reason, "eyJ") {
		t.Errorf("the failure shows a token: %s", res.Reason)
	}
	wantFail(t, "name: ne\nsteps:\n  - login: {}\n    capture: {a: token.access}\n    expect: {not_equal: [a, access_token]}\n", 1, "to differ, got the same value (\"<token>\")")
	wantFail(t, "name: missing\nsteps:\n  - request: {path: /x, auth: none, headers: {Authorization: \"Bearer ${access_token}\"}}\n", 1, "client main holds no access token")
	wantFail(t, "name: noid\nsteps:\n  - login: {}\n    capture: {id: token.id}\n", 1, "capture id: the answer has no token.id")
}

func TestOptionalError(t *testing.T) {
	sc := mustParse(t, "o.yaml", "name: o\nsteps:\n  - login: {}\n  - refresh:\n    expect: {error: {code: invalid_grant, optional: true}}\n")
	e := sc.Steps[1].Expect
	for _, tc := range []struct {
		obs  Observed
		pass bool
	}{
		{Observed{Status: 400}, true},                          // a refusal that names no code
		{Observed{Status: 0, LoginRequired: true}, true},       // the session ended, no code
		{Observed{Status: 400, Error: "invalid_grant"}, true},  // the code itself
		{Observed{Status: 401, Error: "invalid_token"}, false}, // another code
		{Observed{Status: 200}, false},                         // no refusal at all
		{Observed{Status: 400, Error: "invalid_request"}, false},
	} {
		fails, _ := check(e, tc.obs, nil)
		if (len(fails) == 0) != tc.pass {
			t.Errorf("%+v: failures %q, want pass %v", tc.obs, fails, tc.pass)
		}
		if !tc.pass && len(fails) == 1 && !strings.Contains(fails[0], "expected error one of invalid_grant, no code") {
			t.Errorf("failure %q", fails[0])
		}
	}
	// Against a real server: a refused refresh names a code, so the
	// optional form holds with the right code and fails with another.
	wantPass(t, "name: o\nsteps:\n  - login: {}\n  - logout:\n  - refresh:\n    expect: {error: {code: [token_revoked, invalid_grant], optional: true}}\n")
}

func TestRangesAndStatusCounts(t *testing.T) {
	wantPass(t, `name: ranges
steps:
  - login: {}
  - refresh:
    expect: {refreshes: {max: 2}, rotations: {min: 1, max: 1}, events: {refresh: {min: 1}, reuse_detected: {max: 0}}}
  - concurrent: {n: 6}
    expect: {statuses: {200: 6, 4xx: {max: 0}}, refreshes: 0}
`)
	wantFail(t, "name: r\nsteps:\n  - login: {}\n  - refresh:\n    expect: {refreshes: {min: 2}}\n", 2, "expected at least 2 refreshes, got 1")
	wantFail(t, "name: r\nsteps:\n  - login: {}\n  - refresh:\n    expect: {events: {rotation: {min: 2}}}\n", 2, "expected the server event rotation at least 2 times, got 1")
	wantFail(t, "name: r\nsteps:\n  - login: {}\n  - concurrent: {n: 3}\n    expect: {statuses: {200: {max: 2}}}\n", 2, "expected at most 2 answers with status 200, got 3 (statuses [200 200 200])")
}

func TestXFail(t *testing.T) {
	const failing = "name: known-bug\nxfail: {profile: tokenlab, reason: the server says token_revoked}\nsteps:\n  - login: {}\n  - logout:\n  - refresh:\n    expect: {error: token_reused}\n"
	const passing = "name: fixed\nxfail: [{profile: seed-json, reason: no reuse detection}, {server: embedded, reason: was broken}]\nsteps:\n  - login: {}\n"
	r := NewRunner()
	x := runWith(t, r, "x.yaml", failing)
	if x.Status != XFailed || x.XFail != "the server says token_revoked" || !strings.Contains(x.Reason, "expected error token_reused") {
		t.Fatalf("expected failure: %s %q %q", x.Status, x.XFail, x.Reason)
	}
	xp := runWith(t, r, "p.yaml", passing)
	if xp.Status != Failed || !xp.XPassed || !strings.Contains(xp.Reason, "expected to fail against the embedded server (xfail at p.yaml:2: was broken), but it passed") {
		t.Fatalf("unexpected pass: %s %q", xp.Status, xp.Reason)
	}
	// Another profile: the xfail does not apply, the failure is a failure.
	other := runWith(t, runnerWithProfile(t, "seed-cookie"), "x.yaml", failing)
	if other.Status != Failed || other.XFail != "" {
		t.Fatalf("xfail for tokenlab applied to seed-cookie: %s %q", other.Status, other.XFail)
	}
	results := []Result{x, xp, other}
	if c := Count(results); c.XFailed != 1 || c.Failed != 2 || c.Passed != 0 {
		t.Errorf("counts %+v", c)
	}

	var text bytes.Buffer
	WriteText(plain(&text), results, time.Second)
	for _, want := range []string{"○ known-bug failed as expected (xfail: the server says token_revoked):", "✗ fixed failed: expected to fail", "0 passed, 2 failed, 0 skipped, 1 xfailed in"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}

	var js bytes.Buffer
	WriteJSON(&js, results, time.Second)
	var rep struct {
		XFailed   int `json:"xfailed"`
		Scenarios []struct {
			Status, XFail string
			XPassed       bool
		}
	}
	if err := json.Unmarshal(js.Bytes(), &rep); err != nil || rep.XFailed != 1 || rep.Scenarios[0].Status != "xfailed" ||
		rep.Scenarios[0].XFail == "" || rep.Scenarios[1].Status != "failed" || !rep.Scenarios[1].XPassed {
		t.Errorf("JSON %v: %s", err, js.String())
	}

	var ju bytes.Buffer
	WriteJUnit(&ju, results, time.Second)
	var suites struct {
		Failures int `xml:"failures,attr"`
		Skipped  int `xml:"skipped,attr"`
		Cases    []struct {
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
			Failure *struct {
				Type string `xml:"type,attr"`
			} `xml:"failure"`
			Props []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"properties>property"`
		} `xml:"testsuite>testcase"`
	}
	if err := xml.Unmarshal(ju.Bytes(), &suites); err != nil {
		t.Fatal(err)
	}
	c0, c1 := suites.Cases[0], suites.Cases[1]
	if suites.Failures != 2 || suites.Skipped != 1 || c0.Skipped == nil || !strings.HasPrefix(c0.Skipped.Message, "expected failure (xfail: the server says token_revoked)") ||
		c1.Failure == nil || c1.Failure.Type != "xpass" || fmt.Sprint(c0.Props) != "[{xfail the server says token_revoked}]" {
		t.Errorf("JUnit:\n%s", ju.String())
	}

	var tap bytes.Buffer
	WriteTAP(&tap, results)
	points, diags := checkTAP14(t, tap.String())
	if points[0][1] != "not ok" || points[0][4] != "TODO" || points[0][5] != "the server says token_revoked" || diags[1]["severity"] != "todo" {
		t.Errorf("TAP point 1 %q:\n%s", points[0], tap.String())
	}
	if points[1][1] != "not ok" || points[1][4] != "" || diags[2]["severity"] != "xpass" {
		t.Errorf("TAP point 2 %q:\n%s", points[1], tap.String())
	}
}

// noExpiresIn is a profile whose answers seem to carry no expires_in, so
// the client reads the expiry from the token's exp with its own clock.
func noExpiresIn(t *testing.T) *Runner {
	r := NewRunner()
	r.Profile.Fields.ExpiresIn = "not_sent"
	return r
}

func TestSkewMovesOnlyTheClientsClock(t *testing.T) {
	const src = "name: skew\nserver: {access_ttl: 15m}\n%ssteps:\n  - login: {}\n  - request: /protected\n    expect: {status: 200, refreshes: %d}\n  - expect: {claims: {username: alice}}\n"
	// Without skew the token is fresh: no refresh.
	if res := runWith(t, noExpiresIn(t), "s.yaml", fmt.Sprintf(src, "", 0)); res.Status != Passed {
		t.Fatalf("%s: %s", res.Status, res.Reason)
	}
	// 16 minutes ahead, and with no expires_in, the client would think the
	// 15-minute token expired; but it learns the server's time from the
	// Date header of every answer (tokenlab's server sends its lab clock)
	// and judges expiry by that: no refresh.
	if res := runWith(t, noExpiresIn(t), "s.yaml", fmt.Sprintf(src, "skew: {client: +16m}\n", 0)); res.Status != Passed {
		t.Fatalf("%s: %s", res.Status, res.Reason)
	}
	// With expires_in too.
	if res := runOne(t, fmt.Sprintf(src, "skew: {client: +16m}\n", 0)); res.Status != Passed {
		t.Fatalf("%s: %s", res.Status, res.Reason)
	}
	// Behind by 16 minutes, after 16 minutes the token has expired on the
	// server's clock, which the client knows: it refreshes once and the
	// call succeeds.
	res := runWith(t, noExpiresIn(t), "s.yaml", "name: behind\nskew: {client: -16m}\nsteps:\n  - login: {}\n  - advance: 16m\n  - request: /protected\n    expect: {status: 200, refreshes: 1}\n")
	if res.Status != Passed {
		t.Fatalf("%s: %s", res.Status, res.Reason)
	}
}

// hs256Server is an external tokenlab server whose HS256 secrets the test
// knows.
func hs256Server(t *testing.T, secret string) *mockserver.Embedded {
	e, err := mockserver.StartEmbedded(t.Context(), mockserver.EmbeddedOptions{Configure: func(c *mockserver.Config) {
		c.BcryptCost, c.Alg, c.AccessSecret, c.RefreshSecret = bcrypt.MinCost, "HS256", secret, secret+"-refresh"
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestResignWithAChosenKey(t *testing.T) {
	const secret = "the-servers-own-access-secret-of-32-bytes"
	e := hs256Server(t, secret)
	// Far from the real time: the time edits must follow the server's clock.
	if err := e.Clock.Set(time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "right.secret"), []byte(secret+"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "wrong.secret"), []byte("an-attackers-guess-of-the-secret-xx\n"), 0o600)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	writePEM(t, filepath.Join(dir, "rsa.pem"), "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	writePEM(t, filepath.Join(dir, "ec.pem"), "PRIVATE KEY", der)
	src := `name: resign
steps:
  - login: {}
  - tamper: {resign: {alg: HS256, secret_file: right.secret}, claims: {username: mallory}}
    say: With the server's own secret the forgery is a valid token.
    expect: {status: 200, body_contains: mallory}
  - tamper: {resign: {alg: HS256, secret_file: wrong.secret}}
    expect: {status: 401, error: invalid_token}
  - tamper: {resign: {alg: HS256}}
    expect: {status: 401, error: invalid_token}
  - tamper: {resign: {alg: RS256, key_file: rsa.pem}}
    expect: {status: 401, error: invalid_token}
  - tamper: {resign: {alg: ES256, key_file: ec.pem}}
    expect: {status: 401, error: invalid_token}
  - tamper: {resign: {alg: HS256, secret_file: right.secret}, nbf: +5m}
    expect: {status: 401, error: invalid_token, body_contains: not valid yet}
  - tamper: {resign: {alg: HS256, secret_file: right.secret}, iat: +10m, nbf: 0s}
    expect: {status: 401, error: invalid_token, body_contains: iat is in the future}
  - tamper: {resign: {alg: HS256, secret_file: right.secret}, exp: -1s}
    expect: {status: 401, error: token_expired}
  - tamper: {how: payload, nbf: +5m}
    expect: {status: 401, error: invalid_token}
`
	file := filepath.Join(dir, "resign.yaml")
	r := NewRunner()
	// The admin token lets nbf, iat and exp be relative to the server's
	// frozen clock, not to the time the scenario started.
	r.Server, r.AdminToken = e.URL, e.AdminToken
	res := runWith(t, r, file, src)
	if res.Status != Passed {
		t.Fatalf("%s: %s", res.Status, res.Reason)
	}
}

func TestSettingsWherePossible(t *testing.T) {
	e := external(t)
	const src = "name: grace\n%sserver: {reuse_grace: 10s}\nsteps:\n  - login: {}\n  - save: {token: refresh, as: old}\n  - refresh:\n  - replay: old\n    expect: {status: %s}\n"
	noAdmin := NewRunner()
	noAdmin.Server = e.URL
	// Without where_possible, the settings need the admin API: skipped.
	if res := runWith(t, noAdmin, "g.yaml", fmt.Sprintf(src, "", "200")); res.Status != Skipped {
		t.Fatalf("%s: %s", res.Status, res.Reason)
	}
	// With it, the scenario runs, says what it assumed — and here the
	// assumption is false (the server has no grace), so the replay is reuse.
	res := runWith(t, noAdmin, "g.yaml", fmt.Sprintf(src, "settings: where_possible\n", "[400, 401]"))
	if res.Status != Passed || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], `server: settings not applied (no --admin-token was given): assumed the server is configured with {"reuseGrace":"10s"}`) {
		t.Fatalf("%s %q: %s", res.Status, res.Notes, res.Reason)
	}
	if sc := mustParse(t, "g.yaml", fmt.Sprintf(src, "settings: where_possible\n", "200")); len(sc.Requires) != 0 {
		t.Errorf("requires %v: where_possible settings need no admin API", sc.Requires)
	}
	// With the admin token they are applied: the grace holds.
	admin := NewRunner()
	admin.Server, admin.AdminToken = e.URL, e.AdminToken
	if res := runWith(t, admin, "g.yaml", fmt.Sprintf(src, "settings: where_possible\n", "200")); res.Status != Passed || len(res.Notes) != 0 {
		t.Fatalf("%s %q: %s", res.Status, res.Notes, res.Reason)
	}
	var text, tap, ju bytes.Buffer
	WriteText(plain(&text), []Result{res}, time.Second)
	WriteTAP(&tap, []Result{res})
	WriteJUnit(&ju, []Result{res}, time.Second)
	for name, out := range map[string]string{"text": text.String(), "tap": tap.String(), "junit": ju.String()} {
		if !strings.Contains(out, "assumed the server is configured with") {
			t.Errorf("%s report does not say what was assumed:\n%s", name, out)
		}
	}
}

func TestClearedCookies(t *testing.T) {
	r := runnerWithProfile(t, "seed-cookie")
	res := runWith(t, r, "c.yaml", `name: cleared
steps:
  - login: {}
    expect: {cookies: {RefreshToken: {cleared: false}}}
  - logout:
    expect: {cookies: {RefreshToken: {cleared: true, httponly: true}, AccessToken: {cleared: true}}}
`)
	if res.Status != Passed {
		t.Fatalf("%s: %s", res.Status, res.Reason)
	}
	fail := runWith(t, r, "c.yaml", "name: c\nsteps:\n  - login: {}\n    expect: {cookies: {RefreshToken: {cleared: true}}}\n")
	if st, ok := failedStep(fail); !ok || !strings.Contains(st.Failures[0], "expected the answer to clear the cookie RefreshToken (Max-Age=0 or a past Expires), got Max-Age=") {
		t.Fatalf("%s: %s", fail.Status, fail.Reason)
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	past := []*http.Cookie{{Name: "s", Value: "x", Expires: now.Add(-time.Hour)}}
	future := []*http.Cookie{{Name: "s", Value: "x", Expires: now.Add(time.Hour)}}
	if f := checkCleared("s", true, past, now); f != nil {
		t.Errorf("a past Expires is a clearing: %q", f)
	}
	if f := checkCleared("s", true, future, now); len(f) != 1 || !strings.Contains(f[0], "Expires=Tue, 01 Jan 2030 01:00:00 GMT") {
		t.Errorf("a future Expires: %q", f)
	}
}

func TestStepTimeout(t *testing.T) {
	res := wantPass(t, `name: t
steps:
  - login: {}
  - fault: {route: protected, delay: 1s}
  - request: /protected
    timeout: 50ms
    expect: {error: timeout}
  - request: /protected
    timeout: 5s
    expect: {status: 200}
`)
	if got := res.Steps[2].Got; got.Status != 0 || got.Error != ErrTimeout {
		t.Errorf("timed-out step observed %+v", got)
	}
	// A refresh too: the client keeps its session and refreshes later.
	wantPass(t, "name: r\nsteps:\n  - login: {}\n  - fault: {route: token, delay: 300ms}\n  - refresh:\n    timeout: 50ms\n    expect: {error: timeout, login_required: false}\n  - refresh:\n    expect: {status: 200}\n")
}

func TestTagsInJSONAndJUnit(t *testing.T) {
	res := wantPass(t, "name: tagged\ntags: [smoke, logout]\nsteps:\n  - login: {}\n")
	var js, ju bytes.Buffer
	WriteJSON(&js, []Result{res}, time.Second)
	WriteJUnit(&ju, []Result{res}, time.Second)
	if !strings.Contains(js.String(), `"tags": [`) || !strings.Contains(js.String(), `"smoke",`) {
		t.Errorf("JSON:\n%s", js.String())
	}
	if !strings.Contains(ju.String(), `<property name="tags" value="smoke,logout"></property>`) {
		t.Errorf("JUnit:\n%s", ju.String())
	}
}

// ${id_token} and token.id read the id_token of a token answer (an OpenID
// provider's; tokenlab's server issues none): an API that answers one.
func TestIDTokenVariable(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/login":
			w.Write([]byte(`{"accessToken": "at-1", "refreshToken": "rt-1", "expiresIn": 900, "id_token": "id-of-alice"}`))
		case "/protected":
			fmt.Fprintf(w, `{"sawId": %q}`, r.Header.Get("X-Id-Token"))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer api.Close()
	r := NewRunner()
	r.Server = api.URL
	res := runWith(t, r, "id.yaml", `name: id
steps:
  - login: {}
    capture: {id: token.id, at: token.access}
    expect: {equal: [id, id_token]}
  - request: {path: /protected, headers: {X-Id-Token: "${id_token}"}}
    expect: {status: 200, body_contains: '"sawId": "id-of-alice"'}
`)
	if res.Status != Passed {
		t.Fatalf("%s: %s", res.Status, res.Reason)
	}
}
