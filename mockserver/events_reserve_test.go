package mockserver

import (
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// client_auth_failed is a rejection a client produces at will, with no
// credentials and so no bcrypt: identical ones share a row, as the other
// rejections do (46 000 rows in 3 s turned the log over before).
func TestClientAuthFailuresCoalesce(t *testing.T) {
	ts := newTestServer(t)
	const flood = 300
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range flood / 4 {
				if r := ts.form(t, "/oauth/token", "grant_type", "client_credentials", "client_id", "no-such-client"); r.Status != http.StatusUnauthorized {
					t.Errorf("unknown client: %d %s", r.Status, r.Raw)
				}
			}
		}()
	}
	wg.Wait()
	events, err := ts.DB.Events(t.Context(), 0, 10000, "")
	if err != nil {
		t.Fatal(err)
	}
	rows, total := 0, int64(0)
	for _, e := range events {
		if e.Kind == auth.EventClientAuthFailed {
			rows++
			total += e.Count
		}
	}
	if total != flood {
		t.Fatalf("the rows stand for %d failures, want %d", total, flood)
	}
	if rows > 4 { // the frozen clock keeps them in one window; a row may start per racing writer
		t.Fatalf("%d client_auth_failed rows for %d identical failures", rows, flood)
	}
}

// A flood of ordinary events cannot push the security events
// (reuse_detected, family_revoked, admin actions) out of the log: a share
// of it is kept for them.
func TestSecurityEventsSurviveFlood(t *testing.T) {
	const max, flood = 100, 400
	ts := newTestServer(t, func(c *Config) { c.EventsMax = max })
	_, refresh := ts.login(t)
	if r := ts.do(t, "POST", "/token", map[string]string{"token": refresh}); r.Status != http.StatusOK {
		t.Fatalf("refresh: %d %s", r.Status, r.Raw)
	}
	if r := ts.do(t, "POST", "/token", map[string]string{"token": refresh}); r.Status != http.StatusUnauthorized {
		t.Fatalf("replay: %d %s", r.Status, r.Raw)
	}
	if r := ts.admin(t, "POST", "/admin/clock", map[string]string{"advance": "1s"}); r.Status != http.StatusOK {
		t.Fatalf("clock: %d %s", r.Status, r.Raw)
	}
	security := []string{auth.EventReuseDetected, auth.EventFamilyRevoked, auth.EventClock}
	for _, k := range security {
		if !slices.Contains(ts.eventKinds(t), k) {
			t.Fatalf("no %s event to begin with: %v", k, ts.eventKinds(t))
		}
	}
	for range flood {
		ts.login(t) // a login event each, never coalesced
	}
	ts.prune(t.Context())
	kinds := ts.eventKinds(t)
	if len(kinds) > max {
		t.Fatalf("%d events after a prune, want at most %d", len(kinds), max)
	}
	for _, k := range security {
		if !slices.Contains(kinds, k) {
			t.Errorf("%d logins pushed the %s event out of a log of %d rows", flood, k, max)
		}
	}
	if kinds[len(kinds)-1] != auth.EventLogin || len(kinds) < max-max/10 {
		t.Errorf("the log kept %d rows ending in %s, want about %d ending in the newest login", len(kinds), kinds[len(kinds)-1], max)
	}
}
