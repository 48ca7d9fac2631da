package interoptest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// debianChromium is where Debian's chromium package puts the browser.
const debianChromium = "/usr/bin/chromium"

// Browser is a headless Chromium (Debian's package, never a downloaded
// build) with a fresh profile, driven through the DevTools protocol.
type Browser struct {
	ctx context.Context // the browser's tab; cancelled by t.Cleanup
}

// StartBrowser starts headless Chromium for the test and closes it when
// the test ends. It skips (fails under CI=true) when chromium is missing.
func StartBrowser(tb testing.TB) *Browser {
	tb.Helper()
	path := debianChromium
	if _, err := os.Stat(path); err != nil {
		path = RequireTool(tb, "chromium", "a real browser for the PKCE flow; Debian package chromium")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// This machine has no network but loopback: without these Chromium
		// keeps trying to reach Google's services.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(tb.TempDir()),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(tb.Logf))
	tb.Cleanup(func() {
		cancelTab()
		cancelAlloc() // kills the browser and removes nothing of ours
	})
	// The first Do starts the browser. Its context must not carry a
	// timeout (that would stop the browser with it), so bound it from
	// outside.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			tb.Fatalf("start chromium (%s): %v", path, err)
		}
	case <-time.After(startTimeout):
		tb.Fatalf("chromium (%s) did not start within %s", path, startTimeout)
	}
	return &Browser{ctx: ctx}
}

// A Step is what a person does on one page: type into fields, then click.
type Step struct {
	Fill  map[string]string // CSS selector → text typed into it
	Click string            // CSS selector of the button that submits
}

// Walk opens startURL, does each step on the page it is shown (waiting for
// the step's button to appear), and then waits until the browser's address
// satisfies arrived (e.g. the loopback redirect URI). It returns that
// address and the text of the page there. ctx bounds every wait.
func (b *Browser) Walk(ctx context.Context, startURL string, steps []Step, arrived func(url string) bool) (location, text string, err error) {
	// Derived from the tab's context (it must run once without a timeout),
	// cancelled with the caller's.
	tab, cancel := context.WithCancel(b.ctx)
	defer cancel()
	defer context.AfterFunc(ctx, cancel)()

	// where is the browser's address for an error message, also after
	// ctx has ended.
	where := func() string {
		c, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		defer cancel()
		loc, _ := chromedp.Run(c, chromedp.Location())
		return loc
	}
	if err := chromedp.Do(tab, chromedp.Navigate(startURL)); err != nil {
		return where(), "", fmt.Errorf("open %s: %w", startURL, err)
	}
	for i, step := range steps {
		actions := []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(chromedp.CSS(step.Click))}
		for selector, value := range step.Fill {
			actions = append(actions, chromedp.SendKeys(chromedp.CSS(selector), value))
		}
		actions = append(actions, chromedp.Click(chromedp.CSS(step.Click)))
		if err := chromedp.Do(tab, actions...); err != nil {
			return where(), "", fmt.Errorf("step %d (click %s) on %s: %w", i+1, step.Click, where(), err)
		}
	}
	// Poll the address: the last click navigates, possibly through
	// several redirects, to a page of another server.
	for {
		if location, err = chromedp.Run(tab, chromedp.Location()); err != nil {
			return location, "", fmt.Errorf("read the address: %w", err)
		}
		if arrived(location) {
			break
		}
		select {
		case <-tab.Done():
			return location, "", fmt.Errorf("the browser is still on %s: %w", location, context.Cause(tab))
		case <-time.After(50 * time.Millisecond):
		}
	}
	if err := chromedp.Do(tab, chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
		return location, "", fmt.Errorf("read the page at %s: %w", location, err)
	}
	text, err = chromedp.Run(tab, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		return location, "", fmt.Errorf("read the page at %s: %w", location, err)
	}
	return location, text, nil
}
