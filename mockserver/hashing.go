package mockserver

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/auth"
	"golang.org/x/crypto/bcrypt"
)

// Password hashing is the one thing a client can make expensive on
// purpose: bcrypt at cost 10 takes ~50 ms of a core. Unbounded, 16
// parallel logins fill both cores and /healthz and /protected wait behind
// them. hashLimiter runs at most one bcrypt per core, lets a few more
// wait, and turns the rest away at once with 503 and Retry-After.
type hashLimiter struct {
	slots      chan struct{}
	waiting    atomic.Int64
	maxWaiting int64
}

func newHashLimiter(workers, queue int) *hashLimiter {
	return &hashLimiter{slots: make(chan struct{}, workers), maxWaiting: int64(queue)}
}

// defaultHashWorkers is one bcrypt per core.
func defaultHashWorkers() int { return runtime.NumCPU() }

// errHashBusy is the 503 of a full hashing queue.
var errHashBusy = &Error{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable", RetryAfter: time.Second,
	Message: "the server is busy checking other passwords; retry in a second"}

// run runs fn in a hashing slot, waiting in the queue if there is room.
func (h *hashLimiter) run(ctx context.Context, fn func()) error {
	select {
	case h.slots <- struct{}{}:
	default:
		if h.waiting.Add(1) > h.maxWaiting {
			h.waiting.Add(-1)
			return errHashBusy
		}
		select {
		case h.slots <- struct{}{}:
			h.waiting.Add(-1)
		case <-ctx.Done():
			h.waiting.Add(-1)
			return ctx.Err()
		}
	}
	defer func() { <-h.slots }()
	fn()
	return nil
}

// compareHash is bcrypt.CompareHashAndPassword inside the limiter.
func (s *Server) compareHash(ctx context.Context, hash []byte, password string) (ok bool, err error) {
	if err := s.loginRate.allow(ctx); err != nil {
		return false, err
	}
	err = s.hashing.run(ctx, func() { ok = bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil })
	return ok, err
}

// generateHash is bcrypt.GenerateFromPassword inside the limiter.
func (s *Server) generateHash(ctx context.Context, password string) (hash []byte, err error) {
	if err := s.loginRate.allow(ctx); err != nil {
		return nil, err
	}
	var herr error
	if err := s.hashing.run(ctx, func() { hash, herr = bcrypt.GenerateFromPassword([]byte(password), s.cfg.BcryptCost) }); err != nil {
		return nil, err
	}
	return hash, herr
}

// loginRateLimiter is the optional --login-rate: a token bucket per client
// address (the TCP peer; headers such as X-Forwarded-For are not trusted).
// Real time, not the server's clock: it protects CPU, which a frozen clock
// does not stop.
type loginRateLimiter struct {
	perSecond float64 // 0: no limit
	burst     float64
	mu        sync.Mutex
	buckets   map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxRateClients bounds the buckets kept; past it the full ones are
// dropped, and if none is full new addresses share the overflow bucket
// (overflowAddr), so a flood from many addresses never resets anyone's.
const maxRateClients = 10000

func newLoginRateLimiter(perSecond float64) *loginRateLimiter {
	return &loginRateLimiter{perSecond: perSecond, burst: max(1, perSecond), buckets: map[string]*bucket{}}
}

type clientAddrKey struct{}

// withClientAddr notes the request's peer address for the rate limiters.
func withClientAddr(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		return h(w, r.WithContext(context.WithValue(r.Context(), clientAddrKey{}, clientAddr(r.RemoteAddr))))
	}
}

// withTrace labels the request's events with its auth.TraceHeader.
func withTrace(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if t := r.Header.Get(auth.TraceHeader); t != "" {
			r = r.WithContext(auth.WithTrace(r.Context(), t))
		}
		return h(w, r)
	}
}

// loopbackParty is the one address every loopback peer counts as.
const loopbackParty = "loopback"

// clientAddr is the address a limit counts: the peer's IPv4 address, or
// the /64 of an IPv6 one (one machine commonly holds a whole /64, so
// counting single IPv6 addresses would limit nothing). Every loopback
// address (127/8, ::1) is this machine: one process can send from any of
// 16 million of them, and counting each alone let it fill the device-code
// table in seconds.
func clientAddr(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	switch {
	case ip != nil && ip.IsLoopback():
		return loopbackParty
	case ip == nil || ip.To4() != nil:
		return host
	}
	return (&net.IPNet{IP: ip.Mask(net.CIDRMask(64, 128)), Mask: net.CIDRMask(64, 128)}).String()
}

// addrOf is the address withClientAddr noted ("" if none).
func addrOf(ctx context.Context) string {
	addr, _ := ctx.Value(clientAddrKey{}).(string)
	return addr
}

func (l *loginRateLimiter) allow(ctx context.Context) error {
	addr := addrOf(ctx)
	if l == nil || l.perSecond <= 0 || addr == "" {
		return nil
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucketOf(addr, now)
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.perSecond)
	b.last = now
	if b.tokens < 1 {
		wait := time.Duration((1 - b.tokens) / l.perSecond * float64(time.Second))
		return &Error{Status: http.StatusTooManyRequests, Code: "too_many_requests", RetryAfter: wait,
			Message: fmt.Sprintf("more than %g password checks a second from %s; slow down", l.perSecond, addr)}
	}
	b.tokens--
	return nil
}

// bucketOf returns addr's bucket, making one when there is room, or else
// the overflow bucket shared by every address the table cannot hold.
func (l *loginRateLimiter) bucketOf(addr string, now time.Time) *bucket {
	if b, ok := l.buckets[addr]; ok {
		return b
	}
	if len(l.buckets) >= maxRateClients {
		l.dropFull(now)
	}
	if len(l.buckets) >= maxRateClients {
		addr = overflowAddr
	}
	b, ok := l.buckets[addr]
	if !ok {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[addr] = b
	}
	return b
}

// dropFull forgets the clients whose bucket has refilled.
func (l *loginRateLimiter) dropFull(now time.Time) {
	for addr, b := range l.buckets {
		if addr != overflowAddr && b.tokens+now.Sub(b.last).Seconds()*l.perSecond >= l.burst {
			delete(l.buckets, addr)
		}
	}
}
