package mockserver

import (
	"fmt"
	"net/http"
	"sync"
	"time"
)

// A user code is 8 letters of 20 (20^8 ≈ 2.6·10^10). The /device page
// says whether a login waits for a code, so without a limit it is an
// oracle for the pending codes (RFC 8628 §5.1). guessLimiter counts the
// failed lookups of each client address and refuses every lookup, right
// or wrong, of an address that failed userCodeGuessBurst times until the
// count drains, one per userCodeGuessRefill. It is always on.
//
// It runs on the server's clock, as the codes' lifetimes do: the limit is
// on guesses per code lifetime. With a frozen clock, an address that used
// its allowance waits for /admin/clock to move.
const (
	userCodeGuessBurst  = 10
	userCodeGuessRefill = 6 * time.Second // 10 a minute once the burst is spent
	// maxGuessAddrs bounds the table; past it, new addresses share one
	// entry, so flooding from many addresses never resets anyone's count.
	maxGuessAddrs = 10000
)

// overflowAddr is the shared entry of addresses beyond maxGuessAddrs.
const overflowAddr = "(others)"

type guessLimiter struct {
	mu     sync.Mutex
	failed map[string]*guessCount
}

type guessCount struct {
	n    float64 // failed lookups not yet drained
	last time.Time
}

func newGuessLimiter() *guessLimiter {
	return &guessLimiter{failed: map[string]*guessCount{}}
}

// drained returns c's count at now.
func (c *guessCount) drained(now time.Time) float64 {
	elapsed := max(0, now.Sub(c.last)) // the clock may be set back
	return max(0, c.n-float64(elapsed)/float64(userCodeGuessRefill))
}

// check reports, without counting, whether a lookup from addr would be
// refused.
func (l *guessLimiter) check(addr string, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.failed[addr]
	if !ok {
		c, ok = l.failed[overflowAddr]
		if !ok || len(l.failed) < maxGuessAddrs {
			return nil
		}
	}
	return refusal(c.drained(now))
}

// refusal is the answer to an address whose count is n: nil while below
// the burst.
func refusal(n float64) error {
	if n <= userCodeGuessBurst-1 {
		return nil
	}
	wait := time.Duration((n - (userCodeGuessBurst - 1)) * float64(userCodeGuessRefill))
	return &Error{Status: http.StatusTooManyRequests, Code: "too_many_requests", RetryAfter: wait,
		Message: fmt.Sprintf("too many unknown codes were tried from your address; wait %s, then type the code your device shows", FormatDuration(wait.Round(time.Second)))}
}

// reserve counts a lookup from addr as failed before it is made, and
// returns refund, to call when the code turns out to be right. Checking
// first and counting after the lookup let a burst of parallel guesses all
// pass the check: 100 at once got 100 answers.
func (l *guessLimiter) reserve(addr string, now time.Time) (refund func(), err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.entry(addr, now)
	n := c.drained(now)
	if err := refusal(n); err != nil {
		return nil, err
	}
	c.n, c.last = n+1, now
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		c.n = max(0, c.n-1)
	}, nil
}

// entry returns addr's count, made when there is room, or else the one
// the addresses beyond the table's bound share.
func (l *guessLimiter) entry(addr string, now time.Time) *guessCount {
	c, ok := l.failed[addr]
	if ok {
		return c
	}
	if len(l.failed) >= maxGuessAddrs {
		l.dropDrained(now)
	}
	if len(l.failed) >= maxGuessAddrs {
		addr = overflowAddr
	}
	if c, ok = l.failed[addr]; !ok {
		c = &guessCount{last: now}
		l.failed[addr] = c
	}
	return c
}

// dropDrained forgets the addresses whose count has drained to zero.
func (l *guessLimiter) dropDrained(now time.Time) {
	for addr, c := range l.failed {
		if addr != overflowAddr && c.drained(now) == 0 {
			delete(l.failed, addr)
		}
	}
}
