package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/tokenlab/tokenlab/client"
)

// chromiumPath finds Debian's chromium; the test skips without it, except
// under CI=true, where .ci/run installs it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium on PATH; .ci/run installs Debian's chromium package")
	}
	t.Skip("no chromium on PATH")
	return ""
}

// chromiumOpener is a client.Opener that drives a real headless browser:
// it opens the authorize URL, fills the server's HTML login form as a
// person would, submits it, and waits for the loopback's "you can close
// this tab" page.
func chromiumOpener(t *testing.T, execPath, user, password string) client.Opener {
	return func(ctx context.Context, authorizeURL string) error {
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(execPath), chromedp.NoSandbox)
		actx, cancel := chromedp.NewExecAllocator(context.WithoutCancel(ctx), opts...)
		defer cancel()
		bctx, cancel := chromedp.NewContext(actx)
		defer cancel()
		bctx, cancel = context.WithTimeout(bctx, time.Minute)
		defer cancel()
		err := chromedp.Do(bctx,
			chromedp.Navigate(authorizeURL),
			chromedp.WaitVisible(chromedp.ID("username")),
			chromedp.SendKeys(chromedp.ID("username"), user),
			chromedp.SendKeys(chromedp.ID("password"), password),
			chromedp.Click(chromedp.CSS(`button[value="approve"]`)),
			chromedp.WaitVisible(chromedp.ID("tokenlab-loopback")), // the loopback listener's page
		)
		if err != nil {
			return err
		}
		page, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("body")))
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
	browser := chromiumPath(t)
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
