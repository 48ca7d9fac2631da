package mockserver

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

// refreshAll sends the same refresh token n times at once and returns the
// answers.
func refreshAll(t *testing.T, ts *testServer, token string, n int) []reply {
	t.Helper()
	replies := make([]reply, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			replies[i] = ts.do(t, http.MethodPost, "/token", map[string]string{"token": token})
		})
	}
	close(start)
	wg.Wait()
	return replies
}

func TestConcurrentRefreshOneWinner(t *testing.T) {
	ts := newTestServer(t)
	_, refresh := ts.login(t)
	// The first loser to commit detects the reuse and revokes the family;
	// the rest find the family revoked.
	ok, reused, revoked := 0, 0, 0
	for _, r := range refreshAll(t, ts, refresh, 50) {
		switch {
		case r.Status == 200:
			ok++
		case r.Status == 401 && r.str("error") == "token_reused":
			reused++
		case r.Status == 401 && r.str("error") == "token_revoked":
			revoked++
		default:
			t.Errorf("unexpected answer %d %s", r.Status, r.Raw)
		}
	}
	if ok != 1 || reused != 1 || revoked != 48 {
		t.Fatalf("%d succeeded, %d reused, %d revoked; want exactly 1, 1 and 48", ok, reused, revoked)
	}
	sessions, err := allSessions(t.Context(), ts.DB)
	if err != nil {
		t.Fatal(err)
	}
	if len(sessions) != 1 || len(sessions[0].Tokens) != 2 || !sessions[0].Family.Revoked() {
		t.Fatalf("want one revoked family with the login token and one successor, got %+v", sessions)
	}
}

// TestConcurrentRefreshWithinGrace: 100 replays of one token inside the
// grace window all succeed, and all get the same successor: one chain, not
// 100 (token rule 7). It failed before the rule, with 100 live chains.
func TestConcurrentRefreshWithinGrace(t *testing.T) {
	for _, alg := range []string{"HS256", "ES256"} {
		t.Run(alg, func(t *testing.T) { testConcurrentRefreshWithinGrace(t, alg) })
	}
}

func testConcurrentRefreshWithinGrace(t *testing.T, alg string) {
	ts := newTestServer(t, func(c *Config) { c.ReuseGrace, c.Alg = 10*time.Second, alg })
	_, refresh := ts.login(t)
	seen := map[string]bool{}
	for _, r := range refreshAll(t, ts, refresh, 100) {
		if r.Status != 200 {
			t.Fatalf("inside the grace window every refresh must succeed: %d %s", r.Status, r.Raw)
		}
		seen[r.str("refreshToken")] = true
	}
	if len(seen) != 1 {
		t.Errorf("got %d distinct successors, want 1 (the same successor signed again is the same bytes)", len(seen))
	}
	sessions, err := allSessions(t.Context(), ts.DB)
	if err != nil {
		t.Fatal(err)
	}
	if len(sessions) != 1 || sessions[0].Family.Revoked() || len(sessions[0].Tokens) > 3 {
		t.Fatalf("want one live family holding the login token, its successor and at most one sibling; got %d families (first: revoked=%v, %d tokens)",
			len(sessions), len(sessions) > 0 && sessions[0].Family.Revoked(), len(sessions[0].Tokens))
	}
	live := 0
	for _, tok := range sessions[0].Tokens {
		if tok.State(sessions[0].Family, ts.Clock.Now()) == "active" {
			live++
		}
	}
	if live > 2 {
		t.Fatalf("%d live chains after 100 grace replays, want at most 2 (one extra)", live)
	}
	for _, k := range ts.eventKinds(t) {
		if k == "family_revoked" || k == "reuse_detected" {
			t.Fatalf("nothing may be revoked inside the grace window; events: %v", ts.eventKinds(t))
		}
	}
	// Past the window, a replay is reuse again.
	ts.Clock.Advance(11 * time.Second)
	if r := ts.do(t, "POST", "/token", map[string]string{"token": refresh}); r.str("error") != "token_reused" {
		t.Fatalf("replay after the grace window: %d %s", r.Status, r.Raw)
	}
}
