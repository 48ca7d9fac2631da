package main

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// dialSlowBody opens a connection that sends a POST's headers and the
// first byte of a body it promises to be 1 000 bytes long, and then
// nothing: a client trickling its body.
func dialSlowBody(tb testing.TB, addr string) net.Conn {
	tb.Helper()
	c, err := net.DialTimeout("tcp", addr, httpTimeout)
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(httpTimeout))
	c.Write([]byte("POST /login HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"))
	return c
}

// Connections trickling their bodies do not lock out new clients: one
// still reading its request is evictable, so /healthz answers while a
// flood of slow bodies holds every slot of --max-conns.
func TestServeE2ESlowBodiesDoNotLockOut(t *testing.T) {
	t.Parallel()
	const maxConns, flood, probes = 40, 160, 10
	p := startServe(t, "--max-conns", "40", "--quiet")
	addr := strings.TrimPrefix(p.banner.URL, "http://")
	for range flood {
		dialSlowBody(t, addr)
	}
	hc := &http.Client{Timeout: httpTimeout, Transport: &http.Transport{DisableKeepAlives: true}}
	var took []time.Duration
	failed := 0
	for i := range probes {
		dialSlowBody(t, addr) // the flood goes on between the probes
		start := time.Now()
		resp, err := hc.Get(p.banner.URL + "/healthz")
		if err != nil {
			failed++
			t.Logf("probe %d: %v", i, err)
			continue
		}
		resp.Body.Close()
		took = append(took, time.Since(start))
		if resp.StatusCode != http.StatusOK {
			failed++
			t.Logf("probe %d: %s", i, resp.Status)
		}
	}
	slices.Sort(took)
	if len(took) > 0 {
		t.Logf("/healthz under %d slow bodies (cap %d): %d answered, median %v, slowest %v",
			flood+probes, maxConns, len(took), took[len(took)/2], took[len(took)-1])
	}
	if failed > 0 {
		t.Fatalf("%d of %d /healthz probes failed while slow bodies held the %d connections", failed, probes, maxConns)
	}
}

// A body that stops arriving is cut off after --body-timeout with a JSON
// 408, and headers that stop arriving after --header-timeout: neither
// holds a connection for the old 30 s.
func TestServeE2EBodyTimeout(t *testing.T) {
	t.Parallel()
	p := startServe(t, "--body-timeout", "200ms", "--header-timeout", "200ms", "--quiet")
	addr := strings.TrimPrefix(p.banner.URL, "http://")

	c := dialSlowBody(t, addr)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("a stalled body got no answer within %v: %v", httpTimeout, err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("the answer to a stalled body is not JSON: %v", err)
	}
	if resp.StatusCode != http.StatusRequestTimeout || body["error"] != "request_timeout" {
		t.Fatalf("a stalled body: %d %v, want 408 request_timeout", resp.StatusCode, body)
	}

	h, err := net.DialTimeout("tcp", addr, httpTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	h.SetDeadline(time.Now().Add(httpTimeout))
	h.Write([]byte("GET /healthz HTTP/1.1\r\nHost: " + addr + "\r\n"))
	if _, err := h.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Fatalf("stalled headers were not cut off within %v: %v", httpTimeout, err)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
