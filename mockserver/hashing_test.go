package mockserver

import (
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// With every hashing slot taken and the queue full, a password check is
// turned away at once with 503, Retry-After and a JSON error, in both
// dialects and for registration; once a slot frees, logins work again.
func TestHashingFullAnswers503(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.HashWorkers, c.HashQueue = 1, 1 })
	h := ts.hashing
	h.slots <- struct{}{}
	h.waiting.Store(h.maxWaiting)
	check := func(name string, r reply, code string) {
		t.Helper()
		if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") != "1" || r.str("error") != code {
			t.Errorf("%s: %d Retry-After %q %s, want 503, Retry-After 1 and %s", name, r.Status, r.Header.Get("Retry-After"), r.Raw, code)
		}
	}
	check("/login", ts.do(t, http.MethodPost, "/login", map[string]string{"username": "alice", "password": "password123"}), "temporarily_unavailable")
	check("/register", ts.do(t, http.MethodPost, "/register", map[string]string{"username": "bob", "password": "password123"}), "temporarily_unavailable")
	check("/oauth/token", ts.form(t, "/oauth/token", "grant_type", "password", "username", "alice", "password", "password123"), "temporarily_unavailable")
	if r := ts.do(t, http.MethodGet, "/healthz", nil); r.Status != http.StatusOK {
		t.Errorf("/healthz while hashing is full: %d", r.Status)
	}
	<-h.slots
	h.waiting.Store(0)
	ts.login(t)
}

// --login-rate limits password checks per client address.
func TestLoginRatePerClient(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.LoginRate = 0.5 })
	ts.login(t)
	r := ts.do(t, http.MethodPost, "/login", map[string]string{"username": "alice", "password": "password123"})
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || r.str("error") != "too_many_requests" {
		t.Fatalf("second login at once: %d Retry-After %q %s, want 429 with Retry-After", r.Status, r.Header.Get("Retry-After"), r.Raw)
	}
}

// A 16-way login flood at the real bcrypt cost leaves /healthz and
// /protected answering; their p99 is logged, never asserted. Logins get
// 200 or, beyond the queue, 503 with Retry-After.
func TestLoginFloodLeavesHealthzAnswering(t *testing.T) {
	if testing.Short() {
		t.Skip("a few seconds of bcrypt")
	}
	ts := newTestServer(t, func(c *Config) { c.BcryptCost = bcrypt.DefaultCost })
	access, _ := ts.login(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				select {
				case <-stop:
					return
				default:
				}
				r := ts.do(t, http.MethodPost, "/login", map[string]string{"username": "alice", "password": "wrong-password"})
				if r.Status == http.StatusServiceUnavailable && r.Header.Get("Retry-After") == "" {
					t.Errorf("503 without Retry-After")
				}
				mu.Lock()
				statuses[r.Status]++
				mu.Unlock()
			}
		}()
	}
	probe := func(path string, header ...string) []time.Duration {
		var took []time.Duration
		for range 40 {
			start := time.Now()
			r := ts.do(t, http.MethodGet, path, nil, header...)
			took = append(took, time.Since(start))
			if r.Status != http.StatusOK {
				t.Errorf("%s during the flood: %d %s", path, r.Status, r.Raw)
			}
			time.Sleep(10 * time.Millisecond) // spread the probes over the flood
		}
		return took
	}
	health := probe("/healthz")
	protected := probe("/protected", bearerHeader(access)...)
	close(stop)
	wg.Wait()
	for status := range statuses {
		if status != http.StatusUnauthorized && status != http.StatusServiceUnavailable {
			t.Errorf("a flooding login got %d; want 401 (wrong password) or 503 (busy)", status)
		}
	}
	t.Logf("login answers %v; /healthz p99 %v, /protected p99 %v (%d probes each)", statuses, p99(health), p99(protected), len(health))
}

func p99(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[(len(d)*99)/100]
}
