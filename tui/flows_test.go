package tui

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/tokenlab/tokenlab/client"
)

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// fillAuthorizeForm plays the browser on the embedded server's login
// page: it fetches the authorize URL, posts the form with alice's
// password, and follows the redirect to the client's loopback listener.
func fillAuthorizeForm(ctx context.Context, authorizeURL, action string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authorizeURL, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	page, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET authorize answered %d: %s", resp.StatusCode, page)
	}
	form := url.Values{"username": {"alice"}, "password": {"password123"}, "action": {action}}
	for _, m := range hiddenInput.FindAllStringSubmatch(string(page), -1) {
		form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	u := resp.Request.URL // after a start URL's redirect, the authorize page
	post, err := http.NewRequestWithContext(ctx, http.MethodPost, u.Scheme+"://"+u.Host+"/oauth/authorize", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = http.DefaultClient.Do(post) // follows the 302 to the loopback, as a browser would
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// approveDevice posts the user code on the server's /device page.
func approveDevice(ctx context.Context, server, userCode, action string) error {
	form := url.Values{"user_code": {userCode}, "username": {"alice"}, "password": {"password123"}, "action": {action}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, server+"/device", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `data-result="`+map[string]string{"approve": "approved", "deny": "denied"}[action]) {
		return fmt.Errorf("the /device page did not %s: %d %s", action, resp.StatusCode, body)
	}
	return nil
}

// TestFlowsOffered: against the embedded server the login screen offers
// the password, the browser (PKCE) and the device flows, read from its
// discovery document; the flow row is one key below the password.
func TestFlowsOffered(t *testing.T) {
	l := newLab(t)
	if got := strings.Join(l.m.login.flows, ","); got != "password,pkce,device" {
		t.Fatalf("flows offered = %s, want password,pkce,device", got)
	}
	l.wantView("flow      [password] browser (PKCE)  device code", "(↓ to choose)")
	l.key("down")
	if l.m.login.active != flowRow {
		t.Fatalf("↓ from the password went to row %d, want the flow row", l.m.login.active)
	}
	l.wantView("→ choose flow")
	l.key("right")
	l.wantView("[browser (PKCE)]")
	if strings.Contains(l.view(), "› password") || strings.Contains(l.view(), "  user ") {
		t.Errorf("the browser flow still asks for a user and password here:\n%s", l.view())
	}
	l.key("right", "right")
	l.wantView("[password]", "  user", "password")
}

// TestPKCELoginInTheLab: choosing the browser flow and pressing enter
// runs the whole PKCE login against the real embedded server; the
// "browser" fills the server's HTML form over HTTP. The timeline shows
// each step with its why, in order, and the server's side of it.
func TestPKCELoginInTheLab(t *testing.T) {
	var opened atomic.Value
	l := newLab(t, func(o *Options) {
		o.OpenBrowser = func(ctx context.Context, u string) error {
			opened.Store(u)
			return fillAuthorizeForm(ctx, u, "approve")
		}
	})
	l.key("down", "right", "enter")
	if l.m.screen != screenDashboard {
		t.Fatalf("after the PKCE login the screen is %d; status %q\n%s", l.m.screen, l.m.statusText(), l.view())
	}
	u, _ := opened.Load().(string)
	if !strings.Contains(u, "/start/") || strings.Contains(u, "state") || strings.Contains(u, "code_challenge") {
		t.Errorf("the browser was opened on %q, want the one-time start URL without state or challenge", u)
	}
	l.wantCards(StateValid, StateValid)
	if l.m.dash.session.Username != "alice" || l.m.c.opts.Profile.Name != "oauth2" {
		t.Errorf("logged in as %q with profile %q, want alice with oauth2", l.m.dash.session.Username, l.m.c.opts.Profile.Name)
	}
	l.wantTimeline(0, "PKCE verifier", "S256 challenge", "authorize URL", "waiting for browser", "code received", "code exchange")
	l.wantTimeline(0, "code_issued", "code_redeemed")
	for _, e := range l.m.dash.entries {
		if e.Source == "client" && e.Why == "" {
			t.Errorf("timeline entry %q has no why-line", e.What)
		}
	}
	// The session works like a password login's: call, expire, refresh.
	l.key("p", "f", "p")
	l.wantCards(StateValid, StateRotated)
}

// TestPKCELoginDenied: a denial in the browser ends the flow with a
// sentence; the flow's screen stays with its steps, and esc-free keys
// lead back to the form.
func TestPKCELoginDenied(t *testing.T) {
	l := newLab(t, func(o *Options) {
		o.OpenBrowser = func(ctx context.Context, u string) error { return fillAuthorizeForm(ctx, u, "deny") }
	})
	l.key("down", "right", "enter")
	if l.m.screen != screenLogin {
		t.Fatalf("a denied login left the login screen")
	}
	l.wantView("Logging in through the browser", "✓ PKCE verifier", "enter try again")
	if s := l.m.statusText(); !strings.Contains(s, "denied") && !strings.Contains(s, "access_denied") {
		t.Errorf("status %q does not say the login was denied", s)
	}
	l.key("tab")
	l.wantView("[browser (PKCE)]")
}

// TestDeviceLoginInTheLab: the device flow shows the user code large with
// its URL and countdown; each poll is in the timeline (slow_down when the
// lab polls too soon, pending before the approval), then the approval.
// The sleep between polls moves the frozen server clock instead of
// waiting; the "user" approves the code on /device after two polls.
func TestDeviceLoginInTheLab(t *testing.T) {
	var l *lab
	sleeps := 0
	l = newLab(t, func(o *Options) {
		o.DeviceSleep = func(ctx context.Context, d time.Duration) error {
			sleeps++
			if sleeps == 2 {
				return nil // too soon after the first poll: the server answers slow_down
			}
			if err := l.e.Clock.Advance(d); err != nil {
				return err
			}
			if sleeps == 3 {
				msg := <-l.m.c.flow // the code the screen shows; put back for the screen
				l.m.c.flow <- msg
				code := msg.(deviceCodeMsg).code
				return approveDevice(ctx, l.e.URL, code.UserCode, "approve")
			}
			return nil
		}
	})
	l.key("down", "right", "right", "enter")
	if l.m.screen != screenDashboard {
		t.Fatalf("after the device login the screen is %d; status %q\n%s", l.m.screen, l.m.statusText(), l.view())
	}
	l.wantCards(StateValid, StateValid)
	l.wantTimeline(0, "device code", "poll: pending", "poll: slow_down", "device approved")
	l.wantTimeline(0, "device_code_issued", "device_slow_down", "device_approved")
}

// TestDeviceScreen: while the device flow waits, the screen shows the
// code large, where to enter it, the time left and the polls so far; the
// countdown follows the lab's clock; esc cancels the flow.
func TestDeviceScreen(t *testing.T) {
	l := newLab(t)
	deviceInProgress(l)
	l.wantView("Logging in with a device code", "████", "open http://127.0.0.1:", "/device", "code BCDF-GHJK",
		"expires in 10m", "polls every 5s", "1 poll so far", "Waiting for approval: this screen goes on by itself.", "esc cancel")
	l.send(tickMsg{now: labStart.Add(4 * time.Minute)})
	l.wantView("expires in 6m")
	cancelled := false
	l.m.login.cancel = func() { cancelled = true }
	l.key("esc")
	if !cancelled {
		t.Error("esc did not cancel the flow's context")
	}
	l.send(loginDoneMsg{err: context.Canceled})
	l.wantView("› flow", "Cancelled.")
}

// pkceInProgress and deviceInProgress bring the login screen to a flow
// waiting on the user, with the client's real events up to that point
// (from a client run against the lab's server) fed in as the flow would.
func pkceInProgress(l *lab) {
	l.tb.Helper()
	events, authorize := recordFlow(l, client.FlowPKCE)
	l.key("down", "right")
	l.m.login.run, l.m.login.busy = flowRun{flow: client.FlowPKCE}, "waiting for the browser"
	for _, e := range events {
		l.send(clientEventMsg(labEvent{Event: e}))
	}
	l.send(authorizeURLMsg{url: authorize, why: "no browser is opened here (--no-browser)"})
}

func deviceInProgress(l *lab) {
	l.tb.Helper()
	events, _ := recordFlow(l, client.FlowDevice)
	l.key("down", "right", "right")
	l.m.login.run, l.m.login.busy = flowRun{flow: client.FlowDevice}, "waiting for approval"
	for _, e := range events {
		l.send(clientEventMsg(labEvent{Event: e}))
	}
	l.send(deviceCodeMsg{code: client.DeviceCode{UserCode: "BCDF-GHJK", VerificationURI: l.e.URL + "/device",
		ExpiresIn: 10 * time.Minute, Interval: 5 * time.Second}})
}

// recordFlow runs a flow's first steps with a client of its own against
// the lab's server and returns its events up to the wait (and, for PKCE,
// the authorize URL); the flow is then cancelled.
func recordFlow(l *lab, flow string) ([]client.Event, string) {
	l.tb.Helper()
	events, authorize := recordFlowAll(l, flow)
	var kept []client.Event
	for _, e := range events {
		if e.Kind != client.EventRequest && e.Kind != client.EventResponse {
			kept = append(kept, e)
		}
	}
	return kept, authorize
}

// recordFlowAll is recordFlow with the requests and answers kept.
func recordFlowAll(l *lab, flow string) ([]client.Event, string) {
	l.tb.Helper()
	var events []client.Event
	var authorize string
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := client.New(l.e.URL, "", flowProfile(client.Profile{}, true, flow), client.NewMemoryStore(),
		client.WithEvents(func(e client.Event) {
			e.At = labStart
			events = append(events, e)
		}))
	if err != nil {
		l.tb.Fatal(err)
	}
	switch flow {
	case client.FlowPKCE:
		c.LoginPKCE(ctx, client.PKCEOptions{Open: func(_ context.Context, u string) error {
			authorize = u
			go cancel() // stop waiting for a browser that never comes
			return nil
		}})
	case client.FlowDevice:
		c.LoginDevice(ctx, client.DeviceOptions{Show: func(context.Context, client.DeviceCode) error { return nil },
			Sleep: func(ctx context.Context, d time.Duration) error {
				if err := l.e.Clock.Advance(d); err != nil {
					return err
				}
				for _, e := range events {
					if e.Kind == client.EventDevicePoll {
						cancel()
						return ctx.Err()
					}
				}
				return nil
			}})
		l.e.Clock.Set(labStart)
	}
	return events, authorize
}

var _ = tea.KeyPressMsg{}

// TestWrongPasswordThenTyping: after a wrong password the next key edits
// the field again (a failed password login is not a failed flow, whose
// screen the next key would only close).
func TestWrongPasswordThenTyping(t *testing.T) {
	l := newLab(t)
	l.key("w", "r", "o", "n", "g", "enter") // typed over the prefilled password
	l.wantView("wrong username or password")
	l.key("x")
	if got := l.m.login.inputs[fieldPassword].Value(); got != "wrongx" {
		t.Errorf("after a wrong password, typing x gave %q, want wrongx", got)
	}
}

// TestFlowsAgainstAnotherServer: with --server and the oauth2 profile the
// login screen reads the flows from the server's discovery document, the
// browser login works, and the inspector says it cannot check an HS256
// signature there (the secret is the server's).
func TestFlowsAgainstAnotherServer(t *testing.T) {
	l := newLab(t, func(o *Options) {
		p := client.BuiltinProfiles()["oauth2"]
		p.OAuth.ClientID = "tokenlab"
		o.Server, o.Embedded, o.Profile, o.Secrets = o.Embedded.URL, nil, p, Secrets{}
		o.OpenBrowser = func(ctx context.Context, u string) error { return fillAuthorizeForm(ctx, u, "approve") }
	})
	if got := strings.Join(l.m.login.flows, ","); got != "password,pkce,device" {
		t.Fatalf("flows offered = %s, want password,pkce,device (from discovery)", got)
	}
	l.key("down", "right", "enter")
	if l.m.screen != screenDashboard {
		t.Fatalf("after the PKCE login the screen is %d; status %q\n%s", l.m.screen, l.m.statusText(), l.view())
	}
	l.wantTimeline(0, "PKCE verifier", "code received", "code exchange")
	l.key("i")
	l.wantView("signature not checked")
	l.wantInspection("HS256: the secret is the server's; not checked")
}
