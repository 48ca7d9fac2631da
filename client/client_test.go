package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testClient is a Client wired to a fakeAPI with a manual clock and an
// event log.
type testClient struct {
	*Client
	clock  *manualClock
	events *eventRecorder
	store  Store
}

// newTestClient returns a client for alice at f. A nil store is a
// MemoryStore. opts come after the defaults, so they win.
func newTestClient(tb testing.TB, f *fakeAPI, p Profile, st Store, opts ...Option) *testClient {
	tb.Helper()
	if st == nil {
		st = NewMemoryStore()
	}
	tc := &testClient{clock: newManualClock(f.Now()), events: &eventRecorder{}, store: st}
	all := append([]Option{WithHTTPClient(f.Client()), WithClock(tc.clock), WithEvents(tc.events.add)}, opts...)
	c, err := New(f.URL, "alice", p, st, all...)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tc.Client = c
	return tc
}

func builtinProfile(tb testing.TB, name string) Profile {
	tb.Helper()
	p, ok := BuiltinProfiles()[name]
	if !ok {
		tb.Fatalf("no built-in profile %q", name)
	}
	return p
}

func (tc *testClient) login(tb testing.TB) Session {
	tb.Helper()
	s, err := tc.Login(tb.Context(), "pw")
	if err != nil {
		tb.Fatalf("Login: %v", err)
	}
	return s
}

// do sends req through the client's Transport and returns the status and
// body.
func (tc *testClient) do(tb testing.TB, req *http.Request) (int, string) {
	tb.Helper()
	return doRequest(tb, tc.HTTPClient(), req)
}

func doRequest(tb testing.TB, hc *http.Client, req *http.Request) (int, string) {
	tb.Helper()
	resp, err := hc.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read body: %v", err)
	}
	return resp.StatusCode, string(body)
}

func newTestRequest(tb testing.TB, method, url string, body io.Reader) *http.Request {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), method, url, body)
	if err != nil {
		tb.Fatalf("NewRequest: %v", err)
	}
	return req
}

// hookStore wraps a Store to watch its calls.
type hookStore struct {
	Store
	afterSave func(key string, s Session)
	onLoad    func(key string)
}

func (h *hookStore) Load(ctx context.Context, key string) (Session, error) {
	if h.onLoad != nil {
		h.onLoad(key)
	}
	return h.Store.Load(ctx, key)
}

func (h *hookStore) Save(ctx context.Context, key string, s Session) error {
	err := h.Store.Save(ctx, key, s)
	if err == nil && h.afterSave != nil {
		h.afterSave(key, s)
	}
	return err
}

// waitClosed waits for ch to close, at most ten seconds.
func waitClosed(tb testing.TB, ch <-chan struct{}, what string) {
	tb.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		tb.Fatalf("timed out waiting for %s", what)
	}
}

func TestTokenProactiveRefresh(t *testing.T) {
	const ttl = 5 * time.Minute
	tests := []struct {
		name        string
		advance     time.Duration
		wantRefresh bool
	}{
		{"fresh token", 0, false},
		{"a second before the skew", ttl - DefaultSkew - time.Second, false},
		{"exactly at the skew", ttl - DefaultSkew, true},
		{"past exp", ttl + time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t, fakeConfig{Rotate: true, SendExpiresIn: true, AccessTTL: ttl})
			tc := newTestClient(t, f, builtinProfile(t, "tokenlab"), nil)
			s := tc.login(t)
			if want := fakeEpoch.Add(ttl); !s.AccessExpiry.Equal(want) {
				t.Fatalf("AccessExpiry = %v, want %v (expires_in by the client's clock)", s.AccessExpiry, want)
			}
			tc.clock.advance(tt.advance)
			f.advance(tt.advance)

			tok, err := tc.Token(t.Context())
			if err != nil {
				t.Fatalf("Token: %v", err)
			}
			if got := f.refreshes.Load(); got != map[bool]int64{false: 0, true: 1}[tt.wantRefresh] {
				t.Fatalf("server saw %d refreshes, want refresh=%v", got, tt.wantRefresh)
			}
			if (tok != s.AccessToken) != tt.wantRefresh {
				t.Fatalf("Token changed=%v, want %v", tok != s.AccessToken, tt.wantRefresh)
			}
			if !f.validAccess(tok) {
				t.Fatalf("the server does not accept the token Token returned")
			}
			stored, err := tc.store.Load(t.Context(), tc.Key())
			if err != nil {
				t.Fatalf("store Load: %v", err)
			}
			if stored.AccessToken != tok {
				t.Errorf("the store holds another access token than Token returned")
			}
			if tt.wantRefresh {
				if stored.RefreshToken == s.RefreshToken || stored.Refreshes != 1 {
					t.Errorf("stored refresh token rotated=%v, Refreshes=%d; want the rotated one and 1",
						stored.RefreshToken != s.RefreshToken, stored.Refreshes)
				}
				if want := tc.clock.Now().Add(ttl); !stored.AccessExpiry.Equal(want) {
					t.Errorf("new AccessExpiry = %v, want %v", stored.AccessExpiry, want)
				}
			}
			// A second call does not refresh again.
			if tok2, err := tc.Token(t.Context()); err != nil || tok2 != tok {
				t.Errorf("second Token = (changed %v, %v), want the same token", tok2 != tok, err)
			}
			if got := f.refreshes.Load(); got > 1 {
				t.Errorf("server saw %d refreshes after a second Token", got)
			}
		})
	}
}

// TestAccessExpiry checks which clock an access token's expiry follows:
// the server's, as its Date header tells it (expires_in counts from the
// server's now, exp is in the server's time); without a Date header,
// expires_in counts from the client's clock.
func TestAccessExpiry(t *testing.T) {
	const ttl = 5 * time.Minute
	tests := []struct {
		name          string
		sendExpiresIn bool
		noDate        bool
		serverAhead   time.Duration
		want          func(client, server time.Time) time.Time
	}{
		{"expires_in, server clock an hour ahead", true, false, time.Hour, func(_, s time.Time) time.Time { return s.Add(ttl) }},
		{"expires_in, server clock an hour behind", true, false, -time.Hour, func(_, s time.Time) time.Time { return s.Add(ttl) }},
		{"expires_in without a Date header: the client's clock", true, true, time.Hour, func(c, _ time.Time) time.Time { return c.Add(ttl) }},
		{"no expires_in: the JWT's exp", false, false, time.Hour, func(_, s time.Time) time.Time { return s.Add(ttl) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t, fakeConfig{SendExpiresIn: tt.sendExpiresIn, NoDate: tt.noDate, AccessTTL: ttl})
			tc := newTestClient(t, f, builtinProfile(t, "tokenlab"), nil)
			f.advance(tt.serverAhead)
			s := tc.login(t)
			if want := tt.want(tc.clock.Now(), f.Now()); !s.AccessExpiry.Equal(want) {
				t.Errorf("AccessExpiry = %v, want %v", s.AccessExpiry, want)
			}
			if want := f.Now().Add(24 * time.Hour); !s.RefreshExpiry.Equal(want) {
				t.Errorf("RefreshExpiry = %v, want the refresh JWT's exp %v", s.RefreshExpiry, want)
			}
		})
	}
}

// TestRotationSavedBeforeUse checks the order inside a refresh: the
// rotated refresh token reaches the store before the client switches to
// the new access token, and before the rotation event and Token's return.
func TestRotationSavedBeforeUse(t *testing.T) {
	f := newFakeAPI(t, fakeConfig{Rotate: true, SendExpiresIn: true})
	var (
		mu    sync.Mutex
		order []string
		tc    *testClient
		old   Session
	)
	note := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		order = append(order, s)
	}
	mem := NewMemoryStore()
	st := &hookStore{Store: mem, afterSave: func(_ string, s Session) {
		note("save")
		if old.AccessToken == "" {
			return // the login
		}
		if s.RefreshToken == old.RefreshToken {
			t.Errorf("the refresh save does not hold the rotated refresh token")
		}
		if cur, _, _ := tc.snapshot(); cur.AccessToken != old.AccessToken {
			t.Errorf("the client used the new access token before it was saved")
		}
	}}
	tc = newTestClient(t, f, builtinProfile(t, "tokenlab"), st, WithEvents(func(e Event) {
		note("event:" + e.Kind)
		if e.Kind == EventRotation {
			stored, err := mem.Load(context.Background(), tc.Key())
			if err != nil || stored.RefreshToken == old.RefreshToken {
				t.Errorf("at the rotation event the store holds the old refresh token (err %v)", err)
			}
		}
	}))
	old = tc.login(t)
	mu.Lock()
	order = nil
	mu.Unlock()

	tc.clock.advance(time.Hour)
	f.advance(time.Hour)
	tok, err := tc.Token(t.Context())
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	note("returned")
	if tok == old.AccessToken {
		t.Fatalf("Token did not refresh")
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"event:refresh", "event:request", "event:response", "save", "event:store_write", "event:rotation", "returned"}
	if !slices.Equal(order, want) {
		t.Errorf("order = %q\nwant    %q", order, want)
	}
}

func TestTransportReactiveRefresh(t *testing.T) {
	const payload = `{"note":"hello"}`
	tests := []struct {
		name       string
		method     string
		body       func() io.Reader
		wantStatus int
		wantLog    []string // the server's "status body" per protected request
	}{
		{"GET without body", http.MethodGet, func() io.Reader { return nil }, 200, []string{"401 ", "200 "}},
		{"POST replayable body", http.MethodPost, func() io.Reader { return bytes.NewReader([]byte(payload)) }, 200,
			[]string{"401 " + payload, "200 " + payload}},
		{"POST body that cannot be replayed", http.MethodPost, func() io.Reader { return io.NopCloser(strings.NewReader(payload)) }, 401,
			[]string{"401 " + payload}},
	}
	// net/http's own Transport rewinds a spent body through GetBody by
	// itself; a Base that does not shows that client.Transport does.
	bases := []struct {
		name string
		base func(f *fakeAPI) http.RoundTripper
	}{
		{"net-http base", func(*fakeAPI) http.RoundTripper { return nil }},
		{"base that does not rewind", func(f *fakeAPI) http.RoundTripper { return noRewindRT{f.Client().Transport} }},
	}
	for _, tt := range tests {
		for _, bt := range bases {
			t.Run(tt.name+"/"+bt.name, func(t *testing.T) {
				f := newFakeAPI(t, fakeConfig{Rotate: true, SendExpiresIn: true})
				tc := newTestClient(t, f, builtinProfile(t, "tokenlab"), nil)
				s := tc.login(t)
				// The server's clock passes exp; the client's does not.
				f.advance(10 * time.Minute)

				req := newTestRequest(t, tt.method, f.URL+"/protected", tt.body())
				hc := &http.Client{Transport: &Transport{Client: tc.Client, Base: bt.base(f)}}
				status, body := doRequest(t, hc, req)
				if status != tt.wantStatus {
					t.Fatalf("status = %d (%s), want %d", status, body, tt.wantStatus)
				}
				if got := f.protectedLog(); !slices.Equal(got, tt.wantLog) {
					t.Errorf("server saw %q, want %q", got, tt.wantLog)
				}
				if req.Header.Get("Authorization") != "" {
					t.Errorf("the Transport changed the caller's request")
				}
				if tt.wantStatus != 200 {
					return
				}
				if got := f.refreshes.Load(); got != 1 {
					t.Errorf("server saw %d refreshes, want 1", got)
				}
				var ans struct{ Body string }
				if err := json.Unmarshal([]byte(body), &ans); err != nil || ans.Body != strings.TrimPrefix(tt.wantLog[1], "200 ") {
					t.Errorf("answer %s (%v): the retry did not carry the body", body, err)
				}
				cur, err := tc.Session(t.Context())
				if err != nil || cur.AccessToken == s.AccessToken || cur.RefreshToken == s.RefreshToken {
					t.Errorf("after the retry the session is not the refreshed one (err %v)", err)
				}
			})
		}
	}
}

// noRewindRT reads each request's body as given, as a logging or signing
// RoundTripper would, and sends a copy that net/http cannot rewind.
type noRewindRT struct{ next http.RoundTripper }

func (n noRewindRT) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	if req.Body != nil {
		data, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		r.Body, r.GetBody, r.ContentLength = io.NopCloser(bytes.NewReader(data)), nil, int64(len(data))
	}
	return n.next.RoundTrip(r)
}

// countingRT counts the requests that entered next and closes all once n
// have.
type countingRT struct {
	next    http.RoundTripper
	n       int64
	entered atomic.Int64
	all     chan struct{}
}

func (c *countingRT) RoundTrip(req *http.Request) (*http.Response, error) {
	if c.entered.Add(1) == c.n {
		close(c.all)
	}
	return c.next.RoundTrip(req)
}

func TestTransportSingleFlight(t *testing.T) {
	const n = 100
	tests := []struct {
		name        string
		proactive   bool // the client's clock is past exp too
		wantRejects int64
	}{
		{"reactive: the server rejects the token", false, n},
		{"proactive: the client's clock is past exp", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Reactively, the server sends no Date header: with one, the
			// first rejection would tell the others that the server's
			// clock moved, and they would refresh before sending.
			f := newFakeAPI(t, fakeConfig{Rotate: true, SendExpiresIn: true, NoDate: !tt.proactive})
			tc := newTestClient(t, f, builtinProfile(t, "tokenlab"), nil)
			tc.login(t)
			f.advance(10 * time.Minute)
			if tt.proactive {
				tc.clock.advance(10 * time.Minute)
			}
			rt := &countingRT{next: &Transport{Client: tc.Client}, n: n, all: make(chan struct{})}
			hc := &http.Client{Transport: rt}
			// The refresh is held until every request is in flight (and,
			// reactively, has been rejected), so all of them need it.
			allRejected := make(chan struct{})
			var once sync.Once
			f.setOverride("protected", func(w http.ResponseWriter, r *http.Request) {
				f.handleProtected(w, r)
				if f.rejects.Load() == n {
					once.Do(func() { close(allRejected) })
				}
			})
			gate := rt.all
			if !tt.proactive {
				gate = allRejected
			}
			f.setOnRefresh(func(int64) {
				select {
				case <-gate:
				case <-time.After(10 * time.Second):
					t.Errorf("not all requests arrived before the refresh")
				}
			})

			start := make(chan struct{})
			errs := make(chan error, n)
			var wg sync.WaitGroup
			for range n {
				wg.Go(func() {
					<-start
					req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, f.URL+"/protected", nil)
					resp, err := hc.Do(req)
					if err != nil {
						errs <- err
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						errs <- errors.New(resp.Status)
					}
				})
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("request failed: %v", err)
			}
			if got := f.refreshes.Load(); got != 1 {
				t.Errorf("server saw %d refreshes, want 1", got)
			}
			if got := f.reuses.Load(); got != 0 {
				t.Errorf("server saw %d reused refresh tokens", got)
			}
			if got := f.served.Load(); got != n {
				t.Errorf("server served %d requests, want %d", got, n)
			}
			if got := f.rejects.Load(); got != tt.wantRejects {
				t.Errorf("server rejected %d requests, want %d", got, tt.wantRejects)
			}
		})
	}
}

// foreignAPI answers 403 to an expired token, never rotates, sends no
// expiry besides the JWT's exp and names everything its own way.
var foreignAPI = fakeConfig{
	Paths:        Paths{Login: "/api/auth/signin", Refresh: "/api/auth/renew", Protected: "/api/data"},
	Fields:       Fields{Username: "login", Password: "secret", AccessToken: "jwt", RefreshToken: "renew", RefreshRequest: "renew_token"},
	RejectStatus: http.StatusForbidden,
}

func TestForeignAPIProfileFile(t *testing.T) {
	tests := []struct {
		name, yaml string
	}{
		{"extends seed-json", `# the seed's settings, with this API's names
extends: seed-json
name: foreign
paths:
  login: /api/auth/signin
  refresh: /api/auth/renew
  protected: /api/data
fields:
  username: login
  password: secret
  access_token: jwt
  refresh_token: renew
  refresh_request: renew_token
`},
		{"fully specified", `name: foreign-full
dialect: json
transport: bearer
paths: {login: /api/auth/signin, refresh: /api/auth/renew, protected: /api/data}
fields: {username: login, password: secret, access_token: jwt, refresh_token: renew, refresh_request: renew_token}
reject_statuses: [401, 403]
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "foreign.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			p, err := ResolveProfile(path)
			if err != nil {
				t.Fatalf("ResolveProfile: %v", err)
			}
			f := newFakeAPI(t, foreignAPI)
			tc := newTestClient(t, f, p, nil)
			s := tc.login(t)
			if want := f.Now().Add(f.cfg.AccessTTL).Truncate(time.Second); !s.AccessExpiry.Equal(want) {
				t.Errorf("AccessExpiry = %v, want the JWT's exp %v", s.AccessExpiry, want)
			}
			f.advance(time.Hour) // the server now answers 403; the client's clock says valid

			status, body := tc.do(t, newTestRequest(t, http.MethodGet, f.URL+p.Paths.Protected, nil))
			if status != http.StatusOK {
				t.Fatalf("status = %d (%s), want 200", status, body)
			}
			if got, want := f.protectedLog(), []string{"403 ", "200 "}; !slices.Equal(got, want) {
				t.Errorf("server saw %q, want %q", got, want)
			}
			if got := f.refreshes.Load(); got != 1 {
				t.Errorf("server saw %d refreshes, want 1", got)
			}
			cur, err := tc.Session(t.Context())
			if err != nil || cur.RefreshToken != s.RefreshToken || cur.AccessToken == s.AccessToken {
				t.Errorf("after a non-rotating refresh: new access %v, same refresh %v (err %v)",
					cur.AccessToken != s.AccessToken, cur.RefreshToken == s.RefreshToken, err)
			}
			if n := tc.events.count(EventRotation); n != 0 {
				t.Errorf("%d rotation events from a server that does not rotate", n)
			}
		})
	}
}

func TestSeedCookieProfile(t *testing.T) {
	f := newFakeAPI(t, fakeConfig{Cookies: true, RejectStatus: http.StatusForbidden, Rotate: true})
	tc := newTestClient(t, f, builtinProfile(t, "seed-cookie"), nil)
	s := tc.login(t)
	if !f.validAccess(s.AccessToken) || s.RefreshToken == "" {
		t.Fatalf("login did not take the tokens from the cookies: %+v", s)
	}
	f.advance(time.Hour)

	status, body := tc.do(t, newTestRequest(t, http.MethodGet, f.URL+"/protected", nil))
	if status != http.StatusOK {
		t.Fatalf("status = %d (%s), want 200", status, body)
	}
	if got, want := f.protectedLog(), []string{"403 ", "200 "}; !slices.Equal(got, want) {
		t.Errorf("server saw %q, want %q", got, want)
	}
	if got := f.authHeaders.Load(); got != 0 {
		t.Errorf("%d requests carried an Authorization header; tokens travel as cookies", got)
	}
	if got := f.refreshes.Load(); got != 1 {
		t.Errorf("server saw %d refreshes, want 1", got)
	}
	cur, err := tc.Session(t.Context())
	if err != nil || cur.RefreshToken == s.RefreshToken {
		t.Fatalf("the rotated refresh cookie was not kept (err %v)", err)
	}
	if used, _ := f.refreshState(s.RefreshToken); !used {
		t.Errorf("the refresh did not spend the old refresh cookie")
	}
	if err := tc.Logout(t.Context()); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if _, revoked := f.refreshState(cur.RefreshToken); !revoked {
		t.Errorf("Logout did not send the refresh cookie to be revoked")
	}
}

func TestOAuth2Profile(t *testing.T) {
	const id, secret = "tokenlab-cli", "s3:cr+t/= x" // characters that Basic auth must form-encode
	tests := []struct {
		name         string
		serverWants  string // fakeConfig.ClientAuth
		clientSends  string // OAuthSettings.ClientAuth
		issuer       bool   // the profile names the issuer
		wantAuth     string
		wantLoginErr string
	}{
		{"HTTP Basic", "", "", false, "basic", ""},
		{"HTTP Basic, explicit issuer", "basic", "basic", true, "basic", ""},
		{"form post", "post", "post", false, "post", ""},
		{"server wants post, client sends Basic", "post", "basic", false, "basic", "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t, fakeConfig{Dialect: DialectOAuth2, Rotate: true, ClientID: id, ClientSecret: secret, ClientAuth: tt.serverWants})
			p := builtinProfile(t, "oauth2")
			p.OAuth = OAuthSettings{ClientID: id, ClientSecret: secret, ClientAuth: tt.clientSends, Scope: "openid"}
			if tt.issuer {
				p.OAuth.Issuer = f.URL
			}
			tc := newTestClient(t, f, p, nil)
			s, err := tc.Login(t.Context(), "pw")
			if tt.wantLoginErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantLoginErr) {
					t.Fatalf("Login error = %v, want one mentioning %s", err, tt.wantLoginErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Login: %v", err)
			}
			next, err := tc.Refresh(t.Context())
			if err != nil {
				t.Fatalf("Refresh: %v", err)
			}
			if next.AccessToken == s.AccessToken || next.RefreshToken == s.RefreshToken {
				t.Errorf("the refresh_token grant did not bring new tokens")
			}
			status, body := tc.do(t, newTestRequest(t, http.MethodGet, f.URL+"/protected", nil))
			if status != http.StatusOK {
				t.Errorf("protected: %d %s", status, body)
			}
			if err := tc.Logout(t.Context()); err != nil {
				t.Fatalf("Logout: %v", err)
			}
			if _, revoked := f.refreshState(next.RefreshToken); !revoked {
				t.Errorf("Logout did not revoke the refresh token at the revocation_endpoint")
			}
			if _, err := tc.store.Load(t.Context(), tc.Key()); !errors.Is(err, ErrNoSession) {
				t.Errorf("after Logout the store Load = %v, want ErrNoSession", err)
			}
			if got, want := f.clientAuthLog(), []string{tt.wantAuth, tt.wantAuth, tt.wantAuth}; !slices.Equal(got, want) {
				t.Errorf("client authentication per request = %q, want %q", got, want)
			}
			discoveries := 0
			for _, e := range tc.events.all() {
				if e.Kind == EventRequest && strings.HasSuffix(e.URL, "/.well-known/openid-configuration") {
					discoveries++
				}
			}
			if discoveries != 1 {
				t.Errorf("%d discovery requests, want 1 (cached)", discoveries)
			}
		})
	}
}

func TestRefreshRefusedEndsSession(t *testing.T) {
	tests := []struct {
		name      string
		spoil     func(f *fakeAPI, s Session)
		transport bool // go through the Transport rather than Refresh
		wantCode  string
	}{
		{"reused", func(f *fakeAPI, s Session) { f.spend(s.RefreshToken) }, false, "token_reused"},
		{"revoked", func(f *fakeAPI, s Session) { f.revoke(s.RefreshToken) }, false, "token_revoked"},
		{"expired", func(f *fakeAPI, s Session) { f.advance(25 * time.Hour) }, false, "token_expired"},
		{"reused, met by the Transport", func(f *fakeAPI, s Session) { f.spend(s.RefreshToken); f.advance(time.Hour) }, true, "token_reused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t, fakeConfig{Rotate: true, SendExpiresIn: true})
			tc := newTestClient(t, f, builtinProfile(t, "tokenlab"), nil)
			tt.spoil(f, tc.login(t))

			var err error
			if tt.transport {
				var resp *http.Response
				resp, err = tc.HTTPClient().Do(newTestRequest(t, http.MethodGet, f.URL+"/protected", nil))
				if err == nil {
					resp.Body.Close()
					t.Fatalf("the Transport answered %s, want an error", resp.Status)
				}
			} else {
				_, err = tc.Refresh(t.Context())
			}
			if !errors.Is(err, ErrLoginRequired) {
				t.Fatalf("err = %v, want ErrLoginRequired", err)
			}
			if !strings.Contains(err.Error(), tt.wantCode) {
				t.Errorf("err = %q, want the server's reason %q", err, tt.wantCode)
			}
			var ae *APIError
			if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
				t.Errorf("err does not carry the server's 401 as an *APIError: %v", err)
			}
			if _, err := tc.store.Load(t.Context(), tc.Key()); !errors.Is(err, ErrNoSession) {
				t.Errorf("store Load = %v, want ErrNoSession: the session must be deleted", err)
			}
			if n := tc.events.count(EventSessionEnded); n != 1 {
				t.Errorf("%d session_ended events, want 1", n)
			}
			if _, err := tc.Token(t.Context()); !errors.Is(err, ErrLoginRequired) {
				t.Errorf("Token after the end = %v, want ErrLoginRequired", err)
			}
		})
	}
}

func TestEventsHoldNoTokens(t *testing.T) {
	f := newFakeAPI(t, fakeConfig{Rotate: true, SendExpiresIn: true})
	tc := newTestClient(t, f, builtinProfile(t, "tokenlab"), nil)
	tc.login(t)
	// A reactive refresh through the Transport, then a proactive one.
	f.advance(time.Hour)
	if status, body := tc.do(t, newTestRequest(t, http.MethodPost, f.URL+"/protected", strings.NewReader("x"))); status != 200 {
		t.Fatalf("protected: %d %s", status, body)
	}
	tc.clock.advance(2 * time.Hour)
	f.advance(time.Hour)
	if _, err := tc.Token(t.Context()); err != nil {
		t.Fatalf("Token: %v", err)
	}
	if err := tc.Logout(t.Context()); err != nil {
		t.Fatalf("Logout: %v", err)
	}

	events := tc.events.all()
	wantCounts := map[string]int{EventLogin: 1, EventRefresh: 2, EventRotation: 2, EventStoreWrite: 3, EventLogout: 1, EventSessionEnded: 0}
	for kind, want := range wantCounts {
		if got := tc.events.count(kind); got != want {
			t.Errorf("%d %s events, want %d", got, kind, want)
		}
	}
	// login, refresh, protected (rejected), protected retry, refresh, logout.
	if got := tc.events.count(EventRequest); got != 6 {
		t.Errorf("%d request events, want 6", got)
	}
	if req, resp := tc.events.count(EventRequest), tc.events.count(EventResponse); req != resp {
		t.Errorf("%d request events but %d response events", req, resp)
	}
	for _, e := range events {
		if e.At.IsZero() {
			t.Errorf("event %+v has no time", e)
		}
		if e.Kind == EventResponse && e.Status == 0 {
			t.Errorf("response event without status: %+v", e)
		}
	}
	// Not even a piece of a token: any 12 characters of one.
	const window = 12
	tokens := f.issuedTokens()
	if len(tokens) != 6 {
		t.Fatalf("the server issued %d tokens, want 6 (3 access, 3 refresh)", len(tokens))
	}
	for _, e := range events {
		data, _ := json.Marshal(e)
		if strings.Contains(string(data), `"pw"`) {
			t.Errorf("event %s holds the password", data)
		}
		for _, tok := range tokens {
			for i := 0; i+window <= len(tok); i++ {
				if strings.Contains(string(data), tok[i:i+window]) {
					t.Errorf("event %s holds a piece of a token: %q", data, tok[i:i+window])
					break
				}
			}
		}
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name string
		// run does the bad thing and returns its error; it may check more.
		run  func(t *testing.T) error
		want []string // substrings of the error
	}{
		{"unreachable server", func(t *testing.T) error {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			ln.Close()
			c, err := New("http://"+addr, "alice", builtinProfile(t, "tokenlab"), NewMemoryStore())
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Login(t.Context(), "pw")
			return err
		}, []string{"cannot reach", "is the server running"}},
		{"server URL without a scheme", func(t *testing.T) error {
			_, err := New("localhost:8080", "alice", builtinProfile(t, "tokenlab"), NewMemoryStore())
			return err
		}, []string{"localhost:8080", "http://"}},
		{"wrong password", func(t *testing.T) error {
			f := newFakeAPI(t, fakeConfig{})
			_, err := newTestClient(t, f, builtinProfile(t, "tokenlab"), nil).Login(t.Context(), "nope")
			var ae *APIError
			if !errors.As(err, &ae) || ae.Status != 401 {
				t.Errorf("err %v is no *APIError 401", err)
			}
			return err
		}, []string{"401", "invalid_credentials"}},
		{"login answer is not JSON", func(t *testing.T) error {
			f := newFakeAPI(t, fakeConfig{})
			f.setOverride("login", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				io.WriteString(w, "<html>down for maintenance</html>")
			})
			_, err := newTestClient(t, f, builtinProfile(t, "tokenlab"), nil).Login(t.Context(), "pw")
			return err
		}, []string{"not a JSON object", "maintenance"}},
		{"login answer larger than 1 MiB", func(t *testing.T) error {
			f := newFakeAPI(t, fakeConfig{})
			f.setOverride("login", func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, `{"accessToken":"`+strings.Repeat("a", 1<<20)+`"}`)
			})
			_, err := newTestClient(t, f, builtinProfile(t, "tokenlab"), nil).Login(t.Context(), "pw")
			return err
		}, []string{"larger than 1048576 bytes"}},
		{"login answer without a refresh token", func(t *testing.T) error {
			f := newFakeAPI(t, fakeConfig{OmitRefresh: true})
			tc := newTestClient(t, f, builtinProfile(t, "tokenlab"), nil)
			_, err := tc.Login(t.Context(), "pw")
			if _, lerr := tc.store.Load(t.Context(), tc.Key()); !errors.Is(lerr, ErrNoSession) {
				t.Errorf("a session without refresh token was stored (Load: %v)", lerr)
			}
			return err
		}, []string{"no refresh token"}},
		{"refresh answered 500", func(t *testing.T) error {
			f := newFakeAPI(t, fakeConfig{Rotate: true})
			tc := newTestClient(t, f, builtinProfile(t, "tokenlab"), nil)
			s := tc.login(t)
			f.setOverride("refresh", func(w http.ResponseWriter, r *http.Request) {
				fakeWriteJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal", "message": "database is down"})
			})
			_, err := tc.Refresh(t.Context())
			if errors.Is(err, ErrLoginRequired) {
				t.Errorf("a 500 is not a refusal: err %v wraps ErrLoginRequired", err)
			}
			var ae *APIError
			if !errors.As(err, &ae) || ae.Status != 500 {
				t.Errorf("err %v is no *APIError 500", err)
			}
			if stored, lerr := tc.store.Load(t.Context(), tc.Key()); lerr != nil || stored.RefreshToken != s.RefreshToken {
				t.Errorf("the session was not kept after a 500 (Load: %v)", lerr)
			}
			if cur, serr := tc.Session(t.Context()); serr != nil || cur.AccessToken != s.AccessToken {
				t.Errorf("the client forgot its session after a 500 (%v)", serr)
			}
			if n := tc.events.count(EventSessionEnded); n != 0 {
				t.Errorf("%d session_ended events after a 500", n)
			}
			return err
		}, []string{"500", "database is down"}},
		{"profile file with an unknown key", func(t *testing.T) error {
			path := filepath.Join(t.TempDir(), "typo.yaml")
			os.WriteFile(path, []byte("extends: seed-json\nname: typo\nrefersh_path: /renew\n"), 0o600)
			_, err := ResolveProfile(path)
			return err
		}, []string{"typo.yaml", "line 3", "refersh_path"}},
		{"unknown profile name", func(t *testing.T) error {
			_, err := ResolveProfile("no-such-profile")
			return err
		}, []string{`unknown profile "no-such-profile"`, "seed-json", "oauth2"}},
		{"missing profile file", func(t *testing.T) error {
			_, err := ResolveProfile(filepath.Join(t.TempDir(), "absent.yaml"))
			return err
		}, []string{"absent.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run(t)
			if err == nil {
				t.Fatalf("no error, want one mentioning %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestCrossProcessLock plays two processes: two Clients with their own
// FileStore on one folder. Client A's refresh is held at the server until
// B has read the store, so both want to refresh the same expired token.
func TestCrossProcessLock(t *testing.T) {
	tests := []struct {
		name          string
		lock          bool
		wantRefreshes int64
	}{
		{"with the lock: one refresh, shared", true, 1},
		{"without the lock: two refreshes and a reuse", false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t, fakeConfig{Rotate: true, SendExpiresIn: true})
			dir := t.TempDir()
			var opts []Option
			if tt.lock {
				opts = append(opts, WithLockDir(filepath.Join(dir, "locks")))
			}
			a := newTestClient(t, f, builtinProfile(t, "tokenlab"), &FileStore{Dir: dir}, opts...)
			bLoaded := make(chan struct{})
			var once sync.Once
			bStore := &hookStore{Store: &FileStore{Dir: dir}, onLoad: func(string) { once.Do(func() { close(bLoaded) }) }}
			b := newTestClient(t, f, builtinProfile(t, "tokenlab"), bStore, opts...)
			old := a.login(t)
			for _, c := range []*manualClock{a.clock, b.clock} {
				c.advance(time.Hour)
			}
			f.advance(time.Hour)

			inRefresh, second := make(chan struct{}), make(chan struct{})
			f.setOnRefresh(func(n int64) {
				switch {
				case n == 1:
					close(inRefresh)
					// Hold A (and, with the lock, its lock) until B has read the
					// store; without the lock, until B's own refresh arrives.
					wait := second
					if tt.lock {
						wait = bLoaded
					}
					select {
					case <-wait:
					case <-time.After(10 * time.Second):
						t.Errorf("client B never got that far")
					}
				case n == 2 && !tt.lock:
					close(second)
				}
			})

			type result struct {
				tok string
				err error
			}
			resA, resB := make(chan result, 1), make(chan result, 1)
			go func() { tok, err := a.Token(t.Context()); resA <- result{tok, err} }()
			waitClosed(t, inRefresh, "client A's refresh")
			go func() { tok, err := b.Token(t.Context()); resB <- result{tok, err} }()
			ra, rb := <-resA, <-resB

			if got := f.refreshes.Load(); got != tt.wantRefreshes {
				t.Errorf("server saw %d refreshes, want %d", got, tt.wantRefreshes)
			}
			if !tt.lock {
				if got := f.reuses.Load(); got != 1 {
					t.Errorf("server saw %d reuses, want 1", got)
				}
				if errors.Is(ra.err, ErrLoginRequired) == errors.Is(rb.err, ErrLoginRequired) {
					t.Errorf("want exactly one client to lose its session: A %v, B %v", ra.err, rb.err)
				}
				return
			}
			if ra.err != nil || rb.err != nil {
				t.Fatalf("Token: A %v, B %v", ra.err, rb.err)
			}
			if ra.tok != rb.tok || ra.tok == old.AccessToken {
				t.Errorf("A and B hold different or old tokens (same %v, refreshed %v)", ra.tok == rb.tok, ra.tok != old.AccessToken)
			}
			if !f.validAccess(ra.tok) {
				t.Errorf("the shared token is not valid at the server")
			}
			if f.reuses.Load() != 0 {
				t.Errorf("server saw a reuse")
			}
			stored, err := (&FileStore{Dir: dir}).Load(t.Context(), a.Key())
			if err != nil || stored.AccessToken != ra.tok {
				t.Errorf("the store does not hold the shared token (err %v)", err)
			}
		})
	}
}

// TestProactiveRefreshFailureKeepsValidToken: a proactive refresh is
// ahead of time, so when it fails for a reason that is not a refusal (a
// 500, say) the access token, still valid for a while, must still be used.
func TestProactiveRefreshFailureKeepsValidToken(t *testing.T) {
	const ttl = 5 * time.Minute
	tests := []struct {
		name string
		use  func(t *testing.T, tc *testClient, f *fakeAPI, old Session)
	}{
		{"Token", func(t *testing.T, tc *testClient, _ *fakeAPI, old Session) {
			tok, err := tc.Token(t.Context())
			if err != nil || tok != old.AccessToken {
				t.Errorf("Token = (same token %v, %v), want the still-valid token", tok == old.AccessToken, err)
			}
		}},
		{"Transport", func(t *testing.T, tc *testClient, f *fakeAPI, _ Session) {
			resp, err := tc.HTTPClient().Do(newTestRequest(t, http.MethodGet, f.URL+"/protected", nil))
			if err != nil {
				t.Fatalf("the request failed though its token has 20s left: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status = %s, want 200", resp.Status)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t, fakeConfig{Rotate: true, SendExpiresIn: true, AccessTTL: ttl})
			tc := newTestClient(t, f, builtinProfile(t, "tokenlab"), nil)
			old := tc.login(t)
			f.setOverride("refresh", func(w http.ResponseWriter, r *http.Request) {
				f.refreshes.Add(1)
				fakeWriteJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal"})
			})
			left := 20 * time.Second // inside the 30s skew, before exp
			tc.clock.advance(ttl - left)
			f.advance(ttl - left)

			tt.use(t, tc, f, old)
			if got := f.refreshes.Load(); got != 1 {
				t.Errorf("server saw %d refresh attempts, want 1", got)
			}
			if _, err := tc.store.Load(t.Context(), tc.Key()); err != nil {
				t.Errorf("the session was not kept: %v", err)
			}
		})
	}
}

// TestTransportEventPerExchange: each request the Transport sends is
// reported by one request event and one response event.
func TestTransportEventPerExchange(t *testing.T) {
	tests := []struct {
		name      string
		body      func() io.Reader
		wantPairs int
	}{
		{"rejected, refreshed and retried", func() io.Reader { return strings.NewReader("x") }, 2},
		{"rejected, body cannot be replayed", func() io.Reader { return io.NopCloser(strings.NewReader("x")) }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t, fakeConfig{SendExpiresIn: true})
			tc := newTestClient(t, f, builtinProfile(t, "tokenlab"), nil)
			tc.login(t)
			f.advance(time.Hour)
			before := len(tc.events.all())
			doRequest(t, tc.HTTPClient(), newTestRequest(t, http.MethodPost, f.URL+"/protected", tt.body()))
			var reqs, resps int
			for _, e := range tc.events.all()[before:] {
				if !strings.HasSuffix(e.URL, "/protected") {
					continue
				}
				switch e.Kind {
				case EventRequest:
					reqs++
				case EventResponse:
					resps++
				}
			}
			if reqs != tt.wantPairs || resps != tt.wantPairs {
				t.Errorf("%d request and %d response events for /protected, want %d of each", reqs, resps, tt.wantPairs)
			}
		})
	}
}

// TestTransportSingleFlightFailure: callers queued behind a refresh share
// its outcome when it fails too, so a failing auth server sees one refresh,
// not one per waiting request.
func TestTransportSingleFlightFailure(t *testing.T) {
	const n = 50
	tests := []struct {
		name          string
		status        int
		body          map[string]string
		loginRequired bool
	}{
		{"refused (401 token_revoked)", http.StatusUnauthorized, map[string]string{"error": "token_revoked"}, true},
		{"server error (500)", http.StatusInternalServerError, map[string]string{"error": "internal"}, false},
		{"unavailable (503)", http.StatusServiceUnavailable, map[string]string{"error": "maintenance"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// No Date header: every request must learn of the expiry from
			// its own rejection (with one, the first would tell the rest).
			f := newFakeAPI(t, fakeConfig{Rotate: true, SendExpiresIn: true, NoDate: true})
			tc := newTestClient(t, f, builtinProfile(t, "tokenlab"), nil)
			tc.login(t)
			f.advance(time.Hour)
			allRejected := make(chan struct{})
			var once sync.Once
			f.setOverride("protected", func(w http.ResponseWriter, r *http.Request) {
				f.handleProtected(w, r)
				if f.rejects.Load() == n {
					once.Do(func() { close(allRejected) })
				}
			})
			f.setOverride("refresh", func(w http.ResponseWriter, r *http.Request) {
				if f.refreshes.Add(1) == 1 { // hold the first until every request waits for it
					select {
					case <-allRejected:
					case <-time.After(10 * time.Second):
						t.Errorf("not all requests were rejected before the refresh")
					}
				}
				fakeWriteJSON(w, tt.status, tt.body)
			})
			hc := tc.HTTPClient()
			errs := make(chan error, n)
			var wg sync.WaitGroup
			for range n {
				wg.Go(func() {
					resp, err := hc.Do(newTestRequest(t, http.MethodGet, f.URL+"/protected", nil))
					if err == nil {
						resp.Body.Close()
						err = errors.New("no error: " + resp.Status)
					}
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if errors.Is(err, ErrLoginRequired) != tt.loginRequired {
					t.Errorf("err = %v, want login required %v", err, tt.loginRequired)
					break
				}
			}
			if got := f.refreshes.Load(); got != 1 {
				t.Errorf("the auth server saw %d refreshes for %d waiting requests, want 1", got, n)
			}
		})
	}
}

// TestTransportSendsTokenOnlyToItsServer: requests to other hosts, and
// redirects to them, go through untouched.
func TestTransportSendsTokenOnlyToItsServer(t *testing.T) {
	f := newFakeAPI(t, fakeConfig{SendExpiresIn: true})
	var (
		mu   sync.Mutex
		seen []string // Authorization and Cookie headers another host received
	)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization")+r.Header.Get("Cookie"))
		mu.Unlock()
		io.WriteString(w, "other")
	}))
	t.Cleanup(other.Close)
	f.setOverride("protected", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("away") {
			http.Redirect(w, r, other.URL+"/landing", http.StatusFound)
			return
		}
		f.handleProtected(w, r)
	})
	tests := []struct {
		name, profile, url string
		wantBody           string
	}{
		{"its own server", "tokenlab", f.URL + "/protected", `"ok":true`},
		{"another host", "tokenlab", other.URL + "/x", "other"},
		{"a redirect to another host", "tokenlab", f.URL + "/protected?away=1", "other"},
		{"another host, cookie profile", "seed-cookie", other.URL + "/x", "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			seen = nil
			mu.Unlock()
			tc := newTestClient(t, f, builtinProfile(t, tt.profile), nil)
			access, refresh := f.issue("alice", true)
			sess := Session{Server: tc.Server(), Profile: tt.profile, Username: "alice", AccessToken: access, RefreshToken: refresh}
			if err := tc.store.Save(t.Context(), tc.Key(), sess); err != nil {
				t.Fatal(err)
			}
			status, body := tc.do(t, newTestRequest(t, http.MethodGet, tt.url, nil))
			if status != http.StatusOK || !strings.Contains(body, tt.wantBody) {
				t.Fatalf("got %d %s, want 200 with %s", status, body, tt.wantBody)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, h := range seen {
				if h != "" {
					t.Errorf("another host received credentials: %q", h)
				}
			}
		})
	}
}

// TestReplay: Replay sends a refresh token as an attacker would and
// reports the server's answer, without touching the session.
func TestReplay(t *testing.T) {
	tests := []struct {
		name     string
		rotate   bool
		wantCode string // "" when the server accepts the replay
	}{
		{"spent token at a rotating server", true, "token_reused"},
		{"the same token at a server that does not rotate", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t, fakeConfig{Rotate: tt.rotate, SendExpiresIn: true})
			tc := newTestClient(t, f, builtinProfile(t, "tokenlab"), nil)
			old := tc.login(t)
			cur, err := tc.Refresh(t.Context())
			if err != nil {
				t.Fatalf("Refresh: %v", err)
			}
			err = tc.Replay(t.Context(), old.RefreshToken)
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("Replay = %v, want nil", err)
				}
			} else {
				var ae *APIError
				if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized || ae.Code != tt.wantCode {
					t.Fatalf("Replay = %v, want an *APIError 401 %s", err, tt.wantCode)
				}
				if errors.Is(err, ErrLoginRequired) {
					t.Errorf("Replay's refusal is about the replayed token, not the session: %v", err)
				}
			}
			stored, err := tc.store.Load(t.Context(), tc.Key())
			if err != nil || !sessionsEqual(stored, cur) {
				t.Errorf("Replay changed the stored session (err %v)", err)
			}
			if s, err := tc.Session(t.Context()); err != nil || !sessionsEqual(s, cur) {
				t.Errorf("Replay changed the client's session (err %v)", err)
			}
			if n := tc.events.count(EventSessionEnded) + tc.events.count(EventStoreWrite); n != 2 {
				t.Errorf("Replay wrote to the store or ended the session (%d events, want the 2 store writes of login and refresh)", n)
			}
		})
	}
}
