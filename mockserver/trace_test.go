package mockserver

import (
	"fmt"
	"net/http"
	"testing"
)

// tracedEvents reads the admin API's events of one trace: kind → summed count.
func (ts *testServer) tracedEvents(tb testing.TB, trace string) map[string]int {
	tb.Helper()
	r := ts.admin(tb, http.MethodGet, "/admin/events?trace="+trace, nil)
	if r.Status != http.StatusOK {
		tb.Fatalf("GET /admin/events?trace=%s: %d %s", trace, r.Status, r.Raw)
	}
	counts := map[string]int{}
	list, _ := r.Body["events"].([]any)
	for _, e := range list {
		ev := e.(map[string]any)
		if got := ev["trace"]; got != trace {
			tb.Errorf("the events of trace %s include one of trace %v: %v", trace, got, ev)
		}
		counts[ev["kind"].(string)] += int(ev["count"].(float64))
	}
	return counts
}

// Two scenarios share a server: each reads only the events its own
// requests caused, including rejections that the server coalesces, and
// including the events written inside the store's transactions (login,
// refresh, reuse detection).
func TestEventsAreScopedByTrace(t *testing.T) {
	ts := newTestServer(t)
	login := func(trace string) (string, string) {
		r := ts.do(t, http.MethodPost, "/login", map[string]string{"username": "alice", "password": "password123"}, "Tokenlab-Trace", trace)
		if r.Status != http.StatusOK {
			t.Fatalf("login: %d %s", r.Status, r.Raw)
		}
		return r.str("accessToken"), r.str("refreshToken")
	}
	_, rtA := login("scenario-a")
	login("scenario-b")
	// A refreshes, then replays the spent token: reuse detected in A only.
	if r := ts.do(t, http.MethodPost, "/token", map[string]string{"token": rtA}, "Tokenlab-Trace", "scenario-a"); r.Status != http.StatusOK {
		t.Fatalf("refresh: %d %s", r.Status, r.Raw)
	}
	ts.do(t, http.MethodPost, "/token", map[string]string{"token": rtA}, "Tokenlab-Trace", "scenario-a")
	// The same forged token three times from B and once from A, on a
	// frozen clock: B's three share one row, A's is its own.
	for _, trace := range []string{"scenario-b", "scenario-b", "scenario-a", "scenario-b"} {
		ts.do(t, http.MethodGet, "/protected", nil, "Authorization", "Bearer forged.token.x", "Tokenlab-Trace", trace)
	}

	a, b := ts.tracedEvents(t, "scenario-a"), ts.tracedEvents(t, "scenario-b")
	want := map[string]map[string]int{
		"scenario-a": {"login": 1, "refresh": 1, "rotation": 1, "reuse_detected": 1, "family_revoked": 1, "access_rejected": 1},
		"scenario-b": {"login": 1, "access_rejected": 3},
	}
	for name, got := range map[string]map[string]int{"scenario-a": a, "scenario-b": b} {
		if fmt.Sprint(got) != fmt.Sprint(want[name]) {
			t.Errorf("%s's events: got %v, want %v", name, got, want[name])
		}
	}
	// Untraced readers still see everything.
	if all := len(ts.eventKinds(t)); all < 8 {
		t.Errorf("the whole log has %d rows, want every row of both", all)
	}
}

func TestEventsTraceIsValidated(t *testing.T) {
	ts := newTestServer(t)
	if r := ts.admin(t, http.MethodGet, "/admin/events?trace=a%20b", nil); r.Status != http.StatusBadRequest || r.str("error") != "invalid_request" {
		t.Errorf("a trace with a space: %d %s, want 400 invalid_request", r.Status, r.Raw)
	}
	// A malformed trace header is ignored, not refused: the request works
	// and its events carry no trace.
	long := make([]byte, 65)
	for i := range long {
		long[i] = 'x'
	}
	r := ts.do(t, http.MethodPost, "/login", map[string]string{"username": "alice", "password": "password123"}, "Tokenlab-Trace", string(long))
	if r.Status != http.StatusOK {
		t.Fatalf("login with an overlong trace: %d %s", r.Status, r.Raw)
	}
	if got := ts.tracedEvents(t, string(long[:64])); len(got) != 0 {
		t.Errorf("an overlong trace was cut and kept: %v", got)
	}
}

// A client may send any trace, and a new trace per request made every
// rejection a row of its own (2000 forged tokens: 2000 rows, where one
// trace or none gives one), so a client with no credentials could push
// the whole ordinary log out in seconds. Past a few dozen traces among
// the newest rows, an identical rejection counts in the untraced row.
func TestTraceFloodStillCoalesces(t *testing.T) {
	ts := newTestServer(t)
	before, err := ts.DB.CountEvents(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		ts.do(t, http.MethodGet, "/protected", nil, "Authorization", "Bearer forged.token.x", "Tokenlab-Trace", fmt.Sprintf("flood-%d", i))
	}
	after, err := ts.DB.CountEvents(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rows := after - before; rows > 40 {
		t.Errorf("500 identical rejections, each with a new trace, took %d rows", rows)
	}
	// Every rejection is still counted, traced or not.
	events, err := ts.DB.Events(t.Context(), 0, 10000, "")
	if err != nil {
		t.Fatal(err)
	}
	var counted int64
	for _, e := range events {
		if e.Kind == "access_rejected" {
			counted += e.Count
		}
	}
	if counted != 500 {
		t.Errorf("the rows count %d rejections, want 500", counted)
	}
}
