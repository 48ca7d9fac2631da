package mockserver

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// An event flood through the server leaves the table at --events-max: the
// background pruner keeps up while the flood is answered, and the newest
// events are the ones kept.
func TestEventFloodStaysAtCap(t *testing.T) {
	const cap = 50
	ts := newTestServer(t, func(c *Config) { c.EventsMax = cap })
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 60 {
				// Each clock move is a distinct event (rejections would
				// coalesce).
				r := ts.admin(t, http.MethodPost, "/admin/clock", map[string]string{"advance": fmt.Sprintf("%ds", w*100+i+1)})
				if r.Status != http.StatusOK {
					t.Errorf("clock move during the flood: %d %s", r.Status, r.Raw)
				}
			}
		}()
	}
	wg.Wait()
	// The pruner is nudged every cap/10 events, so at most that many stay
	// above the cap until the next nudge or tick; wait for it boundedly.
	deadline := time.Now().Add(5 * time.Second)
	var n int64
	for {
		var err error
		if n, err = ts.DB.CountEvents(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n <= cap+cap/10 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n > cap+cap/10 {
		t.Fatalf("%d events after a flood of 360, want at most about %d", n, cap)
	}
	ts.prune(t.Context())
	events, err := ts.DB.Events(t.Context(), 0, 1000, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != cap {
		t.Fatalf("%d events after a prune, want exactly %d", len(events), cap)
	}
	if last := events[len(events)-1]; last.Reason != "now "+ts.Clock.Now().Format(time.RFC3339) {
		t.Errorf("the newest event kept is %+v, want the last clock move", last)
	}
}

// A flood of the same invalid token is one row with a count, shown in
// /admin/events; after a second, a new row starts.
func TestRejectionsCoalesceInEvents(t *testing.T) {
	ts := newTestServer(t)
	for range 40 {
		if r := ts.do(t, http.MethodGet, "/protected", nil, bearerHeader("not.a.token")...); r.Status != http.StatusUnauthorized {
			t.Fatalf("/protected with a bad token: %d", r.Status)
		}
	}
	ts.Clock.Advance(2 * time.Second)
	ts.do(t, http.MethodGet, "/protected", nil, bearerHeader("not.a.token")...)
	r := ts.admin(t, http.MethodGet, "/admin/events", nil)
	var body struct {
		Events []struct {
			Kind  string `json:"kind"`
			Count int    `json:"count"`
		} `json:"events"`
	}
	decodeInto(t, r.Raw, &body)
	var counts []int
	for _, e := range body.Events {
		if e.Kind == "access_rejected" {
			counts = append(counts, e.Count)
		}
	}
	if fmt.Sprint(counts) != "[40 1]" {
		t.Errorf("access_rejected counts = %v, want [40 1] (%s)", counts, r.Raw)
	}
}

// Retention prunes sessions that ended longer ago than --retention, and
// only those.
func TestRetentionPrunesOnlyOldEndedSessions(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.Retention = 7 * 24 * time.Hour })
	_, oldRefresh := ts.login(t)
	if r := ts.do(t, http.MethodPost, "/logout", map[string]string{"token": oldRefresh}); r.Status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r.Status, r.Raw)
	}
	ts.Clock.Advance(6 * 24 * time.Hour)
	_, recentRefresh := ts.login(t)
	ts.do(t, http.MethodPost, "/logout", map[string]string{"token": recentRefresh})
	_, activeRefresh := ts.login(t)
	ts.Clock.Advance(2 * 24 * time.Hour) // the first logout is now 8 days old, the second 2

	ts.pruneEnded(t.Context())
	sessions := func(refresh string) int {
		r := ts.admin(t, http.MethodGet, "/admin/sessions?family="+claimsFID(t, ts, refresh), nil)
		var body struct {
			Sessions []sessionView `json:"sessions"`
		}
		decodeInto(t, r.Raw, &body)
		return len(body.Sessions)
	}
	if sessions(oldRefresh) != 0 {
		t.Errorf("the session revoked 8 days ago is still listed")
	}
	if sessions(recentRefresh) != 1 || sessions(activeRefresh) != 1 {
		t.Errorf("a recent or active session was pruned")
	}
	if r := ts.do(t, http.MethodPost, "/token", map[string]string{"token": activeRefresh}); r.Status != http.StatusOK {
		t.Errorf("the active session no longer refreshes: %d %s", r.Status, r.Raw)
	}
}
