package client

import (
	"strings"
	"testing"
)

// TestExchangesAreMaskedAtTheSource: every answer's event carries its
// request and answer, with the password and client secret hidden and
// every token shortened, in both dialects and through the Transport.
func TestExchangesAreMaskedAtTheSource(t *testing.T) {
	const secret = "s3cret-of-the-client"
	f := newFakeAPI(t, fakeConfig{Dialect: DialectOAuth2, Rotate: true, Password: "pw-that-must-not-show", ClientID: "lab", ClientSecret: secret, ClientAuth: "post"})
	p := builtinProfile(t, "oauth2")
	p.OAuth = OAuthSettings{ClientID: "lab", ClientSecret: secret, ClientAuth: "post"}
	tc := newTestClient(t, f, p, nil)
	s, err := tc.Login(t.Context(), "pw-that-must-not-show")
	if err != nil {
		t.Fatal(err)
	}
	next, err := tc.Refresh(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := tc.HTTPClient().Get(f.URL + "/protected")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var seen []*Exchange
	for _, e := range tc.events.all() {
		if e.Kind != EventResponse {
			continue
		}
		if e.Exchange == nil {
			t.Fatalf("the answer of %s %s carries no exchange", e.Method, e.URL)
		}
		seen = append(seen, e.Exchange)
	}
	all := ""
	for _, x := range seen {
		all += x.Method + " " + x.URL + "\n" + x.Authorization + "\n" + x.RequestBody + "\n" + x.ResponseBody + "\n"
	}
	for _, leak := range []string{"pw-that-must-not-show", secret, s.AccessToken, s.RefreshToken, next.AccessToken, next.RefreshToken} {
		if strings.Contains(all, leak) {
			t.Errorf("an exchange shows a secret (%.8s…):\n%s", leak, all)
		}
	}
	for _, want := range []string{"password=" + Hidden, "client_secret=" + Hidden, "grant_type=refresh_token",
		"refresh_token=" + s.RefreshToken[:8] + "…", `"access_token": "` + next.AccessToken[:8] + `…`,
		"Bearer " + next.AccessToken[:8] + "…"} {
		if !strings.Contains(all, want) {
			t.Errorf("the exchanges lack %q:\n%s", want, all)
		}
	}
}

func TestMaskAuthorization(t *testing.T) {
	for in, want := range map[string]string{
		"Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig": "Bearer eyJhbGci… (32 chars)",
		"Basic bGFiOnMzY3JldA==":                  "Basic " + Hidden + " (client id and secret)",
		"opaque":                                  Hidden,
	} {
		if got := maskAuthorization(in); got != want {
			t.Errorf("maskAuthorization(%q) = %q, want %q", in, got, want)
		}
	}
	if got := maskBody("application/json", []byte(`{"accessToken":"eyJhbGciOiJIUzI1NiJ9.x.y","newPassword":"p","user":"a"}`)); strings.Contains(got, "eyJhbGciOiJIUzI1NiJ9.x.y") ||
		!strings.Contains(got, Hidden) || !strings.Contains(got, `"user": "a"`) {
		t.Errorf("maskBody (tokenlab dialect) = %s", got)
	}
}
