package mockserver

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Attacks on the login flows, each a test that failed before its fix.

const confidentialSecret = "app-secret-0123456789"

func withConfidentialApp(c *Config) {
	c.Clients = []ClientConfig{{ID: "app", Secret: confidentialSecret}}
}

// confidentialRefresh logs alice in through the confidential client app
// and returns its refresh token.
func confidentialRefresh(t *testing.T, ts *testServer) string {
	t.Helper()
	redirect := "http://127.0.0.1:5555/cb"
	code := ts.authorize(t, authorizeQuery(redirect, "client_id", "app"))
	r := ts.form(t, "/oauth/token", "grant_type", "authorization_code", "code", code, "redirect_uri", redirect,
		"client_id", "app", "client_secret", confidentialSecret, "code_verifier", testVerifier)
	if r.Status != 200 {
		t.Fatalf("exchange: %d %s", r.Status, r.Raw)
	}
	return r.str("refresh_token")
}

// A confidential client's refresh token must not be redeemable or revocable
// without the client's secret on any route (RFC 6749 §6, RFC 7009 §2.1).
func TestSeedRoutesRefuseConfidentialClientTokens(t *testing.T) {
	ts := newTestServer(t, withConfidentialApp)
	rt := confidentialRefresh(t, ts)
	for _, path := range []string{"/token", "/logout"} {
		got := ts.do(t, "POST", path, map[string]string{"token": rt})
		if got.Status != http.StatusUnauthorized || got.str("error") != "invalid_client" || !strings.Contains(got.str("message"), "/oauth/token") {
			t.Errorf("seed %s with a confidential client's token: %d %s", path, got.Status, got.Raw)
		}
	}
	// The refused logout ended nothing: the client still refreshes with its secret.
	if r := ts.form(t, "/oauth/token", "grant_type", "refresh_token", "refresh_token", rt,
		"client_id", "app", "client_secret", confidentialSecret); r.Status != 200 {
		t.Fatalf("the client's own refresh after the refused seed calls: %d %s", r.Status, r.Raw)
	}

	// A public client's token (no secret to prove) still works on the seed routes.
	d := ts.form(t, "/oauth/token", "grant_type", "password", "username", "alice", "password", "password123", "client_id", DefaultClientID)
	if got := ts.do(t, "POST", "/token", map[string]string{"token": d.str("refresh_token")}); got.Status != 200 {
		t.Fatalf("seed /token with the public client's token: %d %s", got.Status, got.Raw)
	}
}

// wrongPasswordPages posts n wrong passwords on both login pages and
// returns how many answers were 429.
func limitedPages(t *testing.T, ts *testServer, n int) (device, authorize int) {
	t.Helper()
	d := ts.form(t, "/oauth/device_authorization", "client_id", DefaultClientID)
	for range n {
		p := ts.browser(t, "POST", "/device", url.Values{"user_code": {d.str("user_code")}, "username": {"alice"}, "password": {"wrong-password"}})
		if p.Status == http.StatusTooManyRequests && strings.Contains(p.Body, `data-error="too_many_requests"`) {
			device++
		}
	}
	form := formOf(t, ts.browser(t, "GET", "/oauth/authorize?"+authorizeQuery("http://127.0.0.1:5555/cb").Encode(), nil))
	for range n {
		p := ts.submit(t, form, "username", "alice", "password", "wrong-password", "action", "approve")
		if p.Status == http.StatusTooManyRequests && strings.Contains(p.Body, `data-error="too_many_requests"`) {
			authorize++
		}
	}
	return device, authorize
}

// --login-rate must cover every password or client-secret check.
func TestLoginRateCoversPagesAndClientSecrets(t *testing.T) {
	ts := newTestServer(t, withConfidentialApp, func(c *Config) { c.LoginRate = 1 })
	const n = 20
	device, authorize := limitedPages(t, ts, n)
	if device == 0 || authorize == 0 {
		t.Errorf("%d wrong passwords at --login-rate 1: %d limited on /device, %d on /oauth/authorize", n, device, authorize)
	}
	for _, path := range []string{"/oauth/token", "/oauth/revoke"} {
		limited := 0
		for range n {
			r := ts.do(t, "POST", path, "grant_type=client_credentials&token=x", "Content-Type", formType,
				"Authorization", "Basic YXBwOndyb25n") // app:wrong
			if r.Status == http.StatusTooManyRequests {
				limited++
			}
		}
		if limited == 0 {
			t.Errorf("%d wrong client secrets on %s at --login-rate 1 were not limited", n, path)
		}
	}
}

// holdHashing occupies the only hashing slot until the test ends.
func holdHashing(t *testing.T, ts *testServer) {
	t.Helper()
	held, release := make(chan struct{}), make(chan struct{})
	go ts.Server.hashing.run(context.Background(), func() { close(held); <-release })
	<-held
	t.Cleanup(func() { close(release) })
}

// Client secrets are checked in the bounded hasher, as passwords are, and
// an unknown client_id costs the same hash (compared with a dummy).
func TestClientSecretChecksUseBoundedHasher(t *testing.T) {
	ts := newTestServer(t, withConfidentialApp, func(c *Config) { c.HashWorkers, c.HashQueue = 1, 1 })
	ts.Server.hashing.maxWaiting = 0 // no queue: a check that needs the hasher is turned away at once
	holdHashing(t, ts)
	for _, id := range []string{"app", "no-such-client"} {
		r := ts.do(t, "POST", "/oauth/token", "grant_type=client_credentials", "Content-Type", formType,
			"Authorization", "Basic "+basicAuth(id, "wrong"))
		if r.Status != http.StatusServiceUnavailable {
			t.Errorf("client %s with a secret while the hasher is full: %d %s, want 503 (the check must wait for the hasher)", id, r.Status, r.Raw)
		}
	}
}

// An unknown client_id may be a secret sent in the wrong field: it stays
// out of the event log.
func TestUnknownClientIDStaysOutOfEvents(t *testing.T) {
	ts := newTestServer(t, withConfidentialApp)
	swapped := "app-secret-swapped-into-the-id"
	r := ts.do(t, "POST", "/oauth/token", "grant_type=client_credentials", "Content-Type", formType,
		"Authorization", "Basic "+basicAuth(swapped, "app"))
	if r.Status != http.StatusUnauthorized {
		t.Fatalf("unknown client: %d %s", r.Status, r.Raw)
	}
	ev := ts.admin(t, "GET", "/admin/events", nil)
	if strings.Contains(string(ev.Raw), swapped) {
		t.Fatalf("the unknown client_id reached the event log: %s", ev.Raw)
	}
	if !strings.Contains(string(ev.Raw), "unknown client") {
		t.Fatalf("the refusal of an unknown client is not logged as such: %s", ev.Raw)
	}
}

// clientFrom returns an HTTP client whose connections come from ip (a
// loopback address other than 127.0.0.1 stands for another machine).
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// One process rotating its source address through 127/8 is one party:
// it gets its own cap of pending device codes, not the whole table, so
// other clients keep their device flow, and expiry frees its codes.
// (Before, 127.0.0.2, .3, ... each had a cap of their own and filled the
// table in seconds.)
func TestDeviceCapHoldsAgainstLoopbackRotation(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.Clients = []ClientConfig{{ID: "app", Secret: "app-secret-0123456789"}} })
	const tries = maxPendingDevicesPerAddress + 20
	granted := 0
	for i := range tries {
		ip := fmt.Sprintf("127.0.%d.%d", i/250, 2+i%250)
		resp, err := clientFrom(ip).PostForm(ts.URL+"/oauth/device_authorization", url.Values{"client_id": {DefaultClientID}})
		if err != nil {
			t.Skipf("cannot send from %s here: %v", ip, err)
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			granted++
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("device authorization from %s: %d", ip, resp.StatusCode)
		}
	}
	if granted != maxPendingDevicesPerAddress {
		t.Fatalf("%d addresses of 127/8 got %d device codes, want the one cap of %d", tries, granted, maxPendingDevicesPerAddress)
	}
	if r := ts.do(t, "POST", "/oauth/device_authorization", formBody(), "Content-Type", formType,
		"Authorization", "Basic "+basicAuth("app", "app-secret-0123456789")); r.Status != http.StatusOK {
		t.Fatalf("another client's device flow after the rotation: %d %s", r.Status, r.Raw)
	}
	ts.admin(t, "POST", "/admin/clock", map[string]any{"advance": FormatDuration(ts.cfg.DeviceTTL + time.Second)})
	if r := ts.form(t, "/oauth/device_authorization", "client_id", DefaultClientID); r.Status != http.StatusOK {
		t.Fatalf("after the codes expired the device flow is still closed: %d %s", r.Status, r.Raw)
	}
}

// One user's unredeemed codes must not close the public client for the others.
func TestCodeCapIsPerUser(t *testing.T) {
	ts := newTestServer(t)
	if r := ts.do(t, "POST", "/register", map[string]string{"username": "mallory", "password": "mallorypass1"}); r.Status/100 != 2 {
		t.Fatalf("register: %d %s", r.Status, r.Raw)
	}
	q := authorizeQuery("http://127.0.0.1:5555/cb")
	form := formOf(t, ts.browser(t, "GET", "/oauth/authorize?"+q.Encode(), nil))
	var last *url.URL
	for range maxLiveCodesPerUser + 1 {
		last = location(t, ts.submit(t, form, "username", "mallory", "password", "mallorypass1", "action", "approve"))
	}
	if last.Query().Get("error") != "temporarily_unavailable" {
		t.Errorf("mallory's code past her cap: %s, want temporarily_unavailable", last)
	}
	ts.authorize(t, q) // alice still gets a code
}

// Guessing user codes on /device is throttled per address, on GET and POST,
// and a throttled address learns nothing even from a right code.
func TestUserCodeGuessingIsThrottled(t *testing.T) {
	ts := newTestServer(t)
	d := ts.form(t, "/oauth/device_authorization", "client_id", DefaultClientID)
	guess := func(i int) string {
		return "BBBB-BB" + string(userCodeAlphabet[i%20]) + string(userCodeAlphabet[i/20%20])
	}
	throttled := -1
	for i := range 2 * userCodeGuessBurst {
		p := ts.browser(t, "GET", "/device?user_code="+guess(i), nil)
		if p.Status == http.StatusTooManyRequests {
			if !strings.Contains(p.Body, `data-error="too_many_requests"`) || p.Header.Get("Retry-After") == "" {
				t.Fatalf("a throttled guess is not the page's 429 error with Retry-After: %s", p.Body)
			}
			throttled = i
			break
		}
	}
	if throttled < 0 {
		t.Fatalf("%d wrong user codes from one address were not throttled", 2*userCodeGuessBurst)
	}
	p := ts.browser(t, "GET", "/device?user_code="+d.str("user_code"), nil)
	if p.Status != http.StatusTooManyRequests || strings.Contains(p.Body, `id="client"`) {
		t.Fatalf("a throttled address still learns that a code waits: %d %s", p.Status, p.Body)
	}
	p = ts.browser(t, "POST", "/device", url.Values{"user_code": {d.str("user_code")}, "username": {"alice"}, "password": {"password123"}})
	if p.Status != http.StatusTooManyRequests {
		t.Fatalf("POST /device from a throttled address: %d %s", p.Status, p.Body)
	}

	// Another loopback address is the same machine: changing the source
	// address does not buy new guesses.
	resp, err := clientFrom("127.0.0.2").Get(ts.URL + "/device?user_code=" + url.QueryEscape(d.str("user_code")))
	if err != nil {
		t.Skipf("cannot send from 127.0.0.2 here: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("127.0.0.2 escaped 127.0.0.1's throttle: %d", resp.StatusCode)
	}

	// The server's clock refills the allowance.
	ts.admin(t, "POST", "/admin/clock", map[string]any{"advance": FormatDuration(userCodeGuessRefill * userCodeGuessBurst)})
	p = ts.browser(t, "GET", "/device?user_code="+d.str("user_code"), nil)
	if p.Status != 200 || !strings.Contains(p.Body, `id="client"`) {
		t.Fatalf("after the refill time the right code is still refused: %d %s", p.Status, p.Body)
	}
}

func TestLoopbackRedirectPortRange(t *testing.T) {
	for uri, want := range map[string]bool{
		"http://127.0.0.1:1/cb": true, "http://127.0.0.1:65535/cb": true, "http://[::1]:8080/cb": true,
		"http://127.0.0.1:0/cb": false, "http://127.0.0.1:65536/cb": false, "http://127.0.0.1:99999999999/cb": false,
		"http://127.0.0.1:/cb": false, "http://127.0.0.1/cb": false, "http://127.0.0.1:-1/cb": false, "http://127.0.0.1:+80/cb": false,
	} {
		if got := isLoopbackRedirect(uri); got != want {
			t.Errorf("isLoopbackRedirect(%s) = %v, want %v", uri, got, want)
		}
	}
}

// A wrong password on either login page is marked for programs as the
// error page is: data-error="login_failed".
func TestWrongPasswordPagesCarryDataError(t *testing.T) {
	ts := newTestServer(t)
	d := ts.form(t, "/oauth/device_authorization", "client_id", DefaultClientID)
	dev := ts.browser(t, "POST", "/device", url.Values{"user_code": {d.str("user_code")}, "username": {"alice"}, "password": {"wrong-password"}})
	form := formOf(t, ts.browser(t, "GET", "/oauth/authorize?"+authorizeQuery("http://127.0.0.1:5555/cb").Encode(), nil))
	authz := ts.submit(t, form, "username", "alice", "password", "wrong-password", "action", "approve")
	for name, p := range map[string]page{"device": dev, "authorize": authz} {
		if !strings.Contains(p.Body, `data-error="login_failed"`) {
			t.Errorf("the %s page's wrong-password error has no data-error=\"login_failed\": %s", name, p.Body)
		}
	}
}
