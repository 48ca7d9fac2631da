package main

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// Idle keep-alive connections beyond --max-conns neither use up the
// server's descriptors nor lock out a new client: the longest-idle ones
// are closed to make room, so the server holds at most the cap.
func TestServeE2EConnectionFlood(t *testing.T) {
	t.Parallel()
	const maxConns, flood = 300, 1200
	p := startServe(t, "--max-conns", "300", "--quiet")
	if p.banner.MaxConns != maxConns {
		t.Fatalf("banner maxConns = %d, want %d", p.banner.MaxConns, maxConns)
	}
	addr := strings.TrimPrefix(p.banner.URL, "http://")

	// Every connection makes one keep-alive request, then sits idle; every
	// fourth sends nothing at all.
	conns := make([]net.Conn, 0, flood)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for i := range flood {
		c, err := net.DialTimeout("tcp", addr, httpTimeout)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		conns = append(conns, c)
		if i%4 == 3 {
			continue
		}
		c.SetDeadline(time.Now().Add(httpTimeout))
		if _, err := c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: " + addr + "\r\n\r\n")); err != nil {
			continue // closed at the cap: fine
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err == nil {
			resp.Body.Close()
		}
	}

	// A new client still gets /healthz.
	hc := &http.Client{Timeout: httpTimeout}
	resp, err := hc.Get(p.banner.URL + "/healthz")
	if err != nil {
		t.Fatalf("a new client after %d idle connections: %v", flood, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %d", resp.StatusCode)
	}

	// Of the flood, at most the cap is still open: the server closed the
	// rest. Each connection is asked: an open one answers /healthz, a
	// closed one ends in EOF or a reset (no timer decides which).
	var open, closed int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetDeadline(time.Now().Add(httpTimeout)) // a bound for a hung server, not the test
			answered := false
			if _, err := c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: " + addr + "\r\n\r\n")); err == nil {
				if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
					resp.Body.Close()
					answered = true
				} else if errors.Is(err, os.ErrDeadlineExceeded) {
					t.Errorf("a flood connection neither answered nor closed within %v", httpTimeout)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if answered {
				open++
			} else {
				closed++
			}
		}()
	}
	wg.Wait()
	t.Logf("of %d connections, %d still open and %d closed by the server (cap %d)", flood, open, closed, maxConns)
	if open > maxConns {
		t.Errorf("%d flood connections still open, want at most the cap %d", open, maxConns)
	}
}
