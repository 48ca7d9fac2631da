package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/internal/interoptest"
)

// chromiumOpener is a client.Opener that drives a real headless browser
// (interoptest.StartBrowser: Debian's chromium, a fresh profile): it opens
// the authorize URL, fills the server's HTML login form as a person would,
// approves, and waits for the loopback's "you can close this tab" page.
func chromiumOpener(t *testing.T, browser *interoptest.Browser, user, password string) client.Opener {
	return func(ctx context.Context, authorizeURL string) error {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		steps := []interoptest.Step{{
			Fill:  map[string]string{"#username": user, "#password": password},
			Click: `button[value="approve"]`,
		}}
		_, page, err := browser.Walk(ctx, authorizeURL, steps, func(loc string) bool {
			return strings.HasPrefix(loc, "http://127.0.0.1:") && strings.Contains(loc, "/callback")
		})
		if err != nil {
			return err
		}
		if !strings.Contains(page, "You can close this tab") {
			t.Errorf("the loopback page says %q", page)
		}
		return nil
	}
}

// TestPKCEInRealBrowser: headless Chromium logs in on the mock server's
// HTML page, the client receives the code on its loopback listener, and
// gets tokens that the server accepts.
func TestPKCEInRealBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	srv := startEmbedded(t)
	grants := discoveredGrants(t, srv.URL)
	if !strings.Contains(strings.Join(grants, " "), "authorization_code") {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the mock server offers no authorization_code grant (%v)", grants)
		}
		t.Skip("this build's mock server has no authorization endpoint yet")
	}
	browser := interoptest.StartBrowser(t)
	p, _ := client.ResolveProfile("oauth2")
	p.OAuth.ClientID = "tokenlab"
	c, err := client.New(srv.URL, "", p, client.NewMemoryStore())
	if err != nil {
		t.Fatal(err)
	}
	sess, err := c.LoginPKCE(t.Context(), client.PKCEOptions{Open: chromiumOpener(t, browser, "alice", "password123"), Timeout: 2 * time.Minute})
	if err != nil {
		t.Fatalf("LoginPKCE through chromium: %v", err)
	}
	if sess.Username != "alice" || sess.RefreshToken == "" {
		t.Fatalf("session = %s with refresh token %v", sess.Username, sess.RefreshToken != "")
	}
	resp, err := c.HTTPClient().Get(srv.URL + "/protected")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/protected with the browser-won token: %s", resp.Status)
	}
	if _, err := c.Refresh(t.Context()); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("refresh after the browser login: %v", err)
	}
}
