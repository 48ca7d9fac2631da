package mockserver

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ConnLimiter caps the server's open connections. Each open connection
// holds a file descriptor, and keep-alive lets a client hold one idle for
// the whole idle timeout: some 20 000 idle connections used up the
// process's descriptors and every new client timed out.
//
// At the cap, a new connection takes the place of the connection idle for
// longest, or else the one that has been reading its request longest
// (headers not yet sent, or a body still arriving); when every
// connection is busy with a request it has read, the new one is closed at
// once. So neither idle connections nor ones trickling their body can lock
// out a new client, and the descriptors stay bounded.
//
// Use Listener to wrap the listener, ConnState as http.Server.ConnState,
// ConnContext as http.Server.ConnContext and Handler around the handler
// (conns_body.go), which tells the limiter when a body has been read.
type ConnLimiter struct {
	max   int
	mu    sync.Mutex
	conns map[net.Conn]*connInfo

	refused, evicted atomic.Int64
	// watching is set once Handler wraps the handler: only then does the
	// limiter learn when a body has been read, and an active connection
	// may count as still reading.
	watching atomic.Bool
}

type connInfo struct {
	state http.ConnState
	since time.Time
	// reading: active, and its request's body not yet read to the end. A
	// client on loopback sends a body in microseconds, so the one reading
	// longest is almost surely trickling it on purpose.
	reading bool
}

// NewConnLimiter returns a limiter for at most max connections.
func NewConnLimiter(max int) *ConnLimiter {
	return &ConnLimiter{max: max, conns: make(map[net.Conn]*connInfo, max)}
}

// Max returns the cap.
func (l *ConnLimiter) Max() int { return l.max }

// Refused and Evicted count the connections closed at the cap: new ones
// turned away, and idle ones closed to make room.
func (l *ConnLimiter) Refused() int64 { return l.refused.Load() }
func (l *ConnLimiter) Evicted() int64 { return l.evicted.Load() }

// Listener wraps ln so that Accept admits connections within the cap.
func (l *ConnLimiter) Listener(ln net.Listener) net.Listener {
	return &limitedListener{Listener: ln, limiter: l}
}

type limitedListener struct {
	net.Listener
	limiter *ConnLimiter
}

func (ll *limitedListener) Accept() (net.Conn, error) {
	for {
		c, err := ll.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if ll.limiter.admit(c) {
			return c, nil
		}
		c.Close()
	}
}

// admit registers c, closing the longest-idle connection when at the cap;
// false when every connection is busy.
func (l *ConnLimiter) admit(c net.Conn) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.conns) >= l.max {
		victim := l.idlest()
		if victim == nil {
			l.refused.Add(1)
			return false
		}
		delete(l.conns, victim)
		victim.Close() // the server sees the close and forgets it
		l.evicted.Add(1)
	}
	l.conns[c] = &connInfo{state: http.StateNew, since: now}
	return true
}

// idlest returns the connection idle for longest or, when none is idle,
// the one that has been reading its request longest: one that has sent
// nothing yet (or only part of its headers), or one still sending its
// body. A flood of silent connections or trickled bodies then evicts
// itself, oldest first, while a new client's request, read in
// microseconds, is the youngest. nil when every connection is busy with a
// request it has read. A scan, but only at the cap, and bounded by it.
func (l *ConnLimiter) idlest() net.Conn {
	var idle, reading net.Conn
	var idleSince, readingSince time.Time
	for c, info := range l.conns {
		switch {
		case info.state == http.StateIdle && (idle == nil || info.since.Before(idleSince)):
			idle, idleSince = c, info.since
		case (info.state == http.StateNew || info.state == http.StateActive && info.reading) &&
			(reading == nil || info.since.Before(readingSince)):
			reading, readingSince = c, info.since
		}
	}
	if idle != nil {
		return idle
	}
	return reading
}

// ConnState tracks each connection's state; set it as http.Server.ConnState.
func (l *ConnLimiter) ConnState(c net.Conn, state http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch state {
	case http.StateClosed, http.StateHijacked:
		delete(l.conns, c)
	default:
		if info, ok := l.conns[c]; ok && info.state != state {
			// A request's headers are read when it turns active; until
			// Handler says otherwise, its body is still on the way.
			info.state, info.since, info.reading = state, time.Now(), state == http.StateActive && l.watching.Load()
		}
	}
}

// Open returns how many connections are open.
func (l *ConnLimiter) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}
