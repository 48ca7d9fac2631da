package interoptest

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestBrowserSignsInToOIDCProvider: headless Chromium walks oidc-provider's
// sign-in and consent pages, and the code arrives on a loopback listener;
// the plain client then exchanges it for tokens.
func TestBrowserSignsInToOIDCProvider(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	p := StartOIDCProvider(t, OIDCProviderOptions{})
	browser := StartBrowser(t)
	lb := newLoopback(t)
	k := newPKCE(t)

	location, text, err := browser.Walk(ctx, authorizeURL(p, lb.redirectURI(), k, nil), []Step{
		{Fill: map[string]string{`input[name="login"]`: Username, `input[name="password"]`: Password}, Click: "#sign-in"},
		{Click: "#allow"},
	}, func(u string) bool { return strings.HasPrefix(u, lb.redirectURI()) })
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	if !strings.Contains(text, "You can close this tab") {
		t.Errorf("the loopback page shows %q", text)
	}
	got := lb.received()
	if len(got) != 1 || got[0].Get("state") != k.state || got[0].Get("code") == "" {
		t.Fatalf("the loopback got %v (browser at %s), want one code with the state", got, location)
	}
	tr := p.token(t, ctx, url.Values{
		"grant_type": {"authorization_code"}, "code": {got[0].Get("code")},
		"redirect_uri": {lb.redirectURI()}, "code_verifier": {k.verifier},
	})
	if tr.Status != http.StatusOK || tr.RefreshToken == "" {
		t.Fatalf("code exchange: %d %s %s", tr.Status, tr.Error, tr.ErrorDescription)
	}
	verifyAccessToken(t, ctx, p, tr.AccessToken, Username)
}
