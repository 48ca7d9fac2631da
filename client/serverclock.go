package client

// The server's clock, as its answers tell it. A token's exp is in the
// server's time, and a lab server's clock can be moved (tokenlab serve
// --clock frozen, POST /admin/clock): judged by this machine's clock, a
// token the server already rejects would still look valid. So every
// answer from the server's origin that carries a Date header (RFC 9110
// §6.6.1) updates the offset between the two clocks, the offset is kept
// with the session for the next process, and expiry is judged by
// c.now(), our clock plus that offset.

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// dateResolution is the Date header's: whole seconds. Offsets within it
// are noise and count as none.
const dateResolution = time.Second

// syncTimeout bounds SyncServerClock: a server that does not answer at
// once is left to the request that follows.
const syncTimeout = 3 * time.Second

// observeDate learns the server's clock from an answer's Date header.
func (c *Client) observeDate(h http.Header) {
	date, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		return
	}
	offset := date.Sub(c.clock.Now())
	if offset.Abs() <= dateResolution {
		offset = 0
	}
	c.mu.Lock()
	c.offset, c.offsetKnown = offset, true
	c.mu.Unlock()
}

// ServerClockOffset is how far the server's clock is ahead of this
// machine's (negative when behind), as its latest answer said; 0 when
// they agree within a second or no answer has told.
func (c *Client) ServerClockOffset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}

// now is the server's time as far as the client knows: the time by
// which tokens expire.
func (c *Client) now() time.Time { return c.clock.Now().Add(c.ServerClockOffset()) }

// SyncServerClock asks the server for its time (one HEAD request without
// any token or cookie) so that the next Token judges expiry by the
// server's clock as it is now, not as the last answer left it. A server
// that cannot be reached leaves the offset as it was: the error is for
// the caller to ignore or report.
func (c *Client) SyncServerClock(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, c.server+"/", nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return unreachable(c.server, err)
	}
	resp.Body.Close()
	c.observeDate(resp.Header)
	return nil
}

// fromServer says whether u is on the session's server, whose clock the
// tokens expire by.
func (c *Client) fromServer(u *url.URL) bool {
	o, err := Origin(u.String())
	return err == nil && o == c.origin
}
