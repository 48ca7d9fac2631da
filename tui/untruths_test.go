package tui

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/scenarios"
)

// submitDevicePage posts a user code on the server's /device page, as a
// person in a browser would, and returns the page the server answered.
func submitDevicePage(t *testing.T, server, userCode, action string) string {
	t.Helper()
	form := url.Values{"user_code": {userCode}, "username": {"alice"}, "password": {"password123"}, "action": {action}}
	resp, err := http.PostForm(server+"/device", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return string(body)
}

// deviceUserCode asks the server for a device code, as a device would.
func deviceUserCode(t *testing.T, server string) string {
	t.Helper()
	resp, err := http.PostForm(server+"/oauth/device_authorization", url.Values{"client_id": {"tokenlab"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`"user_code":\s*"([A-Z]{4}-[A-Z]{4})"`).FindStringSubmatch(string(body))
	if m == nil {
		t.Fatalf("no user code in %d %s", resp.StatusCode, body)
	}
	return m[1]
}

// TestFlowStepMarks (issue 17, point 9): the flow screen marks with ✓
// only the steps that succeeded: a wait is …, a refusal ✗; and a denied
// browser login does not tell you to open its URL, whose loopback the
// real client has closed.
func TestFlowStepMarks(t *testing.T) {
	var opened atomic.Value
	l := newLab(t, func(o *Options) {
		o.OpenBrowser = func(ctx context.Context, u string) error {
			opened.Store(u)
			return fillAuthorizeForm(ctx, u, "deny")
		}
	})
	l.key("down", "right", "enter")
	v := l.view()
	for _, bad := range []string{"✓ browser refused", "✓ waiting for browser", "open this URL", "Open this URL"} {
		if strings.Contains(v, bad) {
			t.Errorf("the denied login's screen shows %q:\n%s", bad, v)
		}
	}
	l.wantView("✗ browser refused", "✓ PKCE verifier")
	u, _ := url.Parse(opened.Load().(string))
	redirect, _ := url.Parse(u.Query().Get("redirect_uri"))
	if c, err := net.DialTimeout("tcp", redirect.Host, 2*time.Second); err == nil {
		c.Close()
		t.Errorf("the loopback %s still listens after the denial", redirect.Host)
	}

	d := newLab(t)
	deviceInProgress(d)
	if strings.Contains(d.view(), "✓ poll: pending") {
		t.Errorf("a pending poll is marked as done:\n%s", d.view())
	}
	d.wantView("… poll: pending")
}

// TestDevicePageTakesASpacedCode (issue 17, point 9): the code typed
// lower-case with a space instead of the dash is the same code to the
// real server.
func TestDevicePageTakesASpacedCode(t *testing.T) {
	l := newLab(t)
	code := deviceUserCode(t, l.e.URL)
	typed := strings.ToLower(strings.Replace(code, "-", " ", 1))
	if page := submitDevicePage(t, l.e.URL, typed, "approve"); !strings.Contains(page, `data-result="approved"`) {
		t.Errorf("the /device page refused %q (for %s):\n%s", typed, code, page)
	}
}

// TestDevicePageSaysWhatIsKnown (issue 17, point 7): after the device
// stopped polling (esc in the lab), approving its code on /device does
// not claim the device is logged in; the real server's page says it was
// approved and that the device may no longer be waiting.
func TestDevicePageSaysWhatIsKnown(t *testing.T) {
	l := newLab(t)
	code := deviceUserCode(t, l.e.URL) // a device that asks once and never polls
	page := submitDevicePage(t, l.e.URL, code, "approve")
	if strings.Contains(page, "is now logged in") {
		t.Errorf("the page claims the device is logged in:\n%s", page)
	}
	for _, want := range []string{"Approved", "no longer be waiting"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q:\n%s", want, page)
		}
	}
}

// TestPlayerLogoutStepReadsAsPassed (issue 17, point 9): the logout
// scenario's passing logout step does not read as a failure ("login
// required").
func TestPlayerLogoutStepReadsAsPassed(t *testing.T) {
	l := newLab(t)
	l.login()
	l.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	l.key("s")
	for range slices.Index(scenarios.BuiltinNames, "logout") {
		l.key("down")
	}
	l.wantView("› logout")
	l.key("enter", "v", "n", "n", "n", "n") // the text view
	l.wantView("✓  4 log out → 204")
	if strings.Contains(l.view(), "(login required)") {
		t.Errorf("the passing logout step reads as a failure:\n%s", l.view())
	}
}

// TestProactiveRefreshSaysTimeLeft (issue 17, point 9): a refresh
// before exp says how long the access token had left, in words, not the
// client's margin as a raw float.
func TestProactiveRefreshSaysTimeLeft(t *testing.T) {
	var l *lab
	l = newLab(t, func(o *Options) {
		o.ClientOptions = append(o.ClientOptions, client.WithClock(o.Clock)) // the client on the lab's clock
	})
	l.login()
	if err := l.e.Clock.Advance(15*time.Minute - 10*time.Second); err != nil {
		t.Fatal(err)
	}
	l.key("p")
	var why string
	for _, e := range l.m.dash.entries {
		if e.Source == "client" && e.What == "refresh" {
			why = e.Why
		}
	}
	if want := "Refreshing because the access token expires in 10s: the client renews it 30s before exp."; why != want {
		t.Errorf("the refresh reads %q, want %q", why, want)
	}
}
