package mockserver

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// withHost sends method path to ts with the Host header host.
func (ts *testServer) withHost(tb testing.TB, method, path, host, body string) (*http.Response, map[string]any) {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Host = host
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := ts.http.Do(req)
	if err != nil {
		tb.Fatalf("%s %s (Host %s): %v", method, path, host, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		tb.Fatalf("%s %s (Host %s): not JSON: %s", method, path, host, raw)
	}
	return resp, m
}

// DNS rebinding: a page on a name the attacker controls, re-pointed at
// 127.0.0.1, reaches the server with its own name in Host. On a loopback
// listener only loopback names and the issuer's host are answered.
func TestLoopbackRefusesForeignHost(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.Issuer = "http://tokenlab.test:8080" })
	port := ts.URL[strings.LastIndex(ts.URL, ":"):]
	login := `{"username":"alice","password":"password123"}`
	for _, host := range []string{"rebind.attacker.example" + port, "attacker.example", "127.0.0.1.attacker.example" + port,
		"localhost.attacker.example", "tokenlab.test.attacker.example:8080", "10.0.0.1" + port} {
		t.Run(host, func(t *testing.T) {
			for _, path := range []string{"/healthz", "/login"} {
				method, body := "GET", ""
				if path == "/login" {
					method, body = "POST", login
				}
				resp, m := ts.withHost(t, method, path, host, body)
				if resp.StatusCode != http.StatusMisdirectedRequest || m["error"] != "misdirected_request" {
					t.Fatalf("%s %s with Host %s: %d %v, want 421 misdirected_request", method, path, host, resp.StatusCode, m)
				}
				if len(resp.Cookies()) > 0 {
					t.Fatalf("a refused host got cookies: %v", resp.Cookies())
				}
			}
		})
	}
	for _, host := range []string{"127.0.0.1" + port, "127.9.8.7" + port, "localhost" + port, "LocalHost", "app.localhost" + port,
		"[::1]" + port, "tokenlab.test:8080", "TOKENLAB.test"} {
		t.Run(host, func(t *testing.T) {
			if resp, m := ts.withHost(t, "POST", "/login", host, login); resp.StatusCode != http.StatusOK {
				t.Fatalf("login with Host %s: %d %v", host, resp.StatusCode, m)
			}
		})
	}
}
