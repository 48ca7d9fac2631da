package mockserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's chromium; under CI=true it must be there.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but no chromium is installed (apt-get install chromium)")
	}
	t.Skip("no chromium installed (apt-get install chromium)")
	return ""
}

// TestPKCEInChromium: a real browser opens the authorize page, a person's
// typing fills it, and the browser follows the redirect to a loopback
// listener (a client's) with the code, which the token endpoint redeems.
// It proves the page works and that its headers (CSP, no frames) do not
// stop the redirect.
func TestPKCEInChromium(t *testing.T) {
	path := chromiumPath(t)
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

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.Flag("headless", "new"), chromedp.Flag("disable-gpu", true))...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()

	authURL := ts.URL + "/oauth/authorize?" + authorizeQuery(redirect).Encode()
	if err := chromedp.Do(browser,
		chromedp.Navigate(authURL),
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
	); err != nil {
		t.Fatalf("browser: open the authorize page: %v", err)
	}
	client, err := chromedp.Run(browser, chromedp.Text(chromedp.CSS(`#client`)))
	if err != nil {
		t.Fatalf("browser: read the client: %v", err)
	}
	if err := chromedp.Do(browser,
		chromedp.SendKeys(chromedp.CSS(`#username`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "password123"),
		chromedp.Click(chromedp.CSS(`button[value="approve"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#done`)),
	); err != nil {
		t.Fatalf("browser: log in and approve: %v", err)
	}
	if client != DefaultClientID {
		t.Errorf("the page names the client %q", client)
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
