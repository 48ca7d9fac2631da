// Package tokenlabtest starts tokenlab's mock auth server inside a Go test,
// in the style of net/http/httptest, so that a test can put its own OAuth
// client (golang.org/x/oauth2, or any other) against a provider whose
// clock, lifetimes, rotation rules and failures it controls:
//
//	srv := tokenlabtest.NewServer(t, tokenlabtest.WithPolicy(func(p *tokenlabtest.Policy) {
//		p.AccessTTL = time.Minute
//	}))
//	app := srv.Client("my-app")        // a confidential client with a generated secret
//	srv.User("bob", "correct horse")   // a user who can log in
//	... point the code under test at srv.Issuer(), srv.TokenURL(), srv.APIURL() ...
//	srv.Advance(2 * time.Minute)       // the server's clock: the access token has expired
//	srv.Fault(tokenlabtest.Fault{Route: tokenlabtest.RouteToken, Status: 503})
//	srv.Events(tokenlabtest.EventFilter{Kinds: []string{tokenlabtest.EventReuseDetected}})
//
// The server listens on 127.0.0.1 with a random port, keeps its data in a
// real SQLite file in t.TempDir() (or in memory, WithDB(":memory:")),
// runs on a frozen clock that only Advance moves, hashes passwords at
// bcrypt's minimum cost, and stops when the test ends (t.Cleanup). It has
// the user alice with the password password123, and the public client
// tokenlab, besides what the test registers.
//
// The server's clock is not the code under test's: a client that computes
// expiry from expires_in with its own clock still thinks an access token
// fresh after Advance has moved the server past its exp. Advance therefore
// tests how the client reacts to the API's 401 (and a stored token that
// must be refreshed), not proactive refresh; for that, give the client a
// clock of its own or short lifetimes.
//
// The methods of a Server fail the test (t.Fatalf) when they cannot do
// what they are asked; a Server from Start, with no test to fail, panics.
package tokenlabtest

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/mockserver"
	"golang.org/x/crypto/bcrypt"
)

// Policy is the server's lifetimes and rotation rules (see
// mockserver.Policy): AccessTTL, RefreshTTL, SessionMax, ReuseGrace,
// Rotation, ReuseDetection and AccessDenylist.
type Policy = mockserver.Policy

// Clock modes for WithClock.
const (
	ClockFrozen = mockserver.ClockFrozen // stands still until Advance (the default)
	ClockOffset = mockserver.ClockOffset // real time plus every Advance
)

// Server is a running mock server. Make one with NewServer in a test, or
// with Start elsewhere (a TestMain, an example).
type Server struct {
	// URL is the server's base URL, http://127.0.0.1:PORT; it is also the
	// issuer (Issuer).
	URL string
	// AdminToken authorises the admin API (/admin/...), for code under
	// test that drives the server over HTTP.
	AdminToken string

	e      *mockserver.Embedded
	fail   func(format string, args ...any)
	helper func()
	http   *http.Client
	once   sync.Once
}

// config is what the options set.
type config struct {
	db        string
	clockMode string
	start     time.Time
	policy    []func(*Policy)
	configure []func(*mockserver.Config)
}

// Option configures NewServer and Start.
type Option func(*config)

// WithPolicy changes the server's lifetimes and rotation rules from the
// defaults (access tokens for 15 minutes, refresh tokens for 7 days,
// rotation and reuse detection on) before it starts.
func WithPolicy(change func(*Policy)) Option {
	return func(c *config) { c.policy = append(c.policy, change) }
}

// WithClock sets the clock's mode: ClockFrozen (the default) or
// ClockOffset.
func WithClock(mode string) Option { return func(c *config) { c.clockMode = mode } }

// WithStartTime sets the clock's time at start, so that times in tokens
// and events are the same at every run.
func WithStartTime(t time.Time) Option { return func(c *config) { c.start = t } }

// WithDB sets where the SQLite database lives: a file path, or ":memory:".
// NewServer's default is a file in t.TempDir(); Start's is ":memory:".
func WithDB(path string) Option { return func(c *config) { c.db = path } }

// WithConfig changes any setting of the server's configuration (the
// signing algorithm, code lifetimes, ...) before it starts; it runs after
// the other options.
func WithConfig(change func(*mockserver.Config)) Option {
	return func(c *config) { c.configure = append(c.configure, change) }
}

// NewServer starts a server for the test t and stops it when the test
// ends. It fails the test if the server cannot start.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := config{db: filepath.Join(t.TempDir(), "tokenlab.db")}
	s, err := start(cfg, opts)
	if err != nil {
		t.Fatalf("tokenlabtest: start the server: %v", err)
	}
	s.fail, s.helper = t.Fatalf, t.Helper
	t.Cleanup(func() {
		if err := s.close(); err != nil {
			t.Errorf("tokenlabtest: stop the server: %v", err)
		}
	})
	return s
}

// Start starts a server outside a test; the caller must Close it. Its
// methods panic where NewServer's would fail the test.
func Start(opts ...Option) (*Server, error) {
	return start(config{db: ":memory:"}, opts)
}

func start(cfg config, opts []Option) (*Server, error) {
	cfg.clockMode = ClockFrozen
	for _, o := range opts {
		o(&cfg)
	}
	clock, err := mockserver.NewClock(cfg.clockMode, time.Now)
	if err != nil {
		return nil, err
	}
	if !cfg.start.IsZero() {
		if err := clock.Set(cfg.start); err != nil {
			return nil, err
		}
	}
	e, err := mockserver.StartEmbedded(context.Background(), mockserver.EmbeddedOptions{
		DB: cfg.db, Clock: clock, Configure: cfg.apply})
	if err != nil {
		return nil, err
	}
	s := &Server{URL: e.URL, AdminToken: e.AdminToken, e: e,
		fail:   func(format string, args ...any) { panic(fmt.Sprintf(format, args...)) },
		helper: func() {},
		// Its own transport, so that closing its idle connections at the
		// end touches no other client's.
		http: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}}
	return s, nil
}

// testHashQueue is how many password checks may wait in a test server.
const testHashQueue = 4096

// apply is the server's configuration as the options want it.
func (cfg config) apply(c *mockserver.Config) {
	// Tests log in often; the cost of hashing is not what they test. And
	// a test's own concurrent logins must not meet the flood limit that
	// guards a shared server (503 temporarily_unavailable): the queue of
	// password checks is long enough for any test (WithConfig may shorten
	// it to test that limit).
	c.BcryptCost = bcrypt.MinCost
	c.HashQueue = testHashQueue
	for _, change := range cfg.policy {
		change(&c.Policy)
	}
	for _, change := range cfg.configure {
		change(c)
	}
}

// Close stops the server and closes its database. NewServer's server is
// closed by t.Cleanup; closing it again does nothing.
func (s *Server) Close() {
	s.helper()
	if err := s.close(); err != nil {
		s.fail("tokenlabtest: stop the server: %v", err)
	}
}

func (s *Server) close() error {
	var err error
	s.once.Do(func() {
		s.http.CloseIdleConnections()
		err = s.e.Close()
	})
	return err
}

// Issuer is the issuer URL: tokens carry it as iss, and OAuth discovery
// is under it (/.well-known/openid-configuration).
func (s *Server) Issuer() string { return s.URL }

// AuthURL is the authorization endpoint (authorization code with PKCE).
func (s *Server) AuthURL() string { return s.URL + "/oauth/authorize" }

// TokenURL is the OAuth token endpoint.
func (s *Server) TokenURL() string { return s.URL + "/oauth/token" }

// RevokeURL is the revocation endpoint (RFC 7009).
func (s *Server) RevokeURL() string { return s.URL + "/oauth/revoke" }

// APIURL is the protected API: GET with Authorization: Bearer <access
// token> answers 200 with the token's claims, or 401 with a JSON error
// (expired, revoked, forged) and an access_rejected event.
func (s *Server) APIURL() string { return s.URL + "/protected" }

// HTTPClient is an HTTP client for the server, whose connections close
// with it.
func (s *Server) HTTPClient() *http.Client { return s.http }

// Embedded is the server inside, for what this package does not wrap.
func (s *Server) Embedded() *mockserver.Embedded { return s.e }
