package tui

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/tokenlab/tokenlab/client"
)

// The tests of issue 17: the TUI in a classroom. Each one checks what a
// screen says against the real embedded server (its answer or its state).

// TestTypingTheShownPassword (issue 17, point 10): the login screen shows
// the demo password and prefills it; a newcomer who types it anyway is
// let in by the real server, at launch and after L; ? shows help instead
// of typing into the password.
func TestTypingTheShownPassword(t *testing.T) {
	l := newLab(t)
	l.wantView("prefilled: type to replace")
	l.key("?")
	if l.m.screen != screenHelp {
		t.Fatalf("? on the login screen gave screen %d, want help; password field %q", l.m.screen, l.m.login.inputs[fieldPassword].Value())
	}
	l.key("esc")
	if l.m.screen != screenLogin {
		t.Fatalf("esc from help gave screen %d, want the login screen", l.m.screen)
	}
	typePassword := func(when string) {
		t.Helper()
		for _, r := range "password123" {
			l.key(string(r))
		}
		if got := l.m.login.inputs[fieldPassword].Value(); got != "password123" {
			t.Fatalf("%s: typing the shown password gave %q", when, got)
		}
		l.key("enter")
		if l.m.screen != screenDashboard {
			t.Fatalf("%s: the server refused the typed demo password: %q\n%s", when, l.m.statusText(), l.view())
		}
	}
	typePassword("at launch")
	l.key("x", "L")
	if got := l.m.login.inputs[fieldPassword].Value(); got != "password123" {
		t.Errorf("after L the password field holds %q, want the demo password prefilled as at launch", got)
	}
	typePassword("after L")
	if l.m.login.inputs[fieldPassword].Value() != "" {
		t.Errorf("the password is kept in the field after a login")
	}
}

// TestPrefilledFieldBackspaceAndQuestionMark (issue 17, point 10):
// backspace in a prefilled field clears it; once the learner typed, ? is
// a letter of the password.
func TestPrefilledFieldBackspaceAndQuestionMark(t *testing.T) {
	l := newLab(t)
	l.key("backspace")
	if got := l.m.login.inputs[fieldPassword].Value(); got != "" {
		t.Errorf("backspace in the prefilled password left %q", got)
	}
	l.key("a", "?")
	if got := l.m.login.inputs[fieldPassword].Value(); got != "a?" || l.m.screen != screenLogin {
		t.Errorf("? after typing: field %q, screen %d; want a? on the login screen", got, l.m.screen)
	}
	if strings.Contains(l.view(), "prefilled") {
		t.Errorf("a typed field is still called prefilled:\n%s", l.view())
	}
}

// postForm posts a form to the lab's server, as any client could, and
// returns the status.
func postForm(t *testing.T, u string, form url.Values) int {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestEachRouteHasItsOwnSentence (issue 17, point 1): after a browser
// (PKCE) login, x goes to /oauth/revoke; its row says the token was
// revoked, not that new tokens came, and the real server agrees: the
// refresh token in hand before x is refused afterwards. Every route the
// walk touched has a sentence of its own.
func TestEachRouteHasItsOwnSentence(t *testing.T) {
	l := newLab(t, func(o *Options) {
		o.OpenBrowser = func(ctx context.Context, u string) error { return fillAuthorizeForm(ctx, u, "approve") }
	})
	l.key("down", "right", "enter")
	if l.m.screen != screenDashboard {
		t.Fatalf("the PKCE login failed: %q", l.m.statusText())
	}
	l.key("p", "f", "p")
	refresh := l.m.dash.session.RefreshToken
	l.key("x")
	why := map[string]string{} // path -> the sentence of its 2xx answer
	for _, e := range l.m.dash.entries {
		if e.Source != "client" || !strings.HasPrefix(e.What, "POST ") && !strings.HasPrefix(e.What, "GET ") {
			continue
		}
		if f := strings.Fields(e.What); len(f) == 3 && strings.HasPrefix(f[2], "2") {
			why[f[1]] = e.Why
		}
	}
	revoke, ok := why["/oauth/revoke"]
	if !ok {
		t.Fatalf("no POST /oauth/revoke 200 row after x:\n%s", l.timelineText())
	}
	if strings.Contains(revoke, "new tokens") || !strings.Contains(revoke, "revoked") {
		t.Errorf("the revocation is narrated %q", revoke)
	}
	seen := map[string]string{}
	for path, s := range why {
		if other, dup := seen[s]; dup {
			t.Errorf("%s and %s share the sentence %q", path, other, s)
		}
		seen[s] = path
	}
	for _, path := range []string{"/oauth/token", "/protected", "/.well-known/openid-configuration"} {
		if _, ok := why[path]; !ok {
			t.Errorf("no 2xx row for %s:\n%s", path, l.timelineText())
		}
	}
	if got := postForm(t, l.e.URL+"/oauth/token", url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {refresh}, "client_id": {"tokenlab"}}); got != http.StatusBadRequest {
		t.Errorf("the row says revoked, but the server answered %d to the refresh token from before x", got)
	}
}

// TestRefreshCardSaysWhereTheTokenIs (issue 17, point 2): after a logout
// or a reuse detection the client has forgotten the session; the refresh
// card says so, and the store really holds nothing for it any more.
func TestRefreshCardSaysWhereTheTokenIs(t *testing.T) {
	for _, tc := range []struct {
		name string
		keys []string
	}{
		{"logout", []string{"x"}},
		{"reuse detected", []string{"f", "p", "a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t)
			l.login()
			l.wantView("kept in memory")
			key := l.m.dash.client.Key()
			l.key(tc.keys...)
			if _, err := l.store.Load(t.Context(), key); !errors.Is(err, client.ErrNoSession) {
				t.Fatalf("the store answers %v after %s, want no session", err, tc.name)
			}
			l.wantView("forgotten: no longer in memory")
			if strings.Contains(l.view(), "kept in memory") {
				t.Errorf("a card still says kept in memory:\n%s", l.view())
			}
		})
	}
}

// TestFamilyBannerSaysWhichTokensDied (issue 17, point 3): a revoked
// family is its refresh tokens; the banner says those died and what the
// access tokens do now, and the real server agrees: the access token in
// hand gets 200 (stateless) or 401 (denylist).
func TestFamilyBannerSaysWhichTokensDied(t *testing.T) {
	for _, tc := range []struct {
		name     string
		denylist bool
		says     string
		status   int
	}{
		{"stateless", false, "Access tokens already issued still work until their exp", http.StatusOK},
		{"denylist", true, "Its access tokens are refused too", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t)
			setDenylist(t, l.e, tc.denylist)
			l.send(tea.WindowSizeMsg{Width: 120, Height: 40})
			l.login()
			l.key("r", "g", "a")
			v := flat(l.view())
			if strings.Contains(v, "every token of this login died") {
				t.Errorf("the banner says every token died:\n%s", l.view())
			}
			for _, want := range []string{"every refresh token of this login died", tc.says} {
				if !strings.Contains(v, want) {
					t.Errorf("the banner lacks %q:\n%s", want, l.view())
				}
			}
			if got := protectedStatus(t, l.e.URL, l.m.dash.session.AccessToken); got != tc.status {
				t.Errorf("the banner says %q, but the server answered %d to the access token in hand", tc.says, got)
			}
		})
	}
}

// TestTimelineOneOrdering (issue 17, point 5): around an attack the
// timeline reads in the order things happened: the login, the replay,
// the server's detection, then the lab's words on what it means; and the
// times only go forward. The lab's tick lags the server's clock (here by
// 800ms, as a real tick lags by up to a second): the lab's rows must not
// be stamped with the stale tick, before the login.
func TestTimelineOneOrdering(t *testing.T) {
	l := newLab(t)
	if err := l.e.Clock.Advance(800 * time.Millisecond); err != nil { // no tick yet: the lab's now is stale
		t.Fatal(err)
	}
	l.login()
	l.key("r", "a")
	want := []string{"server login", "attacker replay", "attacker POST /token", "server reuse_detected",
		"server family_revoked", "lab old access token"}
	got := map[string]int{}
	for i, e := range l.m.dash.entries {
		k := e.Source + " " + e.What
		for _, w := range want {
			if _, seen := got[w]; !seen && strings.HasPrefix(k, w) {
				got[w] = i
			}
		}
		if i > 0 && e.At.Before(l.m.dash.entries[i-1].At) {
			t.Errorf("row %d (%s) is stamped %s, before the row above it (%s)", i, k,
				e.At.Format("15:04:05.000"), l.m.dash.entries[i-1].At.Format("15:04:05.000"))
		}
	}
	if a, ok := lineOf(l, "lab attacker's access"); !ok || a < got["server family_revoked"] {
		t.Errorf("the lab's word on the attacker's access token (row %d) is not after the family's revocation:\n%s", a, l.timelineText())
	}
	for i, w := range want {
		if _, ok := got[w]; !ok {
			t.Fatalf("the timeline lacks %q:\n%s", w, l.timelineText())
		}
		if i > 0 && got[w] < got[want[i-1]] {
			t.Errorf("%q (row %d) comes before %q (row %d):\n%s", w, got[w], want[i-1], got[want[i-1]], l.timelineText())
		}
	}
}

// lineOf is the first timeline row whose source and what start with w.
func lineOf(l *lab, w string) (int, bool) {
	for i, e := range l.m.dash.entries {
		if strings.HasPrefix(e.Source+" "+e.What, w) {
			return i, true
		}
	}
	return -1, false
}

// editClaim edits one claim in the inspector: its value cleared, then typed.
func (l *lab) editClaim(claim, value string) {
	l.tb.Helper()
	if !l.m.insp.editing {
		l.key("e")
	}
	names := l.m.insp.claimNames()
	for names[l.m.insp.cursor] != claim {
		l.key("down")
	}
	l.key("enter")
	for range len(l.m.insp.input.Value()) {
		l.send(keyPress("backspace"))
	}
	for _, r := range value {
		l.key(string(r))
	}
	l.key("enter")
}

// TestInspectorKeepsClaimTypes (issue 17, point 4): sub edited to 2 stays
// the JSON string "2", so the real server gets as far as the signature
// and says so; a number claim takes only a number.
func TestInspectorKeepsClaimTypes(t *testing.T) {
	l := newLab(t)
	l.login()
	l.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	l.key("i")
	l.editClaim("sub", "2")
	_, forged := l.m.insp.token()
	claims, err := decodeForTest(forged)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := claims["sub"].(string); !ok || v != "2" {
		t.Fatalf("after the edit sub is %#v (%T), want the JSON string \"2\"", claims["sub"], claims["sub"])
	}
	l.key("S")
	st := l.m.insp.status.text
	if !strings.Contains(st, "→ 401") || !strings.Contains(st, "signature") || strings.Contains(st, "malformed") {
		t.Errorf("the server's answer to the forged sub reads %q, want the 401 for its signature", st)
	}
	l.editClaim("exp", "soon")
	if st := l.m.insp.status.text; !strings.Contains(st, "number") {
		t.Errorf("a word typed into exp gave %q, want a sentence that exp takes a number", st)
	}
	_, forged = l.m.insp.token()
	claims, _ = decodeForTest(forged)
	if _, ok := claims["exp"].(json.Number); !ok {
		t.Errorf("exp became %#v", claims["exp"])
	}
}

// TestUnknownPolicyBadgeClaimsNothing (issue 17, point 6): against
// --server the lab cannot read the API's policy; after logout the access
// badge claims no state, whatever the real server then answers (401 with
// its denylist on, 200 without).
func TestUnknownPolicyBadgeClaimsNothing(t *testing.T) {
	for _, tc := range []struct {
		name     string
		denylist bool
		status   int
	}{{"denylist", true, http.StatusUnauthorized}, {"stateless", false, http.StatusOK}} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t, func(o *Options) { o.Server, o.Embedded = o.Embedded.URL, nil })
			setDenylist(t, l.e, tc.denylist)
			l.login()
			stolen := l.m.dash.session.AccessToken
			l.key("x")
			l.wantCards(StateUnknown, StateRevoked)
			l.wantView("may be accepted until exp")
			if got := protectedStatus(t, l.e.URL, stolen); got != tc.status {
				t.Fatalf("the server answered %d, want %d", got, tc.status)
			}
		})
	}
}

// resign returns tok with its header and claims changed by edit and
// signed again with the lab's HS256 access secret: a token the server
// itself could have made, so only the changed claim can be refused.
func resign(t *testing.T, tok, secret string, edit func(header, claims map[string]any)) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	var header, claims map[string]any
	for i, v := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatal(err)
		}
	}
	edit(header, claims)
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signing := enc(header) + "." + enc(claims)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// TestWhatTheAPIChecks (issue 17, point 8): the lab names what a resource
// server checks in an access token (signature, exp, nbf, iss, aud, typ)
// and that it needs no database; the real server refuses a token signed
// with the right key when any one of them is wrong, and accepts it as
// issued.
func TestWhatTheAPIChecks(t *testing.T) {
	l := newLab(t)
	l.login()
	tok, secret := l.m.dash.session.AccessToken, l.m.c.opts.Secrets.Access
	if got := protectedStatus(t, l.e.URL, resign(t, tok, secret, func(h, c map[string]any) {})); got != http.StatusOK {
		t.Fatalf("the token signed again unchanged got %d, want 200", got)
	}
	now := float64(labStart.Unix())
	for name, edit := range map[string]func(h, c map[string]any){
		"exp": func(h, c map[string]any) { c["exp"] = now - 60 },
		"nbf": func(h, c map[string]any) { c["nbf"] = now + 3600 },
		"iss": func(h, c map[string]any) { c["iss"] = "https://elsewhere.example" },
		"aud": func(h, c map[string]any) { c["aud"] = "another-api" },
		"typ": func(h, c map[string]any) { h["typ"] = "rt+jwt" },
	} {
		if got := protectedStatus(t, l.e.URL, resign(t, tok, secret, edit)); got != http.StatusUnauthorized {
			t.Errorf("with a wrong %s the server answered %d, want 401", name, got)
		}
	}
	l.m.dash.why = true
	l.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	l.key("x")
	texts := flat(l.view()) + " " + l.timelineText()
	if strings.Contains(texts, "checks only") {
		t.Errorf("the lab still says the API checks only the signature and exp:\n%s", texts)
	}
	for _, want := range []string{"signature, exp, nbf, iss, aud and typ", "no database"} {
		if strings.Count(texts, want) < 2 { // the explanation and the logout row
			t.Errorf("the explanation and the logout row do not both say %q:\n%s", want, texts)
		}
	}
}
