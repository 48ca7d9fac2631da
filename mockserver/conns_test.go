package mockserver

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// When every connection is busy with a request, a connection beyond the
// cap is closed at once; once one is idle, a new connection takes its
// place.
func TestConnLimiterRefusesWhenAllBusy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	limiter := NewConnLimiter(2)
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	hs := &http.Server{ConnState: limiter.ConnState, ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/slow" {
				started <- struct{}{}
				<-release
			}
		})}
	go hs.Serve(limiter.Listener(ln))
	t.Cleanup(func() { hs.Close() })
	addr := ln.Addr().String()
	send := func(path string) (net.Conn, *bufio.Reader) {
		t.Helper()
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write([]byte("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"))
		return c, bufio.NewReader(c)
	}
	_, r1 := send("/slow")
	<-started
	_, r2 := send("/slow")
	<-started

	_, r3 := send("/fast")
	if _, err := http.ReadResponse(r3, nil); err == nil {
		t.Fatal("a third connection was served while two requests held the cap of two")
	} else if err != io.EOF && err != io.ErrUnexpectedEOF {
		t.Logf("refused connection read: %v", err) // a reset is a refusal too
	}
	if limiter.Refused() != 1 {
		t.Errorf("refused = %d, want 1", limiter.Refused())
	}

	close(release)
	for _, r := range []*bufio.Reader{r1, r2} {
		if resp, err := http.ReadResponse(r, nil); err != nil {
			t.Fatalf("a busy connection's answer: %v", err)
		} else {
			resp.Body.Close()
		}
	}
	// Both are idle now: a new connection evicts the longest-idle one.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, r4 := send("/fast")
		resp, err := http.ReadResponse(r4, nil)
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection admitted once the others were idle: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // the idle state is set just after the answer is written
	}
	if limiter.Evicted() < 1 || limiter.Open() > 2 {
		t.Errorf("evicted %d, open %d; want an eviction and at most 2 open", limiter.Evicted(), limiter.Open())
	}
}

// A connection still reading its request's body is evictable at the cap,
// oldest first; a request that has been read is not.
func TestConnLimiterEvictsTrickledBody(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	limiter := NewConnLimiter(2)
	started := make(chan struct{}, 2)
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/upload" {
			started <- struct{}{}
			io.ReadAll(r.Body) // the body never comes: the connection is evicted
		}
	})
	hs := &http.Server{ConnState: limiter.ConnState, ConnContext: limiter.ConnContext, ReadHeaderTimeout: 5 * time.Second,
		Handler: limiter.Handler(inner, time.Minute)}
	go hs.Serve(limiter.Listener(ln))
	t.Cleanup(func() { hs.Close() })
	dial := func(request string) *bufio.Reader {
		t.Helper()
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write([]byte(request))
		return bufio.NewReader(c)
	}
	const upload = "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"
	first := dial(upload)
	<-started
	dial(upload)
	<-started

	resp, err := http.ReadResponse(dial("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n"), nil)
	if err != nil {
		t.Fatalf("a new client was refused while two connections trickled their bodies: %v", err)
	}
	resp.Body.Close()
	if limiter.Evicted() != 1 {
		t.Errorf("evicted = %d, want 1", limiter.Evicted())
	}
	if _, err := first.ReadByte(); err == nil {
		t.Error("the oldest trickling connection was not the one closed")
	}
}
