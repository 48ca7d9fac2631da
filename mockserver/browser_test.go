package mockserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/internal/interoptest"
)

// TestPKCEInChromium: a real browser opens the authorize page, a person's
// typing fills it, and the browser follows the redirect to a loopback
// listener (a client's) with the code, which the token endpoint redeems.
// It proves the page works and that its headers (CSP, no frames) do not
// stop the redirect.
func TestPKCEInChromium(t *testing.T) {
	ts := newTestServer(t)
	got := make(chan url.Values, 1)
	callback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.URL.Query():
		default:
		}
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<!doctype html><title>done</title><p id=done>You can close this tab.</p>"))
	}))
	defer callback.Close()
	redirect := callback.URL + "/callback"

	browser := interoptest.StartBrowser(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	authURL := ts.URL + "/oauth/authorize?" + authorizeQuery(redirect).Encode()
	steps := []interoptest.Step{{
		Fill:  map[string]string{"#username": "alice", "#password": "password123"},
		Click: `button[value="approve"]`,
	}}
	_, page, err := browser.Walk(ctx, authURL, steps, func(loc string) bool { return strings.HasPrefix(loc, redirect) })
	if err != nil {
		t.Fatalf("browser: log in and approve: %v", err)
	}
	if !strings.Contains(page, "You can close this tab") {
		t.Errorf("the loopback page says %q", page)
	}
	var q url.Values
	select {
	case q = <-got:
	default:
		t.Fatal("the loopback listener got no request")
	}
	if q.Get("state") != "state-123" || q.Get("iss") != ts.cfg.Issuer || q.Get("code") == "" {
		t.Fatalf("callback query %v", q)
	}
	r := ts.form(t, "/oauth/token", "grant_type", "authorization_code", "code", q.Get("code"), "redirect_uri", redirect,
		"client_id", DefaultClientID, "code_verifier", testVerifier)
	if r.Status != 200 || r.str("refresh_token") == "" {
		t.Fatalf("exchange: %d %s", r.Status, r.Raw)
	}
}
