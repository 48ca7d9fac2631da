package client

import (
	"testing"
	"time"
)

// TestTokenJudgedByServerClock: the server's clock moves 10 minutes on
// (a lab server's /admin/clock) while ours stays; once an answer's Date
// header says so, Token refreshes instead of handing out a token the
// server already rejects, and the offset is kept with the session for
// the next process.
func TestTokenJudgedByServerClock(t *testing.T) {
	f := newFakeAPI(t, fakeConfig{Rotate: true, SendExpiresIn: true, AccessTTL: 5 * time.Minute})
	st := NewMemoryStore()
	tc := newTestClient(t, f, builtinProfile(t, "tokenlab"), st)
	first := tc.login(t)
	f.advance(10 * time.Minute)
	if err := tc.SyncServerClock(t.Context()); err != nil {
		t.Fatalf("SyncServerClock: %v", err)
	}
	if got := tc.ServerClockOffset(); got != 10*time.Minute {
		t.Fatalf("offset = %v, want 10m", got)
	}
	tok, err := tc.Token(t.Context())
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if tok == first.AccessToken || f.refreshes.Load() != 1 {
		t.Fatalf("Token handed out the expired token (refreshes %d), want a refresh first", f.refreshes.Load())
	}
	stored, err := st.Load(t.Context(), tc.Key())
	if err != nil || stored.ServerClockOffset != 10*time.Minute {
		t.Fatalf("stored offset = %v (%v), want 10m", stored.ServerClockOffset, err)
	}
	if want := f.Now().Add(5 * time.Minute); !stored.AccessExpiry.Equal(want) {
		t.Errorf("AccessExpiry = %v, want %v: the server's now plus expires_in", stored.AccessExpiry, want)
	}

	// A new process (a new client on the same store) starts from the kept
	// offset before it hears from the server: the new token is still good.
	next := newTestClient(t, f, builtinProfile(t, "tokenlab"), st, WithClock(tc.clock))
	if tok2, err := next.Token(t.Context()); err != nil || tok2 != tok || f.refreshes.Load() != 1 {
		t.Fatalf("the next process: token changed %v, %v, refreshes %d; want the kept token", tok2 != tok, err, f.refreshes.Load())
	}
	if got := next.ServerClockOffset(); got != 10*time.Minute {
		t.Errorf("the next process's offset = %v, want the kept 10m", got)
	}
}

// TestServerClockWithinASecondIsNone: Date has whole seconds, so an
// offset under a second is noise.
func TestServerClockWithinASecondIsNone(t *testing.T) {
	f := newFakeAPI(t, fakeConfig{})
	tc := newTestClient(t, f, builtinProfile(t, "tokenlab"), nil)
	tc.clock.advance(700 * time.Millisecond)
	if err := tc.SyncServerClock(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := tc.ServerClockOffset(); got != 0 {
		t.Errorf("offset = %v, want 0 within the Date header's second", got)
	}
}
