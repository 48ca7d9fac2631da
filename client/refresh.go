package client

// The refresh protocol: how a session's access token is renewed, once,
// however many goroutines and processes need it at the same moment.
//
// Invariants (each part below exists for one of them):
//
//  1. One refresh per generation in this process. Every change of the
//     session (login, load, refresh, logout) bumps c.gen under c.mu. Callers
//     that saw generation g and need a refresh share one singleflight call
//     keyed by g, failures included (c.lastFail answers those who queued
//     behind a failed attempt); a caller whose g is already stale takes the
//     newer session instead of refreshing again.
//  2. One refresh at a time per session across processes. refreshOnce holds
//     c.refreshMu and then the session's lock file (gofrs/flock: flock(2) on
//     Unix, LockFileEx on Windows) in the lock dir, which always exists (see
//     DefaultLockDir) and must be private to the user (checkLockDir: on
//     Unix not a symlink, the user's own, not writable by group or
//     others). The holder writes its PID beside the lock, never through a
//     symlink, so a waiter can say whom it waits for.
//  3. Re-read before refreshing. Under the lock the store is read again: a
//     session another process refreshed is adopted, never refreshed twice
//     (a rotating server would see the spent token as reuse).
//  4. Save before use. A rotated refresh token is written to the store
//     before the new access token is handed out. A failed save is retried
//     once and then reported as ErrSessionNotSaved, never hidden behind
//     the old, still valid access token.
//  5. Only a refused refresh ends a session. 401/403/invalid_grant delete
//     it (ErrLoginRequired); a 5xx, a timeout or an unreachable server keep
//     it, report the error, and the next call tries again.
//  6. A refresh outlives its caller. Once sent, the exchange runs to its end
//     (bounded by refreshTimeout) even if the caller gives up, so a rotated
//     token always reaches the store.
//  7. Logout and refresh exclude each other (c.refreshMu and the lock file),
//     so no refresh saves a session that was just deleted.
//
// The proactive skew is the smaller of c.skew (30 s by default) and a
// quarter of the access token's lifetime, so a 60-second token is renewed
// 15 s before it expires, not after half its life.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// refreshTimeout bounds one refresh, which no caller can cancel.
const refreshTimeout = 30 * time.Second

// validSession returns the session, with an access token that is not
// about to expire, and its generation.
func (c *Client) validSession(ctx context.Context) (Session, uint64, error) {
	seen := c.refreshAttempts()
	s, gen, err := c.current(ctx)
	if err != nil || !c.expiring(s) {
		return s, gen, err
	}
	next, nextGen, err := c.refresh(ctx, gen, seen, "the access token expires within "+c.skewFor(s).String())
	if err != nil && !errors.Is(err, ErrLoginRequired) && !errors.Is(err, ErrSessionNotSaved) && c.now().Before(s.AccessExpiry) {
		// The refresh failed (server down, 5xx) but the token still has a
		// little life: use it, and try again next time.
		c.emit(Event{Kind: EventRefresh, Detail: "the early refresh failed (" + err.Error() + "); the access token is still valid, so it is used"})
		return s, gen, nil
	}
	return next, nextGen, err
}

// refreshAttempts is how many refresh exchanges have finished: a caller
// notes it before sending a request, and hands it to refresh if the
// answer shows the token was rejected.
func (c *Client) refreshAttempts() uint64 { return c.attempts.Load() }

// skewFor is how long before its expiry s's access token is renewed.
func (c *Client) skewFor(s Session) time.Duration {
	skew := c.skew
	if !s.AccessIssued.IsZero() && s.AccessExpiry.After(s.AccessIssued) {
		skew = min(skew, s.AccessExpiry.Sub(s.AccessIssued)/4)
	}
	return skew
}

func (c *Client) expiring(s Session) bool {
	return !s.AccessExpiry.IsZero() && !c.now().Add(c.skewFor(s)).Before(s.AccessExpiry)
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
		return Session{}, 0, loginRequired{fmt.Errorf("no session for %s at %s", c.Username(), c.server)}
	}
	if err != nil {
		return Session{}, 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loaded {
		c.sess, c.loaded = s, true
		c.gen++
		if !c.offsetKnown {
			c.offset = s.ServerClockOffset // until the server says otherwise
		}
		if c.clientSecret == "" && s.ClientSecret != "" && s.ClientID == c.profile.OAuth.ClientID {
			c.clientSecret = s.ClientSecret // kept at login: refresh and logout need it
		}
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
		if stored.AccessExpiry.IsZero() || c.now().Before(stored.AccessExpiry) {
			return stored, c.set(stored), nil
		}
		cur = stored
	}
	next, err := c.renew(ctx, cur, why)
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

// renew trades the session for new tokens: a refresh-token exchange, or,
// for a client-credentials session (which has no refresh token), the
// grant once more.
func (c *Client) renew(ctx context.Context, s Session, why string) (Session, error) {
	if s.Grant == FlowClientCredentials {
		return c.rerunClientCredentials(ctx, s, why)
	}
	if s.RefreshToken == "" {
		return Session{}, loginRequired{errors.New("the session has no refresh token (the server did not issue one)")}
	}
	return c.refreshExchange(ctx, s, why)
}

// saveRotated keeps a refreshed session, retrying once: its refresh
// token may be the only live one of the family.
func (c *Client) saveRotated(ctx context.Context, s Session, why string) error {
	err := c.save(ctx, s, why)
	if err == nil {
		return nil
	}
	c.emit(Event{Kind: EventStoreWrite, Detail: "saving the refreshed session failed; trying once more"})
	if err2 := c.save(ctx, s, why+" (second try)"); err2 == nil {
		return nil
	}
	return &SessionNotSavedError{Store: storeName(c.store), Err: err}
}

func (c *Client) save(ctx context.Context, s Session, why string) error {
	if err := c.store.Save(ctx, c.Key(), s); err != nil {
		return fmt.Errorf("could not keep the session in the %s: %w", storeName(c.store), err)
	}
	c.emit(Event{Kind: EventStoreWrite, Detail: why + " (" + storeName(c.store) + ")"})
	return nil
}

// DefaultLockDir is where refresh locks live: the user's cache dir, else
// their config dir, else the system's temp dir — there is always one, so
// the cross-process lock is never silently off.
func DefaultLockDir() string {
	if dir, err := os.UserCacheDir(); err == nil {
		return filepath.Join(dir, "tokenlab", "locks")
	}
	if dir, err := os.UserConfigDir(); err == nil {
		return filepath.Join(dir, "tokenlab", "locks")
	}
	return filepath.Join(os.TempDir(), "tokenlab-"+strconv.Itoa(os.Getuid())+"-locks")
}

// lockPoll is how often a waiter tries a held lock again.
const lockPoll = 10 * time.Millisecond

// lock takes the cross-process refresh lock of this session, waiting
// until ctx ends; with no lock dir (tests, the TUI's private server) it
// is a no-op. A waiter reports once which process holds it.
func (c *Client) lock(ctx context.Context) (unlock func(), err error) {
	if c.lockDir == "" {
		return func() {}, nil
	}
	sum := sha256.Sum256([]byte(c.Key()))
	return lockIn(ctx, c.lockDir, hex.EncodeToString(sum[:8]), func(holder string) {
		c.emit(Event{Kind: EventLockWait, Detail: "waiting for " + holder + ", which is refreshing this session; its result will be used"})
	}, "to finish its refresh")
}

// lockIn takes the lock file NAME.lock in the private lock dir, waiting
// until ctx ends; waiting is told once, with the holder's name. doing
// says what the holder is busy with, for the error when ctx ends.
func lockIn(ctx context.Context, dir, name string, waiting func(holder string), doing string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create the lock folder %s: %w", dir, err)
	}
	if err := checkLockDir(dir); err != nil {
		return nil, err
	}
	base := filepath.Join(dir, name)
	fl := flock.New(base+".lock", flock.SetPermissions(0o600))
	told := false
	for {
		ok, err := fl.TryLock()
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", fl.Path(), err)
		}
		if ok {
			break
		}
		if !told && waiting != nil {
			told = true
			waiting(lockHolder(base + ".pid"))
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %s %s: %w", lockHolder(base+".pid"), doing, ctx.Err())
		case <-time.After(lockPoll):
		}
	}
	// The PID goes beside the lock, not in it: on Windows a locked file
	// cannot be read by others. It only names the holder, so a failure to
	// write it does not matter.
	writePID(base + ".pid")
	return func() { fl.Unlock() }, nil
}

// writePID writes this process's PID to path, never through a symlink.
func writePID(path string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|openNoFollow, 0o600)
	if err != nil {
		return
	}
	f.WriteString(strconv.Itoa(os.Getpid()))
	f.Close()
}

// lockHolder names the process whose PID is in path.
func lockHolder(path string) string {
	data, err := os.ReadFile(path)
	if pid := strings.TrimSpace(string(data)); err == nil && pid != "" {
		if _, err := strconv.Atoi(pid); err == nil {
			return "tokenlab process " + pid
		}
	}
	return "another tokenlab process"
}
