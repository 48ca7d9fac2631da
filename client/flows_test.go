package client

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var allGrants = []string{"authorization_code", grantDeviceCode, "client_credentials", "refresh_token"}

// newFlowClient returns a client without a username (PKCE and device
// logins learn it from the token) for the oauth2 profile of f.
func newFlowClient(t *testing.T, f *fakeAPI, st Store, edit func(*Profile), opts ...Option) *testClient {
	t.Helper()
	p := builtinProfile(t, "oauth2")
	p.OAuth.ClientID = f.cfg.ClientID
	p.OAuth.ClientSecret = f.cfg.ClientSecret
	if edit != nil {
		edit(&p)
	}
	if st == nil {
		st = NewMemoryStore()
	}
	tc := &testClient{clock: newManualClock(f.Now()), events: &eventRecorder{}, store: st}
	all := append([]Option{WithHTTPClient(f.Client()), WithClock(tc.clock), WithEvents(tc.events.add)}, opts...)
	c, err := New(f.URL, "", p, st, all...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	tc.Client = c
	return tc
}

// browserOpener plays the browser: it follows the authorize URL's
// redirect to the loopback listener, as a browser would.
func browserOpener(t *testing.T, rewrite func(loopbackURL string) string) Opener {
	return func(ctx context.Context, u string) error {
		hc := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if rewrite != nil && strings.HasPrefix(req.URL.Host, "127.0.0.1") && req.URL.Path == callbackPath {
				nu, err := req.URL.Parse(rewrite(req.URL.String()))
				if err != nil {
					return err
				}
				req.URL = nu
			}
			return nil
		}}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Errorf("browser: %v", err)
			return nil
		}
		resp.Body.Close()
		return nil
	}
}

func kinds(events []Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Kind)
	}
	return out
}

func TestPKCELogin(t *testing.T) {
	f := newFakeAPI(t, fakeConfig{Dialect: DialectOAuth2, ClientID: "tokenlab", Grants: allGrants, Rotate: true})
	tc := newFlowClient(t, f, nil, func(p *Profile) { p.OAuth.Resources = []string{"https://api.example"}; p.OAuth.Scope = "openid" })
	s, err := tc.LoginPKCE(t.Context(), PKCEOptions{Open: browserOpener(t, nil)})
	if err != nil {
		t.Fatalf("LoginPKCE: %v", err)
	}
	if s.Username != "alice" || tc.Username() != "alice" || s.Grant != FlowPKCE || s.RefreshToken == "" {
		t.Fatalf("session = %+v, want alice's with a refresh token", s)
	}
	if _, err := tc.store.Load(t.Context(), Key("oauth2", f.URL, "alice")); err != nil {
		t.Fatalf("the session is not kept under alice's key: %v", err)
	}
	q := f.authorizeQ
	if q.Get("code_challenge_method") != "S256" || len(q.Get("state")) < 20 || q.Get("scope") != "openid" || q.Get("resource") != "https://api.example" {
		t.Errorf("authorize query = %v", q)
	}
	if !strings.HasPrefix(q.Get("redirect_uri"), "http://127.0.0.1:") {
		t.Errorf("redirect_uri = %q, want the loopback", q.Get("redirect_uri"))
	}
	if !slices.Equal(f.resources, []string{"https://api.example"}) {
		t.Errorf("the token request's resources = %v", f.resources)
	}
	want := []string{EventPKCEVerifier, EventPKCEChallenge, EventAuthorizeURL, EventBrowserWait, EventCodeReceived, EventCodeExchange}
	got := kinds(tc.events.all())
	for i, k := range want {
		j := slices.Index(got, k)
		if j < 0 {
			t.Fatalf("events %v lack %s", got, k)
		}
		if i > 0 && j < slices.Index(got, want[i-1]) {
			t.Errorf("event %s came before %s: %v", k, want[i-1], got)
		}
	}
	for _, e := range tc.events.all() {
		if e.Detail == "" && strings.HasPrefix(e.Kind, "pkce") {
			t.Errorf("event %s has no why-line", e.Kind)
		}
		for _, secret := range []string{"code-", "device-secret", s.AccessToken, s.RefreshToken, q.Get("state"), q.Get("code_challenge")} {
			if strings.Contains(e.Detail+e.URL, secret) {
				t.Errorf("event %s holds a secret: %+v", e.Kind, e)
			}
		}
	}
	// The session refreshes like any other.
	tc.clock.advance(10 * time.Minute)
	f.advance(10 * time.Minute)
	if _, err := tc.Token(t.Context()); err != nil || f.refreshes.Load() != 1 {
		t.Fatalf("Token after expiry: %v, %d refreshes", err, f.refreshes.Load())
	}
}

// TestPKCEWrongStateIsRefused: a callback with a wrong state is refused
// and its code never traded, but the login keeps waiting for its own
// callback (one forged request must not end it); if that never comes, the
// timeout says wrong ones were refused.
func TestPKCEWrongStateIsRefused(t *testing.T) {
	f := newFakeAPI(t, fakeConfig{Dialect: DialectOAuth2, ClientID: "tokenlab", Grants: allGrants})
	forge := func(u string) string { return strings.Replace(u, "state=", "state=forged", 1) }
	t.Run("then the right one", func(t *testing.T) {
		tc := newFlowClient(t, f, nil, nil)
		forged, real := browserOpener(t, forge), browserOpener(t, nil)
		both := func(ctx context.Context, u string) error {
			forged(ctx, u)
			return real(ctx, u)
		}
		codesBefore := len(f.codes)
		if _, err := tc.LoginPKCE(t.Context(), PKCEOptions{Open: both}); err != nil {
			t.Fatalf("LoginPKCE: %v; a wrong-state callback ended the login", err)
		}
		if n := f.logins.Load(); n != 1 {
			t.Errorf("codes traded = %d, want only the right callback's", n)
		}
		if len(f.codes) != codesBefore+1 {
			t.Errorf("unused codes = %d, want the one the forged redirect carried", len(f.codes)-codesBefore)
		}
		if got := kinds(tc.events.all()); !slices.Contains(got, EventBrowserRefused) || !slices.Contains(got, EventCodeReceived) {
			t.Errorf("events = %v, want browser_refused then code_received", got)
		}
	})
	t.Run("only a wrong one", func(t *testing.T) {
		tc := newFlowClient(t, f, nil, nil)
		forged := browserOpener(t, forge)
		// The browser plays before the wait starts, so the timeout comes
		// after the refused callback.
		open := func(_ context.Context, u string) error { return forged(t.Context(), u) }
		logins := f.logins.Load()
		_, err := tc.LoginPKCE(t.Context(), PKCEOptions{Open: open, Timeout: time.Nanosecond})
		if !errors.Is(err, ErrLoginTimeout) || !strings.Contains(err.Error(), "1 callback(s) with a wrong state were refused") {
			t.Fatalf("err = %v, want a timeout that names the refused callback", err)
		}
		if f.logins.Load() != logins {
			t.Errorf("a code was exchanged despite the wrong state")
		}
	})
}

func TestPKCEDeniedAndTimeout(t *testing.T) {
	f := newFakeAPI(t, fakeConfig{Dialect: DialectOAuth2, ClientID: "tokenlab", Grants: allGrants})
	t.Run("denied", func(t *testing.T) {
		f.setOverride("authorize", func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			http.Redirect(w, r, q.Get("redirect_uri")+"?error=access_denied&state="+q.Get("state"), http.StatusFound)
		})
		defer f.setOverride("authorize", nil)
		tc := newFlowClient(t, f, nil, nil)
		_, err := tc.LoginPKCE(t.Context(), PKCEOptions{Open: browserOpener(t, nil)})
		if !errors.Is(err, ErrLoginDenied) {
			t.Fatalf("err = %v, want ErrLoginDenied", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		tc := newFlowClient(t, f, nil, nil)
		nothing := func(context.Context, string) error { return nil } // nobody comes back
		_, err := tc.LoginPKCE(t.Context(), PKCEOptions{Open: nothing, Timeout: time.Nanosecond})
		if !errors.Is(err, ErrLoginTimeout) || !strings.Contains(err.Error(), "did not come back") {
			t.Fatalf("err = %v, want a timeout in words", err)
		}
	})
}

// fakeSleeper records the waits and moves the client's clock instead of
// sleeping.
type fakeSleeper struct {
	mu     sync.Mutex
	clock  *manualClock
	waited []time.Duration
}

func (s *fakeSleeper) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waited = append(s.waited, d)
	s.mu.Unlock()
	s.clock.advance(d)
	return nil
}

func TestDeviceLogin(t *testing.T) {
	cases := []struct {
		name   string
		polls  []string
		want   error
		waits  []time.Duration
		events []string
	}{
		{"approved after pending and slow_down", []string{"authorization_pending", "slow_down", "ok"}, nil,
			[]time.Duration{5 * time.Second, 5 * time.Second, 10 * time.Second}, []string{EventDeviceCode, EventDevicePoll, EventDevicePoll, EventDeviceApproved}},
		{"denied", []string{"authorization_pending", "access_denied"}, ErrLoginDenied, nil, []string{EventDeviceDenied}},
		{"expired by the server", []string{"expired_token"}, ErrLoginTimeout, nil, []string{EventDeviceExpired}},
		{"expired by the clock", slices.Repeat([]string{"authorization_pending"}, 200), ErrLoginTimeout, nil, []string{EventDeviceExpired}},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t, fakeConfig{Dialect: DialectOAuth2, ClientID: "tokenlab", Grants: allGrants, DevicePolls: tt.polls})
			tc := newFlowClient(t, f, nil, nil)
			sl := &fakeSleeper{clock: tc.clock}
			var shown DeviceCode
			s, err := tc.LoginDevice(t.Context(), DeviceOptions{Sleep: sl.sleep,
				Show: func(_ context.Context, c DeviceCode) error { shown = c; return nil }})
			if shown.UserCode != "BCDF-GHJK" || !strings.HasSuffix(shown.VerificationURI, "/device") || shown.Interval != 5*time.Second || shown.ExpiresIn != 10*time.Minute {
				t.Errorf("shown = %+v", shown)
			}
			if tt.want == nil {
				if err != nil || s.Username != "alice" || s.Grant != FlowDevice {
					t.Fatalf("LoginDevice = %+v, %v", s, err)
				}
			} else if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.waits != nil && !slices.Equal(sl.waited, tt.waits) {
				t.Errorf("waits = %v, want %v", sl.waited, tt.waits)
			}
			got := kinds(tc.events.all())
			for _, k := range tt.events {
				if !slices.Contains(got, k) {
					t.Errorf("events %v lack %s", got, k)
				}
			}
			if tt.name == "expired by the clock" && f.devicePolls > 130 {
				t.Errorf("%d polls: the client kept polling past expires_in", f.devicePolls)
			}
			for _, e := range tc.events.all() {
				if strings.Contains(e.Detail+e.URL, "device-secret") || strings.Contains(e.Detail, "BCDF") {
					t.Errorf("event holds a code: %+v", e)
				}
			}
		})
	}
}

func TestClientCredentialsRerunsOnExpiry(t *testing.T) {
	dir := t.TempDir()
	st := &FileStore{Dir: dir}
	f := newFakeAPI(t, fakeConfig{Dialect: DialectOAuth2, ClientID: "robot", ClientSecret: "s3cret", Grants: allGrants})
	tc := newFlowClient(t, f, st, nil)
	s, err := tc.LoginClientCredentials(t.Context())
	if err != nil {
		t.Fatalf("LoginClientCredentials: %v", err)
	}
	if s.Username != "robot" || s.RefreshToken != "" || s.ClientSecret != "s3cret" || s.Grant != FlowClientCredentials {
		t.Fatalf("session = %+v", s)
	}
	// A later process knows the secret only from the store.
	p := builtinProfile(t, "oauth2")
	p.OAuth.ClientID = "robot"
	later := newTestClient(t, f, p, st)
	later.Client, _ = New(f.URL, "robot", p, st, WithHTTPClient(f.Client()), WithClock(later.clock), WithEvents(later.events.add))
	later.clock.advance(6 * time.Minute)
	f.advance(6 * time.Minute)
	tok, err := later.Token(t.Context())
	if err != nil || tok == s.AccessToken {
		t.Fatalf("Token after expiry = %v (same: %v), want a new one from the grant run again", err, tok == s.AccessToken)
	}
	if f.refreshes.Load() != 0 || later.events.count(EventClientCredentials) != 1 {
		t.Errorf("refreshes %d, client_credentials events %d: want the grant re-run, no refresh", f.refreshes.Load(), later.events.count(EventClientCredentials))
	}
	if err := later.Logout(t.Context()); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if _, err := st.Load(t.Context(), later.Key()); !errors.Is(err, ErrNoSession) {
		t.Errorf("the session is still stored after logout: %v", err)
	}
}

func TestConfidentialSecretKeptForRefreshAndLogout(t *testing.T) {
	st := &FileStore{Dir: t.TempDir()}
	f := newFakeAPI(t, fakeConfig{Dialect: DialectOAuth2, ClientID: "app", ClientSecret: "app-secret", Grants: allGrants, Rotate: true})
	tc := newFlowClient(t, f, st, nil)
	if _, err := tc.LoginPKCE(t.Context(), PKCEOptions{Open: browserOpener(t, nil)}); err != nil {
		t.Fatalf("LoginPKCE: %v", err)
	}
	p := builtinProfile(t, "oauth2")
	p.OAuth.ClientID = "app" // no secret: it comes from the store
	later, err := New(f.URL, "alice", p, st, WithHTTPClient(f.Client()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := later.Refresh(t.Context()); err != nil {
		t.Fatalf("Refresh without the secret given again: %v", err)
	}
	if err := later.Logout(t.Context()); err != nil || f.revocations.Load() != 1 {
		t.Fatalf("Logout: %v (revocations %d)", err, f.revocations.Load())
	}
	data, _ := os.ReadDir(st.Dir)
	if len(data) != 0 {
		t.Errorf("files left after logout: %v", data)
	}
}

func TestForbiddenInvalidTokenIsRejection(t *testing.T) {
	f := newFakeAPI(t, fakeConfig{Dialect: DialectOAuth2, ClientID: "tokenlab", Grants: allGrants, Forbid403: true})
	tc := newFlowClient(t, f, nil, nil)
	if _, err := tc.LoginPKCE(t.Context(), PKCEOptions{Open: browserOpener(t, nil)}); err != nil {
		t.Fatal(err)
	}
	f.advance(6 * time.Minute) // the server sees the token expired; the client's clock does not
	status, _ := tc.do(t, newTestRequest(t, http.MethodGet, f.URL+"/protected", nil))
	if status != http.StatusOK || f.refreshes.Load() != 1 {
		t.Fatalf("status %d after %d refreshes, want 200 after one refresh on the 403", status, f.refreshes.Load())
	}
}

func TestDiscoveryCrossOriginRefused(t *testing.T) {
	st := &FileStore{Dir: t.TempDir()}
	f := newFakeAPI(t, fakeConfig{Dialect: DialectOAuth2, TokenEndpoint: "http://evil.example:9999/oauth/token"})
	tc := newTestClient(t, f, builtinProfile(t, "oauth2"), st)
	_, err := tc.Login(t.Context(), "pw")
	if !errors.Is(err, ErrCrossOriginEndpoint) || !strings.Contains(err.Error(), "evil.example:9999") {
		t.Fatalf("Login = %v, want the cross-origin token endpoint refused", err)
	}
	if files, _ := os.ReadDir(st.Dir); len(files) != 0 {
		t.Errorf("something was stored: %v", files)
	}
	// Allowed when asked for: then the (unreachable) endpoint is tried.
	p := builtinProfile(t, "oauth2")
	p.OAuth.AllowCrossOriginEndpoints = true
	tc = newTestClient(t, f, p, st)
	if _, err := tc.Login(t.Context(), "pw"); errors.Is(err, ErrCrossOriginEndpoint) {
		t.Fatalf("still refused when allowed: %v", err)
	}
}

func TestChooseFlow(t *testing.T) {
	cases := []struct {
		name    string
		grants  []string
		browser bool
		want    string
		errText string
	}{
		{"pkce with a browser", allGrants, true, FlowPKCE, ""},
		{"device without a browser", allGrants, false, FlowDevice, ""},
		{"password when only it fits", []string{"authorization_code", "password"}, false, FlowPassword, ""},
		{"browser only, no browser", []string{"authorization_code", "refresh_token"}, false, "", "offers only the browser login (authorization_code, refresh_token)"},
		{"nothing fits", []string{"client_credentials"}, true, "", "the server offers client_credentials, and none of pkce, device or password fits"},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t, fakeConfig{Dialect: DialectOAuth2, ClientID: "tokenlab", Grants: tt.grants})
			tc := newFlowClient(t, f, nil, nil)
			ch, err := tc.ChooseFlow(t.Context(), tt.browser)
			if tt.errText != "" {
				if !errors.Is(err, ErrFlowNotOffered) || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("err = %v, want %q", err, tt.errText)
				}
				return
			}
			if err != nil || ch.Flow != tt.want || ch.Reason == "" {
				t.Fatalf("ChooseFlow = %+v, %v; want %s", ch, err, tt.want)
			}
		})
	}
	t.Run("json dialect", func(t *testing.T) {
		f := newFakeAPI(t, fakeConfig{})
		tc := newTestClient(t, f, builtinProfile(t, "seed-json"), nil)
		if ch, err := tc.ChooseFlow(t.Context(), true); err != nil || ch.Flow != FlowPassword {
			t.Fatalf("ChooseFlow = %+v, %v", ch, err)
		}
	})
}

func TestPasswordNotOfferedSaysSo(t *testing.T) {
	f := newFakeAPI(t, fakeConfig{Dialect: DialectOAuth2, ClientID: "tokenlab", Grants: []string{"authorization_code", "refresh_token"}})
	p := builtinProfile(t, "oauth2")
	p.OAuth.ClientID = "tokenlab"
	tc := newTestClient(t, f, p, nil)
	_, err := tc.Login(t.Context(), "pw")
	if !errors.Is(err, ErrFlowNotOffered) || !strings.Contains(err.Error(), "does not offer the password grant (it offers authorization_code, refresh_token)") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "redirect_uri") || f.logins.Load() != 0 {
		t.Errorf("the server's misleading error was relayed, or the password was sent: %v", err)
	}
}

func TestSkewScalesWithLifetime(t *testing.T) {
	f := newFakeAPI(t, fakeConfig{AccessTTL: 60 * time.Second, SendExpiresIn: true})
	tc := newTestClient(t, f, builtinProfile(t, "seed-json"), nil)
	tc.login(t)
	tc.clock.advance(44 * time.Second) // 16 s left: more than a quarter of 60 s
	if _, err := tc.Token(t.Context()); err != nil || f.refreshes.Load() != 0 {
		t.Fatalf("refreshed with 16 s of a 60 s token left (%v, %d)", err, f.refreshes.Load())
	}
	tc.clock.advance(2 * time.Second) // 14 s left: within 15 s
	if _, err := tc.Token(t.Context()); err != nil || f.refreshes.Load() != 1 {
		t.Fatalf("no refresh with 14 s of a 60 s token left (%v, %d)", err, f.refreshes.Load())
	}
}

func TestRefreshSurvivesServerError(t *testing.T) {
	f := newFakeAPI(t, fakeConfig{Rotate: true})
	st := &FileStore{Dir: t.TempDir()}
	tc := newTestClient(t, f, builtinProfile(t, "seed-json"), st)
	before := tc.login(t)
	f.setOverride("refresh", func(w http.ResponseWriter, r *http.Request) {
		fakeWriteJSON(w, http.StatusBadGateway, map[string]string{"error": "upstream"})
	})
	tc.clock.advance(10 * time.Minute)
	f.advance(10 * time.Minute) // by both clocks the token has expired
	if _, err := tc.Token(t.Context()); err == nil || errors.Is(err, ErrLoginRequired) {
		t.Fatalf("Token during a 502 = %v, want the error reported without ending the session", err)
	}
	if kept, err := st.Load(t.Context(), tc.Key()); err != nil || kept.RefreshToken != before.RefreshToken {
		t.Fatalf("the session was not kept through the 502: %v", err)
	}
	f.setOverride("refresh", nil)
	if _, err := tc.Token(t.Context()); err != nil {
		t.Fatalf("the next call did not try again: %v", err)
	}
}

// TestRotatedTokenSaveFailureIsReported is the review's finding: a
// rotated refresh token that cannot be saved (here the real file store's
// folder turns into a file between the read and the write) used to be
// hidden behind the old, still valid access token.
func TestRotatedTokenSaveFailureIsReported(t *testing.T) {
	f := newFakeAPI(t, fakeConfig{Rotate: true})
	dir := filepath.Join(t.TempDir(), "sessions")
	st := &FileStore{Dir: dir}
	tc := newTestClient(t, f, builtinProfile(t, "seed-json"), st)
	before := tc.login(t)
	f.setOnRefresh(func(int64) {
		os.Rename(dir, dir+".away")
		os.WriteFile(dir, []byte("not a folder"), 0o600)
	})
	tc.clock.advance(5*time.Minute - 10*time.Second) // the old token is still valid
	tok, err := tc.Token(t.Context())
	if !errors.Is(err, ErrSessionNotSaved) || tok != "" {
		t.Fatalf("Token = %q, %v; want ErrSessionNotSaved and no token", tok, err)
	}
	if !strings.Contains(err.Error(), "log in again") {
		t.Errorf("the error does not say what to do: %v", err)
	}
	if n := tc.events.count(EventStoreWrite); n < 2 {
		t.Errorf("store_write events = %d, want the retry reported", n)
	}
	os.Remove(dir)
	os.Rename(dir+".away", dir)
	if kept, err := st.Load(t.Context(), tc.Key()); err != nil || kept.RefreshToken != before.RefreshToken {
		t.Errorf("the stored session changed: %v", err)
	}
}

func TestLockWaiterNamesHolder(t *testing.T) {
	f := newFakeAPI(t, fakeConfig{Rotate: true})
	dir := t.TempDir()
	st := &FileStore{Dir: filepath.Join(dir, "s")}
	locks := filepath.Join(dir, "locks") // made 0700 by the client, whatever the umask
	a := newTestClient(t, f, builtinProfile(t, "seed-json"), st, WithLockDir(locks))
	a.login(t)
	unlock, err := a.lock(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	b := newTestClient(t, f, builtinProfile(t, "seed-json"), st, WithLockDir(locks))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { _, err := b.lock(ctx); done <- err }()
	select {
	case <-b.events.seen(EventLockWait):
	case err := <-done:
		t.Fatalf("the waiter returned (%v) without waiting for the lock", err)
	case <-time.After(lockWaitBound):
		t.Fatal("the waiter never said it waits for the lock")
	}
	cancel()
	err = <-done
	unlock()
	pid := strings.TrimSpace(strings.Fields(b.events.all()[len(b.events.all())-1].Detail)[3])
	if !strings.Contains(err.Error(), "tokenlab process ") || pid == "" {
		t.Fatalf("waiter: %v; want the holder's PID", err)
	}
}

// lockWaitBound bounds a wait for a lock_wait event: an upper limit for a
// broken client, not a delay (a working one says it within microseconds).
const lockWaitBound = 30 * time.Second

func TestDefaultLockDirWithoutHome(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "")
	t.Setenv("XDG_CONFIG_HOME", "")
	dir := DefaultLockDir()
	if dir == "" || !strings.HasPrefix(dir, os.TempDir()) {
		t.Fatalf("DefaultLockDir = %q, want a folder in the temp dir", dir)
	}
}

// A client-credentials logout takes the session's lock file like any
// other logout, so it cannot delete a session another process is saving.
func TestClientCredentialsLogoutWaitsForLock(t *testing.T) {
	f := newFakeAPI(t, fakeConfig{Dialect: DialectOAuth2, ClientID: "robot", ClientSecret: "s3cret", Grants: allGrants})
	st := &FileStore{Dir: t.TempDir()}
	tc := newFlowClient(t, f, st, nil, WithLockDir(filepath.Join(t.TempDir(), "locks")))
	if _, err := tc.LoginClientCredentials(t.Context()); err != nil {
		t.Fatalf("LoginClientCredentials: %v", err)
	}
	unlock, err := tc.lock(t.Context()) // another process, refreshing
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- tc.Logout(t.Context()) }()
	select {
	case <-tc.events.seen(EventLockWait):
	case err := <-done:
		unlock()
		t.Fatalf("Logout returned (%v) while another process held the session's lock", err)
	case <-time.After(lockWaitBound):
		t.Fatal("Logout never said it waits for the lock")
	}
	if _, err := st.Load(t.Context(), tc.Key()); err != nil {
		t.Errorf("the session went before the lock was free: %v", err)
	}
	unlock()
	if err := <-done; err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if _, err := st.Load(t.Context(), tc.Key()); !errors.Is(err, ErrNoSession) {
		t.Errorf("the session is still stored after logout: %v", err)
	}
}
