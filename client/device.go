package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// DeviceCode is what the user needs to approve a device login: where to
// go and which code to enter (RFC 8628 §3.2). It holds no device code.
type DeviceCode struct {
	UserCode                string
	VerificationURI         string
	VerificationURIComplete string // the URI with the code in it; may be empty
	ExpiresIn               time.Duration
	Interval                time.Duration // how long to wait between polls
}

// DeviceOptions configure LoginDevice.
type DeviceOptions struct {
	// Show tells the user the code and where to enter it (print it, open
	// the browser, draw it large). Required. It should not block.
	Show func(ctx context.Context, code DeviceCode) error
	// Sleep waits between polls; a real timer when nil. Tests replace it
	// (and move the client's clock) so they never sleep.
	Sleep func(ctx context.Context, d time.Duration) error
	// Timeout stops waiting for the approval earlier than the code's
	// expiry, by the client's clock; 0 waits until the code expires.
	Timeout time.Duration
}

// slowDownStep is how much the interval grows on slow_down (RFC 8628 §3.5).
const slowDownStep = 5 * time.Second

// LoginDevice logs in with the device authorization grant (RFC 8628): it
// asks for a device and user code, has opts.Show tell the user, then polls
// the token endpoint at the server's interval (longer by 5 s after each
// slow_down) until the user approves, denies, or the code expires by the
// client's clock.
func (c *Client) LoginDevice(ctx context.Context, opts DeviceOptions) (Session, error) {
	if opts.Show == nil {
		return Session{}, errors.New("LoginDevice needs a Show func to tell the user the code")
	}
	if err := c.CheckFlow(ctx, FlowDevice); err != nil {
		return Session{}, err
	}
	d, err := c.endpoints(ctx)
	if err != nil {
		return Session{}, err
	}
	if id, _ := c.oauthClient(); id == "" {
		return Session{}, errors.New("the device flow needs an OAuth client id (the mock server's public client is tokenlab)")
	}
	auth, err := c.requestDeviceCode(ctx, d.Device)
	if err != nil {
		return Session{}, err
	}
	code := auth.code
	c.emit(Event{Kind: EventDeviceCode, URL: code.VerificationURI,
		Detail: "the server issued a user code for a person to enter at " + code.VerificationURI + " on any device (valid " + code.ExpiresIn.String() + "); this machine polls every " + code.Interval.String() + " meanwhile"})
	if err := opts.Show(ctx, code); err != nil {
		return Session{}, err
	}
	return c.pollDevice(ctx, d.Token, auth, opts)
}

// deviceAuthorization is the server's answer to a device authorization
// request.
type deviceAuthorization struct {
	code       DeviceCode // what the user is shown
	deviceCode string     // what this machine polls with; never shown
	issued     time.Time  // by the client's clock
}

// requestDeviceCode asks the device authorization endpoint for a device
// code and a user code (RFC 8628 §3.1), filling in the defaults of §3.2.
func (c *Client) requestDeviceCode(ctx context.Context, endpoint string) (deviceAuthorization, error) {
	req, err := c.formRequest(ctx, endpoint, c.grantForm(""))
	if err != nil {
		return deviceAuthorization{}, err
	}
	a, err := c.send(req, "device authorization: ask for a device code and a user code")
	if err != nil {
		return deviceAuthorization{}, err
	}
	if a.status/100 != 2 {
		return deviceAuthorization{}, apiError(a)
	}
	var got struct {
		DeviceCode              string `json:"device_code"`
		UserCode                string `json:"user_code"`
		VerificationURI         string `json:"verification_uri"`
		VerificationURIComplete string `json:"verification_uri_complete"`
		ExpiresIn               int64  `json:"expires_in"`
		Interval                int64  `json:"interval"`
	}
	if err := json.Unmarshal(a.body, &got); err != nil || got.DeviceCode == "" || got.UserCode == "" || got.VerificationURI == "" {
		return deviceAuthorization{}, fmt.Errorf("the device authorization answer lacks device_code, user_code or verification_uri")
	}
	if !browsable(got.VerificationURI) {
		return deviceAuthorization{}, fmt.Errorf("the device authorization answer's verification_uri %q is not an http(s) URL to show or open, so the login was stopped", got.VerificationURI)
	}
	if !browsable(got.VerificationURIComplete) {
		got.VerificationURIComplete = "" // optional (RFC 8628 §3.2): the user types the code instead
	}
	code := DeviceCode{UserCode: Printable(got.UserCode), VerificationURI: got.VerificationURI, VerificationURIComplete: got.VerificationURIComplete,
		ExpiresIn: time.Duration(got.ExpiresIn) * time.Second, Interval: time.Duration(got.Interval) * time.Second}
	if code.Interval <= 0 {
		code.Interval = 5 * time.Second // RFC 8628 §3.2's default
	}
	if code.ExpiresIn <= 0 {
		code.ExpiresIn = 10 * time.Minute
	}
	return deviceAuthorization{code: code, deviceCode: got.DeviceCode, issued: c.clock.Now()}, nil
}

// pollDevice asks the token endpoint whether the user has approved, at
// the code's interval, until the user approves or denies, the code
// expires, or opts.Timeout runs out (all by the client's clock).
func (c *Client) pollDevice(ctx context.Context, tokenURL string, auth deviceAuthorization, opts DeviceOptions) (Session, error) {
	sleep := opts.Sleep
	if sleep == nil {
		sleep = sleepContext
	}
	deadline := auth.issued.Add(auth.code.ExpiresIn)
	giveUp := deadline
	if opts.Timeout > 0 && opts.Timeout < auth.code.ExpiresIn {
		giveUp = auth.issued.Add(opts.Timeout)
	}
	interval := auth.code.Interval
	for {
		if giveUp.Before(deadline) && c.clock.Now().Add(interval).After(giveUp) {
			return Session{}, sentinelf(ErrLoginTimeout, "nobody approved the device login within %s", opts.Timeout)
		}
		if err := sleep(ctx, interval); err != nil {
			return Session{}, err
		}
		if !c.clock.Now().Before(deadline) {
			c.emit(Event{Kind: EventDeviceExpired, Detail: "the user code expired before anyone approved it"})
			return Session{}, sentinelf(ErrLoginTimeout, "nobody approved the device login within %s; start it again", auth.code.ExpiresIn)
		}
		form := c.grantForm(grantDeviceCode)
		form.Set("device_code", auth.deviceCode)
		req, err := c.formRequest(ctx, tokenURL, form)
		if err != nil {
			return Session{}, err
		}
		a, err := c.send(req, "device: ask whether the user has approved yet")
		if err != nil {
			return Session{}, err
		}
		if a.status/100 == 2 {
			ans, err := c.parseTokens(a)
			if err != nil {
				return Session{}, err
			}
			c.emit(Event{Kind: EventDeviceApproved, Detail: "the user approved the login, so the token endpoint answered with tokens"})
			return c.start(ctx, ans, FlowDevice, "logged in by device authorization")
		}
		if err := c.stillPending(a, &interval); err != nil {
			return Session{}, err
		}
	}
}

// stillPending reads a refused poll: nil when the user has not decided
// yet (slow_down also lengthens *interval), else why the login ended.
func (c *Client) stillPending(a answer, interval *time.Duration) error {
	ae := apiError(a)
	switch ae.Code {
	case "authorization_pending":
		c.emit(Event{Kind: EventDevicePoll, Status: a.status, Detail: "authorization_pending: nobody has approved yet; ask again in " + interval.String()})
	case "slow_down":
		*interval += slowDownStep
		c.emit(Event{Kind: EventDevicePoll, Status: a.status, Detail: "slow_down: polled too fast, so the interval grows by 5s to " + interval.String()})
	case "access_denied":
		c.emit(Event{Kind: EventDeviceDenied, Status: a.status, Detail: "the user denied the login"})
		return sentinelf(ErrLoginDenied, "the device login was denied")
	case "expired_token":
		c.emit(Event{Kind: EventDeviceExpired, Status: a.status, Detail: "the server says the device code expired"})
		return sentinelf(ErrLoginTimeout, "the device code expired before the login was approved; start it again")
	default:
		return ae
	}
	return nil
}

// browsable reports whether a URL the server chose may be shown to the
// user and handed to the OS browser opener: an absolute http(s) URL with
// no control or bidi character. Another scheme (file:, a custom handler)
// would make the opener do what the server wants.
func browsable(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && Printable(s) == s
}

// sleepContext waits d or until ctx ends.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
