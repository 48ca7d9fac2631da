package scenarios

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// head is the start of most test documents: the broken step is then on
// line 6 or later.
const head = `name: broken
description: A scenario with a mistake.
steps:
  - login: {}
  - request: /protected
`

func TestParseBrokenFiles(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		line int
		msg  string // part of the message
	}{
		{"bad YAML: a tab for indentation", head + "  - refresh: {}\n\t- logout:\n", 7, "cannot start any token"},
		// Some YAML errors are found at the end of what they break; the line
		// is where that starts: the quote, the bracket, the list.
		{"bad YAML: unclosed quote", head + "  - request: \"/protected\n  - refresh:\n", 6, "unexpected end of stream"},
		{"bad YAML: unclosed flow sequence", head + "  - request: [/protected\n", 6, "did not find expected ',' or ']'"},
		{"bad YAML: unclosed flow mapping", head + "  - request: {path: /protected\n  - refresh:\n", 6, "did not find expected ',' or '}'"},
		{"bad YAML: a key inside a value", head + "  - request: path: /protected\n", 6, "mapping values are not allowed"},
		{"bad YAML: indented too little", head + "  - refresh:\n say: out of line\n", 7, "did not find expected key"},
		{"bad YAML: indented too much", head + "  - request: /me\n   say: out of line\n", 4, "did not find expected '-' indicator"},
		{"not a mapping", "- login: {}\n- refresh:\n", 1, "a scenario is a mapping"},
		{"empty file", "", 0, "the file is empty"},
		{"unknown top-level key", "name: x\ncolour: blue\nsteps:\n  - login: {}\n", 2, `unknown key "colour"`},
		{"name is a list", "name: [a, b]\nsteps:\n  - login: {}\n", 1, "cannot unmarshal"},
		{"unknown step kind", head + "  - fly: away\n", 6, `unknown step kind "fly"`},
		// Issue 18.6: mistakes that used to pass or fail for ever.
		{"unknown event in no_events", head + "  - refresh:\n    expect: {no_events: [reuse_detect]}\n", 6, `unknown server event "reuse_detect": the server writes register, login,`},
		{"unknown event in events", head + "  - refresh:\n    expect: {events: [rotated]}\n", 6, `unknown server event "rotated"`},
		{"unknown event in event counts", head + "  - refresh:\n    expect: {events: {refreshed: 1}}\n", 6, `unknown server event "refreshed"`},
		{"an unknown variable in an expected value", head + "  - request: /protected\n    expect: {body_contains: '${user}'}\n", 6, "unknown variable ${user}"},
		{"an unknown variable in a claim", head + "  - request: /protected\n    expect: {claims: {username: '${who}'}}\n", 6, "unknown variable ${who}"},
		{"a refresh before any login", "name: x\nsteps:\n  - refresh:\n", 3, "refresh needs a session, and no login comes before it"},
		{"a request of a client that never logged in", head + "  - request: /protected\n    client: laptop\n", 6, "request needs a session, and no login of client laptop comes before it"},
		{"a request header with a line break", head + "  - request: {path: /protected, headers: {X-Trace: \"a\\nb\"}}\n", 6, `header "X-Trace": a header name or value cannot hold control characters`},
		{"a logout before any login", "name: x\nsteps:\n  - logout:\n", 3, "logout needs a session"},
		{"step without a kind", head + "  - say: only words\n", 6, "the step has no kind"},
		{"step that is not a mapping", head + "  - refresh\n", 6, "a step is a mapping"},
		{"two kinds in a step", head + "  - refresh:\n    logout:\n", 7, "this one has refresh and logout"},
		{"expect given twice", head + "  - refresh:\n    expect: {status: 200}\n    expect: {status: 401}\n", 8, "expect given twice"},
		{"expect first", "name: x\nsteps:\n  - expect: {status: 200}\n  - login: {}\n", 3, "cannot come first"},
		{"missing name", "description: nameless\nsteps:\n  - login: {}\n", 1, "has no name"},
		{"missing steps", "name: x\ndescription: stepless\n", 1, "has no steps"},
		{"empty steps", "name: x\nsteps: []\n", 1, "has no steps"},
		{"unknown key in request", head + "  - request: {path: /protected, verb: GET}\n", 6, `unknown key "verb" (want method, path, body, token, headers, auth)`},
		{"unknown key in login", head + "  - login: {user: bob}\n", 6, `unknown key "user" (want username, password, flow,`},
		{"unknown key in save", head + "  - save: {token: access, name: a}\n", 6, `unknown key "name"`},
		{"unknown key in tamper", head + "  - tamper:\n      how: payload\n      clams: {sub: x}\n", 8, `unknown key "clams"`},
		{"unknown key in concurrent", head + "  - concurrent: {n: 2, burst: 3}\n", 6, `unknown key "burst" in concurrent`},
		{"unknown key in expect", head + "  - refresh:\n    expect:\n      status: 200\n      statuss: 200\n", 9, `unknown key "statuss"`},
		{"unknown key in server", "name: x\nserver:\n  refresh_ttl: 7d\n  acces_ttl: 1m\nsteps:\n  - login: {}\n", 4, `unknown key "acces_ttl"`},
		{"expect status not a number", head + "  - refresh:\n    expect: {status: ok}\n", 7, `status "ok": write a number`},
		{"refresh with arguments", head + "  - refresh: {now: true}\n", 6, `unknown key "now" (want lose_response)`},
		{"bad advance duration", head + "  - advance: soon\n", 6, `advance needs a duration such as 16m, 90s or 7d, not "soon"`},
		{"bad wait duration", head + "  - wait: later\n", 6, `wait needs a duration such as 16m, 90s or 7d, not "later"`},
		{"bad server duration", "name: x\nserver:\n  refresh_ttl: 7d\n  access_ttl: forever\nsteps:\n  - login: {}\n", 4, `invalid duration "forever"`},
		{"wait over 1m", head + "  - wait: 2m\n", 6, "at most 1m"},
		{"negative wait", head + "  - wait: -1s\n", 6, "at most 1m"},
		{"concurrent n of 0", head + "  - concurrent: {n: 0, request: /protected}\n", 6, "from 1 to 1000"},
		{"concurrent n over 1000", head + "  - concurrent:\n      n: 1001\n", 7, "from 1 to 1000"},
		{"concurrent n not a number", head + "  - concurrent: {n: lots}\n", 6, "cannot unmarshal"},
		{"tamper how unknown", head + "  - tamper: {how: rot13}\n", 6, `tamper how must be one of payload, alg-none, strip-signature, signature, not "rot13"`},
		{"save of an id token", head + "  - save: {token: id, as: x}\n", 6, "save needs token: access, refresh or code"},
		{"replay without a name", head + "  - replay:\n", 6, "replay needs the name of a saved refresh token"},
		{"request without a path", head + "  - request: {method: POST}\n", 6, "request needs a path"},
		{"unknown saved name in replay", head + "  - replay: ghost\n", 6, `unknown saved name "ghost"`},
		{"unknown saved name in request", head + "  - request: {path: /protected, token: ghost}\n", 6, `unknown saved name "ghost"`},
		{"unknown saved name in tamper", head + "  - tamper: {how: payload, token: ghost}\n", 6, `unknown saved name "ghost"`},
		{"saved name used before it is saved", head + "  - replay: later\n  - save: {token: refresh, as: later}\n", 6, `unknown saved name "later"`},
		{"requires unknown", "name: x\nrequires: [clock, moon]\nsteps:\n  - login: {}\n", 2, `unknown requirement "moon"`},
		// Version 2, and what was wrong in version 1 (each line once passed).
		{"events: [] checks nothing", head + "  - refresh:\n    expect: {events: []}\n", 7, "events: [] checks nothing"},
		{"events: {} checks nothing", head + "  - refresh:\n    expect: {events: {}}\n", 7, "events: {} checks nothing"},
		{"unknown saved name in concurrent", head + "  - concurrent: {n: 2, request: {path: /protected, token: ghost}}\n", 6, `unknown saved name "ghost"`},
		{"body_contains on login", head + "  - login: {}\n    expect: {body_contains: x}\n", 6, "login does not keep the answer's body"},
		{"body_contains on replay", head + "  - save: {token: refresh, as: r}\n  - replay: r\n    expect: {body_contains: x}\n", 7, "replay does not keep the answer's body"},
		{"body_contains on an expect after login", head + "  - login: {}\n  - expect: {body_contains: x}\n", 7, "login does not keep the answer's body"},
		{"status on save", head + "  - save: {token: access, as: a}\n    expect: {status: 200}\n", 6, "save keeps a token and checks nothing"},
		{"status on advance", head + "  - advance: 1m\n    expect: {status: 200}\n", 6, "advance gets no answer of its own"},
		{"status on a lost refresh", head + "  - refresh: {lose_response: true}\n    expect: {status: 200}\n", 6, "never sees its answer"},
		{"server lifetime of 0", "name: x\nserver:\n  access_ttl: 0s\nsteps:\n  - login: {}\n", 3, "access_ttl must be longer than 0"},
		{"negative server lifetime", "name: x\nserver:\n  session_max: -1d\nsteps:\n  - login: {}\n", 3, "session_max must be longer than 0"},
		{"requires as a word", "name: x\nrequires: clock\nsteps:\n  - login: {}\n", 2, "requires is a list such as [clock]"},
		{"status as a string", head + "  - refresh:\n    expect: {status: \"200\"}\n", 7, `status "200": write the number without quotes (200)`},
		{"status out of range", head + "  - refresh:\n    expect: {status: 2000}\n", 7, `status 2000 is not an HTTP status: write a number from 100 to 599`},
		{"status out of range", head + "  - refresh:\n    expect: {status: 1000}\n", 7, "from 100 to 599"},
		{"negative advance", head + "  - advance: -5m\n", 6, "advance moves the clock forward; -5m is negative"},
		{"unknown variable", head + "  - request: /orders/${order}\n", 6, "unknown variable ${order}"},
		{"variable captured later", head + "  - request: /orders/${order}\n  - request: /orders\n    capture: {order: body.id}\n", 6, "unknown variable ${order}"},
		{"variable in a password", head + "  - login: {password: \"${pw}\"}\n", 6, "unknown variable ${pw}"},
		{"capture from nowhere", head + "  - request: /x\n    capture: {a: status}\n", 7, `capture "status": write body.FIELD`},
		{"capture on advance", head + "  - advance: 1m\n    capture: {a: body.id}\n", 6, "capture needs a step that gets an answer"},
		{"fault on an unknown route", head + "  - fault: {route: orders, status: 503}\n", 6, "fault route must be one of token, login, protected, logout"},
		{"fault without status or delay", head + "  - fault: {route: token}\n", 6, "needs a status"},
		{"fault status 200", head + "  - fault: {route: token, status: 200}\n", 6, "from 400 to 599"},
		{"repeat zero times", head + "  - repeat: {times: 0, steps: [{refresh: }]}\n", 6, "repeat times is a whole number from 1 to 1000"},
		{"repeat without steps", head + "  - repeat: {times: 2}\n", 6, "repeat needs steps"},
		{"repeat too big", head + "  - repeat: {times: 1000, steps: [{repeat: {times: 1000, steps: [{refresh: }]}}]}\n", 6, "more than 10000 steps"},
		{"auth other than none", head + "  - request: {path: /x, auth: basic}\n", 6, "auth: the only value is none"},
		{"tags as a word", "name: x\ntags: smoke\nsteps:\n  - login: {}\n", 2, "tags is a list"},
		{"client without a name", head + "  - refresh:\n    client: \"\"\n", 7, "client is a name"},
		{"restart with arguments", head + "  - restart: {hard: true}\n", 6, "restart takes no arguments"},
		// Version 3 (format_v3.go): each new key's misuse.
		{"equal with an unknown variable", head + "  - refresh:\n    expect: {equal: [a, b]}\n", 6, `equal/not_equal: unknown variable "a"`},
		{"not_equal with a later capture", head + "  - refresh:\n    expect: {not_equal: [access_token, later]}\n  - refresh:\n    capture: {later: token.refresh}\n", 6, `unknown variable "later"`},
		{"token capture of an unknown token", head + "  - refresh:\n    capture: {t: token.secret}\n", 7, "a token capture is token.access, token.refresh or token.id"},
		{"save from and token", head + "  - save: {from: x, token: access, as: y}\n", 6, "save takes token: or from:, not both"},
		{"save from an unknown variable", head + "  - save: {from: ghost, as: y}\n", 6, `save from: unknown variable "ghost"`},
		{"replay of an unknown variable", head + "  - replay: ${ghost}\n", 6, "unknown variable ${ghost}"},
		{"error mapping without code", head + "  - refresh:\n    expect: {error: {optional: true}}\n", 7, "error: {…} needs code"},
		{"error mapping with an unknown key", head + "  - refresh:\n    expect: {error: {code: x, sometimes: true}}\n", 7, `unknown key "sometimes" in error (want code, optional)`},
		{"error optional not a bool", head + "  - refresh:\n    expect: {error: {code: x, optional: maybe}}\n", 7, "optional is true or false"},
		{"range max below min", head + "  - refresh:\n    expect: {refreshes: {min: 2, max: 1}}\n", 7, "max 1 is less than min 2"},
		{"range with an unknown key", head + "  - refresh:\n    expect: {rotations: {most: 2}}\n", 7, `unknown key "most" in a count (want min, max)`},
		{"negative count", head + "  - refresh:\n    expect: {refreshes: -1}\n", 7, "a count is a whole number from 0"},
		{"empty range", head + "  - refresh:\n    expect: {refreshes: {}}\n", 7, "{} checks nothing"},
		{"event range not a number", head + "  - refresh:\n    expect: {events: {refresh: {min: x}}}\n", 7, "a whole number or a range"},
		{"negative event count", head + "  - refresh:\n    expect: {events: {refresh: -1}}\n", 7, "events: refresh cannot happen -1 times"},
		{"statuses on a request", head + "  - request: /protected\n    expect: {statuses: {200: 1}}\n", 6, "statuses counts the answers of a concurrent step; request gets one answer"},
		{"statuses with a bad status", head + "  - concurrent: {n: 2}\n    expect: {statuses: {ok: 2}}\n", 7, `status "ok": write a number`},
		{"statuses as a list", head + "  - concurrent: {n: 2}\n    expect: {statuses: [200]}\n", 7, "statuses is a map of status to count"},
		{"xfail without a reason", "name: x\nxfail: {profile: seed-json}\nsteps:\n  - login: {}\n", 2, "xfail needs a reason"},
		{"xfail without a target", "name: x\nxfail: {reason: flaky}\nsteps:\n  - login: {}\n", 2, "xfail needs a target: profile, dialect or server"},
		{"xfail with an unknown dialect", "name: x\nxfail: [{dialect: xml, reason: r}]\nsteps:\n  - login: {}\n", 2, `xfail dialect is json or oauth2, not "xml"`},
		{"xfail with an unknown server", "name: x\nxfail: {server: staging, reason: r}\nsteps:\n  - login: {}\n", 2, `xfail server is embedded or external, not "staging"`},
		{"xfail with an unknown key", "name: x\nxfail:\n  profile: seed-json\n  reasons: r\nsteps:\n  - login: {}\n", 4, `unknown key "reasons" (want profile, dialect, server, reason)`},
		{"xfail: []", "name: x\nxfail: []\nsteps:\n  - login: {}\n", 2, "xfail: [] names no target"},
		{"skew as a word", "name: x\nskew: 2m\nsteps:\n  - login: {}\n", 2, "skew is {client: +2m}"},
		{"skew of the server", "name: x\nskew: {server: 2m}\nsteps:\n  - login: {}\n", 2, "skew is {client: +2m}"},
		{"skew not a duration", "name: x\nskew:\n  client: soon\nsteps:\n  - login: {}\n", 3, `skew client needs a signed duration such as +2m or -30s, not "soon"`},
		{"settings other than where_possible", "name: x\nsettings: always\nsteps:\n  - login: {}\n", 2, `settings: the only value is where_possible`},
		{"resign with an unknown alg", head + "  - tamper: {resign: {alg: none}}\n", 6, `resign alg must be one of HS256, RS256, ES256, EdDSA, not "none"`},
		{"resign HS256 with a key file", head + "  - tamper: {resign: {alg: HS256, key_file: k.pem}}\n", 6, "HS256 takes secret_file or secret, not key_file"},
		{"resign RS256 with a secret", head + "  - tamper: {resign: {alg: RS256, secret: s}}\n", 6, "RS256 takes key_file (a PEM private key), not a secret"},
		{"resign with a missing secret file", head + "  - tamper:\n      resign: {alg: HS256, secret_file: no-such.secret}\n", 7, "resign: secret_file: open no-such.secret"},
		{"resign with a key file that is not PEM", head + "  - tamper: {resign: {alg: RS256, key_file: format.go}}\n", 6, "no PEM block"},
		{"resign with how", head + "  - tamper: {how: strip-signature, resign: {alg: HS256}}\n", 6, "resign signs the token again, so it cannot go with how: strip-signature"},
		{"resign with an unknown key", head + "  - tamper: {resign: {alg: HS256, secret_env: X}}\n", 6, `unknown key "secret_env"`},
		{"tamper nbf not a duration", head + "  - tamper: {how: payload, nbf: soon}\n", 6, `a time relative to the clock, such as +5m or -1h, not "soon"`},
		{"tamper iat with how: signature", head + "  - tamper: {how: signature, iat: +5m}\n", 6, "nbf, iat and exp edit the claims, which how: signature keeps"},
		{"cookie cleared and absent", head + "  - logout:\n    expect: {cookies: {RefreshToken: {cleared: true, present: false}}}\n", 6, "cleared checks a Set-Cookie that is there"},
		{"cookie cleared not a bool", head + "  - logout:\n    expect: {cookies: {RefreshToken: {cleared: maybe}}}\n", 7, "cannot unmarshal"},
		{"timeout of 0", head + "  - refresh:\n    timeout: 0s\n", 7, "timeout is a duration from 1ms to 10m"},
		{"timeout not a duration", head + "  - refresh:\n    timeout: soon\n", 7, `timeout is a duration from 1ms to 10m, such as 2s, not "soon"`},
		{"timeout on repeat", head + "  - repeat: {times: 2, steps: [{refresh: }]}\n    timeout: 1s\n", 6, "repeat takes no expect, capture or timeout of its own"},
		{"equal with one variable", head + "  - refresh:\n    expect: {equal: [access_token]}\n", 6, "equal and not_equal compare two or more variables"},
		{"where_possible without server settings", "name: x\nsettings: where_possible\nsteps:\n  - login: {}\n", 2, "settings: where_possible applies server: settings, and this scenario has none"},
		{"misspelt cookie check", head + "  - logout:\n    expect:\n      cookies:\n        RefreshToken: {clered: true}\n", 9, `unknown key "clered" in a cookie check (want present, cleared, httponly, secure, samesite, path)`},
		{"timeout on advance", head + "  - advance: 1m\n    timeout: 2s\n", 6, "timeout bounds a step that waits for an answer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := Parse("broken.yaml", []byte(tc.src))
			if err == nil {
				t.Fatalf("parsed %+v, want an error", sc)
			}
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error %T %v, want a *LoadError", err, err)
			}
			if le.File != "broken.yaml" || le.Line != tc.line || !strings.Contains(le.Msg, tc.msg) {
				t.Errorf("error = %s:%d: %s\nwant      broken.yaml:%d: …%s…", le.File, le.Line, le.Msg, tc.line, tc.msg)
			}
			want := "broken.yaml:" + strconv.Itoa(tc.line) + ": "
			if tc.line == 0 {
				want = "broken.yaml: "
			}
			if s := err.Error(); !strings.HasPrefix(s, want) || strings.Count(s, "broken.yaml") != 1 || strings.Contains(s, "\n") {
				t.Errorf("Error() = %q, want one line starting %q", s, want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestParseEveryStepKind(t *testing.T) {
	const src = `name: every-kind
description: |
  Every step kind, long and short.
server:
  access_ttl: 1m
  refresh_ttl: 1d
  session_max: 30d
  reuse_grace: 2s
  rotation: true
  reuse_detection: false
  access_denylist: true
requires: [admin]
steps:
  - login:
    say: The demo user.
  - login: {username: bob, password: secret}
  - request: /protected
  - request: POST /orders
  - request: {method: put, path: /me, body: '{"a":1}'}
  - save: {token: access, as: at}
  - save: {token: refresh, as: rt}
  - request: {path: /protected, token: at}
  - refresh:
  - refresh: {}
  - advance: 16m
  - advance: 7d
  - wait: 10ms
  - replay: rt
  - tamper: {how: payload, claims: {username: mallory}}
  - tamper: {how: alg-none, token: at, path: /me, as: forged}
  - request: {path: /protected, token: forged}
  - concurrent: {n: 20}
  - concurrent: {n: 3, request: POST /orders}
  - concurrent:
      n: 2
      request: {method: GET, path: /me}
  - logout:
  - expect:
      status: 401
      error: token_revoked
      refreshes: 1
      rotations: 0
      token_changed: true
      refresh_changed: false
      login_required: true
      claims: {username: alice, aud: tokenlab}
      events: [logout, family_revoked]
  - request: /protected
    expect: {status: 200}
`
	sc, err := Parse("every.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Name != "every-kind" || sc.File != "every.yaml" || sc.Description != "Every step kind, long and short.\n" {
		t.Errorf("name %q, file %q, description %q", sc.Name, sc.File, sc.Description)
	}
	d := func(s time.Duration) *Duration { v := Duration(s); return &v }
	wantServer := ServerSettings{AccessTTL: d(time.Minute), RefreshTTL: d(24 * time.Hour), SessionMax: d(30 * 24 * time.Hour),
		ReuseGrace: d(2 * time.Second), Rotation: ptr(true), ReuseDetection: ptr(false), AccessDenylist: ptr(true)}
	if !reflect.DeepEqual(sc.Server, wantServer) {
		t.Errorf("server = %+v", sc.Server)
	}
	if !reflect.DeepEqual(sc.Requires, []string{RequiresAdmin, RequiresClock}) {
		t.Errorf("requires = %v, want admin (given) and clock (from advance)", sc.Requires)
	}

	get := RequestArgs{Method: "GET", Path: "/protected"}
	want := []Step{
		{Kind: KindLogin, Line: 14, Say: "The demo user."},
		{Kind: KindLogin, Line: 16, Login: LoginArgs{Username: "bob", Password: ptr("secret")}},
		{Kind: KindRequest, Line: 17, Request: get},
		{Kind: KindRequest, Line: 18, Request: RequestArgs{Method: "POST", Path: "/orders"}},
		{Kind: KindRequest, Line: 19, Request: RequestArgs{Method: "PUT", Path: "/me", Body: `{"a":1}`}},
		{Kind: KindSave, Line: 20, Save: SaveArgs{Token: "access", As: "at"}},
		{Kind: KindSave, Line: 21, Save: SaveArgs{Token: "refresh", As: "rt"}},
		{Kind: KindRequest, Line: 22, Request: RequestArgs{Method: "GET", Path: "/protected", Token: "at"}},
		{Kind: KindRefresh, Line: 23},
		{Kind: KindRefresh, Line: 24},
		{Kind: KindAdvance, Line: 25, Duration: 16 * time.Minute},
		{Kind: KindAdvance, Line: 26, Duration: 7 * 24 * time.Hour},
		{Kind: KindWait, Line: 27, Duration: 10 * time.Millisecond},
		{Kind: KindReplay, Line: 28, Replay: "rt"},
		{Kind: KindTamper, Line: 29, Tamper: TamperArgs{Token: "access", How: "payload", Claims: map[string]any{"username": "mallory"}}},
		{Kind: KindTamper, Line: 30, Tamper: TamperArgs{Token: "at", How: "alg-none", Path: "/me", As: "forged"}},
		{Kind: KindRequest, Line: 31, Request: RequestArgs{Method: "GET", Path: "/protected", Token: "forged"}},
		{Kind: KindConcurrent, Line: 32, Concurrent: ConcurrentArgs{N: 20, Request: get}},
		{Kind: KindConcurrent, Line: 33, Concurrent: ConcurrentArgs{N: 3, Request: RequestArgs{Method: "POST", Path: "/orders"}}},
		{Kind: KindConcurrent, Line: 34, Concurrent: ConcurrentArgs{N: 2, Request: RequestArgs{Method: "GET", Path: "/me"}}},
		{Kind: KindLogout, Line: 37},
		{Kind: KindExpect, Line: 38, Expect: &Expect{Status: &StatusSet{Codes: []int{401}}, Error: StringList{"token_revoked"}, Refreshes: ptr(exactRange(1)), Rotations: ptr(exactRange(0)),
			TokenChanged: ptr(true), RefreshChanged: ptr(false), LoginRequired: ptr(true),
			Claims: map[string]any{"username": "alice", "aud": "tokenlab"}, Events: &EventCheck{Kinds: []string{"logout", "family_revoked"}}}},
		{Kind: KindRequest, Line: 48, Request: get, Expect: &Expect{Status: &StatusSet{Codes: []int{200}}}},
	}
	for i := range want {
		if want[i].Kind != KindExpect { // a lone expect checks the client of the step before
			want[i].Client = DefaultClient
		}
	}
	if len(sc.Steps) != len(want) {
		t.Fatalf("%d steps, want %d", len(sc.Steps), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(sc.Steps[i], want[i]) {
			t.Errorf("step %d:\n got %+v\nwant %+v", i+1, sc.Steps[i], want[i])
		}
	}
}

func TestParseRequirements(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"none", "name: x\nsteps:\n  - login: {}\n  - request: /protected\n", nil},
		{"advance needs the clock", "name: x\nsteps:\n  - login: {}\n  - advance: 1m\n", []string{RequiresClock}},
		{"server settings need the admin API", "name: x\nserver: {rotation: false}\nsteps:\n  - login: {}\n", []string{RequiresAdmin}},
		{"expected events degrade to a skipped check: no requirement", "name: x\nsteps:\n  - login: {}\n    expect: {events: [login]}\n", nil},
		{"a fault needs the admin API", "name: x\nsteps:\n  - login: {}\n  - fault: {route: token, status: 503}\n", []string{RequiresAdmin}},
		{"given and derived, once each", "name: x\nrequires: [clock]\nsteps:\n  - login: {}\n  - advance: 1m\n", []string{RequiresClock}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := Parse("r.yaml", []byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(sc.Requires, tc.want) {
				t.Errorf("requires = %v, want %v", sc.Requires, tc.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	if sc, err := Load("reuse-detection"); err != nil || sc.Name != "reuse-detection" || sc.File != "builtin/reuse-detection.yaml" {
		t.Errorf("Load(reuse-detection) = %v, %v", sc, err)
	}
	if _, err := Load("no-such-scenario"); err == nil || !strings.Contains(err.Error(), "tokenlab scenarios") {
		t.Errorf("Load of an unknown name: %v, want a hint to list the scenarios", err)
	}
	var le *LoadError
	missing := t.TempDir() + "/missing.yaml"
	if _, err := Load(missing); !errors.As(err, &le) || le.File != missing || le.Line != 0 {
		t.Errorf("Load of a missing file: %v, want a LoadError naming it", err)
	}
	for _, name := range BuiltinNames {
		sc, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		if sc.Name != name || sc.Summary() == "" || !strings.HasSuffix(sc.Summary(), ".") || strings.Contains(sc.Summary(), "\n") {
			t.Errorf("%s: name %q, summary %q", name, sc.Name, sc.Summary())
		}
	}
}
