package tui

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tokenlab/tokenlab/internal/testskip"
)

// TestPKCEInRealBrowserFromTheLab: a learner's browser login, with a real
// one: the lab opens headless Chromium (Debian's package) on the embedded
// server's login page, the "learner" types alice's password and allows,
// the code comes back to the lab's loopback listener, and the dashboard
// shows the new session with each step in the timeline.
func TestPKCEInRealBrowserFromTheLab(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	browser := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		testskip.Real(t, "chromium", "not on PATH; .ci/run installs Debian's chromium package")
	}
	l := newLab(t, func(o *Options) {
		o.OpenBrowser = func(ctx context.Context, authorizeURL string) error {
			opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox)
			actx, cancel := chromedp.NewExecAllocator(context.WithoutCancel(ctx), opts...)
			defer cancel()
			bctx, cancel := chromedp.NewContext(actx)
			defer cancel()
			bctx, cancel = context.WithTimeout(bctx, time.Minute)
			defer cancel()
			return chromedp.Do(bctx,
				chromedp.Navigate(authorizeURL),
				chromedp.WaitVisible(chromedp.ID("username")),
				chromedp.SendKeys(chromedp.ID("username"), "alice"),
				chromedp.SendKeys(chromedp.ID("password"), "password123"),
				chromedp.Click(chromedp.CSS(`button[value="approve"]`)),
				chromedp.WaitVisible(chromedp.ID("tokenlab-loopback")), // the lab's loopback page
			)
		}
	})
	l.key("down", "right", "enter")
	if l.m.screen != screenDashboard {
		t.Fatalf("after the browser login the screen is %d; status %q\n%s", l.m.screen, l.m.statusText(), l.view())
	}
	l.wantCards(StateValid, StateValid)
	l.wantTimeline(0, "PKCE verifier", "S256 challenge", "authorize URL", "waiting for browser", "code received", "code exchange")
	l.key("p")
	l.wantView("GET /protected 200")
}
