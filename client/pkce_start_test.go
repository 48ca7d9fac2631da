package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestPKCEBrowserGetsOnlyAStartURL: a browser in another process is
// given a one-time loopback URL, never the state or the challenge (its
// command line is public through ps); the start URL leads to the login
// once, and a second use is refused.
func TestPKCEBrowserGetsOnlyAStartURL(t *testing.T) {
	f := newFakeAPI(t, fakeConfig{Dialect: DialectOAuth2, ClientID: "tokenlab", Grants: allGrants})
	tc := newFlowClient(t, f, nil, nil)
	var started string
	play := browserOpener(t, nil)
	browser := func(ctx context.Context, u string) error {
		started = u
		return play(ctx, u)
	}
	var shown string
	open := func(_ context.Context, u string) error { shown = u; return nil }
	if _, err := tc.LoginPKCE(t.Context(), PKCEOptions{Browser: browser, Open: open}); err != nil {
		t.Fatalf("LoginPKCE through the start URL: %v", err)
	}
	su, err := url.Parse(started)
	if err != nil || su.Hostname() != "127.0.0.1" || !strings.HasPrefix(su.Path, startPath) || su.RawQuery != "" {
		t.Fatalf("the browser was given %q, want http://127.0.0.1:PORT/start/RANDOM and no query", started)
	}
	for _, secret := range []string{"state", "code_challenge", "redirect_uri"} {
		if strings.Contains(started, secret) {
			t.Errorf("the browser's URL %q holds %s", started, secret)
		}
	}
	if !strings.Contains(shown, "code_challenge=") || !strings.Contains(shown, "state=") {
		t.Errorf("Open was given %q, want the authorize URL itself (for this user's own terminal)", shown)
	}
}

// TestPKCEStartURLWorksOnce: the start page redirects to the authorize
// URL the first time only; a wrong token is not a login.
func TestPKCEStartURLWorksOnce(t *testing.T) {
	lb := newLoopback("the-state", "http://issuer.example", false, nil)
	lb.setAuthorizeURL("http://issuer.example/authorize?state=the-state")
	srv := httptest.NewServer(lb.handler())
	defer srv.Close()
	hc := &http.Client{CheckRedirect: noRedirects}
	get := func(path string) *http.Response {
		t.Helper()
		resp, err := hc.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := get(startPath + "wrong"); r.StatusCode != http.StatusNotFound {
		t.Errorf("a wrong start token answered %d, want 404", r.StatusCode)
	}
	first := get(startPath + lb.start)
	if first.StatusCode != http.StatusFound || first.Header.Get("Location") != "http://issuer.example/authorize?state=the-state" {
		t.Fatalf("first use answered %d to %q, want 302 to the authorize URL", first.StatusCode, first.Header.Get("Location"))
	}
	if second := get(startPath + lb.start); second.StatusCode != http.StatusGone || second.Header.Get("Location") != "" {
		t.Errorf("second use answered %d (Location %q), want 410 and no redirect", second.StatusCode, second.Header.Get("Location"))
	}
}
