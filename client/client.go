// Package client is tokenlab's auth client: it logs in to an API described
// by a Profile, keeps the session in a Store (the OS keyring by default),
// attaches the access token to requests and refreshes it before it expires
// and after the API rejects it — once, however many callers need it at the
// same moment, in this process or in several.
//
// It never imports the mock server: it must work against any compatible API.
package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// Clock tells the client the time.
type Clock interface{ Now() time.Time }

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// Event is one step of the client's exchanges, for timelines and reports.
// It never holds a token.
type Event struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	Method string    `json:"method,omitempty"`
	URL    string    `json:"url,omitempty"`
	Status int       `json:"status,omitempty"`
	Detail string    `json:"detail,omitempty"` // why it happened, in words
}

// Event kinds.
const (
	EventRequest      = "request"
	EventResponse     = "response"
	EventLogin        = "login"
	EventRefresh      = "refresh"
	EventRotation     = "rotation"
	EventStoreWrite   = "store_write"
	EventLogout       = "logout"
	EventSessionEnded = "session_ended"
)

// DefaultSkew is how long before exp the client refreshes proactively.
const DefaultSkew = 30 * time.Second

// Client talks to one server as one user. It is safe for concurrent use.
type Client struct {
	server   string
	username string
	profile  Profile
	store    Store
	http     *http.Client // for token exchanges: never the refreshing Transport
	clock    Clock
	skew     time.Duration
	lockDir  string
	onEvent  func(Event)

	mu     sync.Mutex // guards sess, loaded, gen
	sess   Session
	loaded bool
	gen    uint64 // bumped whenever the session changes

	refreshMu sync.Mutex         // one refresh at a time in this process
	flight    singleflight.Group // callers of one generation share its refresh, failures included
	attempts  atomic.Uint64      // refresh exchanges finished
	lastFail  failedRefresh      // the latest failed one, guarded by mu
	origin    string             // scheme://host of the server: the only place tokens are sent

	discoMu sync.Mutex
	disco   *discovery
}

// failedRefresh remembers a refresh that failed, so that callers who
// needed it before it started share its error instead of trying again.
type failedRefresh struct {
	attempt uint64
	gen     uint64
	err     error
}

// Option configures a Client.
type Option func(*Client)

// noRedirects keeps the password and the refresh token, which travel in
// request bodies, from being sent on to wherever a redirect points.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// WithHTTPClient sets the HTTP client used for every exchange; its
// Transport is the base of the refreshing Transport. It should not follow
// redirects: token requests carry secrets in their bodies.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithClock sets the clock that decides when a token is about to expire.
func WithClock(clock Clock) Option { return func(c *Client) { c.clock = clock } }

// WithSkew sets how long before exp a token is refreshed proactively.
func WithSkew(d time.Duration) Option { return func(c *Client) { c.skew = d } }

// WithLockDir makes refreshes take a lock file in dir, so that several
// processes sharing one store refresh once between them.
func WithLockDir(dir string) Option { return func(c *Client) { c.lockDir = dir } }

// WithEvents reports every exchange to fn. fn must not block.
func WithEvents(fn func(Event)) Option { return func(c *Client) { c.onEvent = fn } }

// New returns a client for username at server (a base URL).
func New(server, username string, p Profile, st Store, opts ...Option) (*Client, error) {
	server = strings.TrimRight(server, "/")
	if !strings.HasPrefix(server, "http://") && !strings.HasPrefix(server, "https://") {
		return nil, fmt.Errorf("the server %q must be a URL starting with http:// or https://", server)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("profile %s: %w", p.Name, err)
	}
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("the server %q is not a valid URL", server)
	}
	c := &Client{server: server, origin: strings.ToLower(u.Scheme + "://" + u.Host), username: username, profile: p, store: st,
		http: &http.Client{Timeout: 30 * time.Second, CheckRedirect: noRedirects}, clock: wallClock{}, skew: DefaultSkew}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Key is the store key of this client's session.
func (c *Client) Key() string { return Key(c.profile.Name, c.server, c.username) }

// Server returns the server's base URL.
func (c *Client) Server() string { return c.server }

// Profile returns the client's profile.
func (c *Client) Profile() Profile { return c.profile }

func (c *Client) emit(e Event) {
	if c.onEvent == nil {
		return
	}
	if e.At.IsZero() {
		e.At = c.clock.Now()
	}
	c.onEvent(e)
}

// Login logs in with a password, stores the session and makes it current.
func (c *Client) Login(ctx context.Context, password string) (Session, error) {
	ans, err := c.loginExchange(ctx, password)
	if err != nil {
		return Session{}, err
	}
	if ans.refresh == "" {
		return Session{}, fmt.Errorf("the login answer holds no refresh token; check the profile's field or cookie names")
	}
	s := Session{Server: c.server, Profile: c.profile.Name, Username: c.username,
		AccessToken: ans.access, AccessExpiry: c.expiry(ans), RefreshToken: ans.refresh, RefreshExpiry: jwtExpiry(ans.refresh)}
	if err := c.save(ctx, s, "login: the new session is kept before it is used"); err != nil {
		return Session{}, err
	}
	c.set(s)
	c.emit(Event{Kind: EventLogin, Detail: "logged in as " + c.username})
	return s, nil
}

// Session returns the current session, loading it from the store the first
// time; ErrLoginRequired when there is none.
func (c *Client) Session(ctx context.Context) (Session, error) {
	s, _, err := c.current(ctx)
	return s, err
}

// Token returns a valid access token, refreshing first when it expires
// within the skew.
func (c *Client) Token(ctx context.Context) (string, error) {
	s, _, err := c.validSession(ctx)
	return s.AccessToken, err
}

// Refresh refreshes now, whatever the access token's expiry.
func (c *Client) Refresh(ctx context.Context) (Session, error) {
	_, gen, err := c.current(ctx)
	if err != nil {
		return Session{}, err
	}
	s, _, err := c.refresh(ctx, gen, c.attempts.Load(), "a refresh was asked for")
	return s, err
}

// Logout revokes the session on the server and removes it from the store.
// The local session is removed even when the server cannot be told.
func (c *Client) Logout(ctx context.Context) error {
	// No refresh may save a session after it is deleted.
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	unlock, err := c.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	s, _, err := c.current(ctx)
	if err != nil {
		return err
	}
	serverErr := c.logoutExchange(ctx, s)
	if err := c.store.Delete(ctx, c.Key()); err != nil {
		return fmt.Errorf("the session could not be removed from the store: %w", err)
	}
	c.forget()
	detail := "the session is revoked on the server and removed from the " + storeName(c.store)
	if serverErr != nil {
		detail = "the session is removed from the " + storeName(c.store) + ", but the server could not be told"
	}
	c.emit(Event{Kind: EventLogout, Detail: detail})
	if serverErr != nil {
		return fmt.Errorf("the session was removed here, but the server could not revoke it: %w", serverErr)
	}
	return nil
}

// validSession returns the session, with an access token that is not
// about to expire, and its generation.
func (c *Client) validSession(ctx context.Context) (Session, uint64, error) {
	seen := c.attempts.Load()
	s, gen, err := c.current(ctx)
	if err != nil || !c.expiring(s) {
		return s, gen, err
	}
	next, nextGen, err := c.refresh(ctx, gen, seen, "the access token expires within "+c.skew.String())
	if err != nil && !errors.Is(err, ErrLoginRequired) && c.clock.Now().Before(s.AccessExpiry) {
		// The refresh failed (server down, 5xx) but the token still has a
		// little life: use it, and try again next time.
		c.emit(Event{Kind: EventRefresh, Detail: "the early refresh failed (" + err.Error() + "); the access token is still valid, so it is used"})
		return s, gen, nil
	}
	return next, nextGen, err
}

func (c *Client) expiring(s Session) bool {
	return !s.AccessExpiry.IsZero() && !c.clock.Now().Add(c.skew).Before(s.AccessExpiry)
}

// current returns the session and its generation.
func (c *Client) current(ctx context.Context) (Session, uint64, error) {
	c.mu.Lock()
	if c.loaded {
		defer c.mu.Unlock()
		return c.sess, c.gen, nil
	}
	c.mu.Unlock()
	s, err := c.store.Load(ctx, c.Key())
	if errors.Is(err, ErrNoSession) {
		return Session{}, 0, loginRequired{fmt.Errorf("no session for %s at %s", c.username, c.server)}
	}
	if err != nil {
		return Session{}, 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loaded {
		c.sess, c.loaded = s, true
		c.gen++
	}
	return c.sess, c.gen, nil
}

func (c *Client) set(s Session) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sess, c.loaded = s, true
	c.gen++
	return c.gen
}

func (c *Client) forget() {
	c.mu.Lock()
	c.sess, c.loaded = Session{}, false
	c.gen++
	c.mu.Unlock()
}

func (c *Client) snapshot() (Session, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess, c.gen, c.loaded
}

// refresh refreshes the session of generation gen (the one whose token
// is expiring or was rejected). Callers that queued behind another refresh
// get its result; a process that finds the stored session changed by
// another process adopts it instead of refreshing.
//
// seen is how many refresh attempts had finished when the caller sent the
// request that showed it needed one: a failure that finished after that
// answers it too (it was the refresh of that moment).
func (c *Client) refresh(ctx context.Context, gen, seen uint64, why string) (Session, uint64, error) {
	if cur, curGen, loaded := c.snapshot(); loaded && curGen != gen {
		return cur, curGen, nil // already refreshed
	}
	c.mu.Lock()
	fail := c.lastFail
	c.mu.Unlock()
	if fail.err != nil && fail.gen == gen && fail.attempt > seen {
		return Session{}, 0, fail.err
	}
	type result struct {
		s   Session
		gen uint64
	}
	// The exchange outlives the caller's context: once the server has
	// rotated, the new refresh token must reach the store even if the
	// caller gave up, or the next refresh would replay a spent token.
	ch := c.flight.DoChan(strconv.FormatUint(gen, 10), func() (any, error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
		defer cancel()
		s, g, err := c.refreshOnce(rctx, gen, why)
		return result{s, g}, err
	})
	select {
	case res := <-ch:
		r, _ := res.Val.(result)
		return r.s, r.gen, res.Err
	case <-ctx.Done():
		return Session{}, 0, ctx.Err()
	}
}

// refreshTimeout bounds one refresh, which no caller can cancel.
const refreshTimeout = 30 * time.Second

// refreshOnce does the refresh that refresh shares.
func (c *Client) refreshOnce(ctx context.Context, gen uint64, why string) (Session, uint64, error) {
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	cur, curGen, loaded := c.snapshot()
	if loaded && curGen != gen {
		return cur, curGen, nil // refreshed while this caller waited
	}
	unlock, err := c.lock(ctx)
	if err != nil {
		return Session{}, 0, err
	}
	defer unlock()
	stored, err := c.store.Load(ctx, c.Key())
	if errors.Is(err, ErrNoSession) {
		c.forget()
		return Session{}, 0, loginRequired{errors.New("the session is no longer stored (logged out elsewhere?)")}
	}
	if err != nil {
		return Session{}, 0, err
	}
	if stored.RefreshToken != cur.RefreshToken || stored.AccessToken != cur.AccessToken {
		// Another process refreshed or logged in since this one looked.
		if stored.AccessExpiry.IsZero() || c.clock.Now().Before(stored.AccessExpiry) {
			return stored, c.set(stored), nil
		}
		cur = stored
	}
	next, err := c.refreshExchange(ctx, cur, why)
	attempt := c.attempts.Add(1)
	if err != nil && !errors.Is(err, ErrLoginRequired) {
		c.mu.Lock()
		c.lastFail = failedRefresh{attempt: attempt, gen: gen, err: err}
		c.mu.Unlock()
	}
	if errors.Is(err, ErrLoginRequired) {
		if derr := c.store.Delete(ctx, c.Key()); derr != nil {
			err = errors.Join(err, derr)
		}
		c.forget()
		c.emit(Event{Kind: EventSessionEnded, Detail: "the server refused the refresh token, so the local session is removed"})
		return Session{}, 0, err
	}
	if err != nil {
		return Session{}, 0, err
	}
	return next, c.set(next), nil
}

func (c *Client) save(ctx context.Context, s Session, why string) error {
	if err := c.store.Save(ctx, c.Key(), s); err != nil {
		return fmt.Errorf("could not keep the session in the %s: %w", storeName(c.store), err)
	}
	c.emit(Event{Kind: EventStoreWrite, Detail: why + " (" + storeName(c.store) + ")"})
	return nil
}

func storeName(st Store) string {
	switch st.(type) {
	case *KeyringStore:
		return "OS keyring"
	case *FileStore:
		return "plaintext file"
	case *MemoryStore:
		return "memory"
	}
	return fmt.Sprintf("%T", st)
}

// StoreName says in words where a store keeps sessions.
func StoreName(st Store) string { return storeName(st) }

// expiry is when an answer's access token expires by the client's clock:
// expires_in when given (the server's clock may differ from ours), else
// the token's exp claim.
func (c *Client) expiry(a tokenAnswer) time.Time {
	if a.expiresIn > 0 {
		return c.clock.Now().Add(time.Duration(a.expiresIn) * time.Second)
	}
	return jwtExpiry(a.access)
}
