package mockserver

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// A request's body is read under its own deadline, and the limiter learns
// when it has been read: a connection trickling its body is then the
// first busy one to go at the cap. Without this, 300 clients sending a
// byte a second held every slot of --max-conns for the whole 30 s read
// timeout, and every new client was refused.

type connKey struct{}

// ConnContext notes each request's connection; set it as
// http.Server.ConnContext.
func (l *ConnLimiter) ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// Handler wraps next so that a request's body must arrive within
// bodyTimeout of its headers (0: no bound), and tells the limiter when it
// has. A request that reaches its handler without a body is read at once.
func (l *ConnLimiter) Handler(next http.Handler, bodyTimeout time.Duration) http.Handler {
	l.watching.Store(true)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Context().Value(connKey{}).(net.Conn)
		if r.Body == nil || r.Body == http.NoBody {
			l.bodyRead(c)
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		if bodyTimeout > 0 {
			rc.SetReadDeadline(time.Now().Add(bodyTimeout))
		}
		r.Body = &watchedBody{ReadCloser: r.Body, done: func() {
			l.bodyRead(c)
			// The rest of the exchange is the handler's and the idle
			// timeout's business, not the body's.
			rc.SetReadDeadline(time.Time{})
		}}
		next.ServeHTTP(w, r)
	})
}

// bodyRead marks c as no longer reading its request.
func (l *ConnLimiter) bodyRead(c net.Conn) {
	if c == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if info, ok := l.conns[c]; ok {
		info.reading = false
	}
}

// watchedBody calls done once, when the body has been read to its end.
type watchedBody struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.once.Do(b.done)
	}
	return n, err
}
