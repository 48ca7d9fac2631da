package sqlite

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

func openTestDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// An event flood leaves the table at its cap, keeping the newest.
func TestPruneEventsKeepsNewest(t *testing.T) {
	db := openTestDB(t)
	ctx := t.Context()
	const flood, keep = 2345, 1000
	for i := range flood {
		if err := db.AddEvents(ctx, auth.Event{At: t0, Kind: auth.EventClock, Reason: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := db.PruneEvents(ctx, keep)
	if err != nil || n != flood-keep {
		t.Fatalf("PruneEvents deleted %d (%v), want %d", n, err, flood-keep)
	}
	if c, _ := db.CountEvents(ctx); c != keep {
		t.Fatalf("%d events left, want %d", c, keep)
	}
	events, _ := db.Events(ctx, 0, 1, "")
	if events[0].Reason != fmt.Sprint(flood-keep) {
		t.Errorf("oldest kept event is %q, want %d", events[0].Reason, flood-keep)
	}
	// New events still get growing IDs after a prune.
	db.AddEvents(ctx, auth.Event{At: t0, Kind: auth.EventClock, Reason: "after"})
	last, _ := db.Events(ctx, int64(flood), 10, "")
	if len(last) != 1 || last[0].ID != flood+1 {
		t.Errorf("events after the prune: %+v, want one with id %d", last, flood+1)
	}
}

// Identical rejections within the window share a row; a different one, or
// one after the window, gets its own.
func TestAddRejectionCoalesces(t *testing.T) {
	db := openTestDB(t)
	ctx := t.Context()
	bad := auth.Event{At: t0, Kind: auth.EventAccessRejected, Reason: "invalid_token"}
	for range 50 {
		if err := db.AddRejection(ctx, bad, time.Second); err != nil {
			t.Fatal(err)
		}
	}
	other := bad
	other.Reason = "token_expired"
	db.AddRejection(ctx, other, time.Second)
	later := bad
	later.At = t0.Add(1500 * time.Millisecond)
	db.AddRejection(ctx, later, time.Second)
	events, err := db.Events(ctx, 0, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		got = append(got, fmt.Sprintf("%s×%d", e.Reason, e.Count))
	}
	if fmt.Sprint(got) != "[invalid_token×50 token_expired×1 invalid_token×1]" {
		t.Errorf("events = %v", got)
	}
}

// Retention deletes only families that ended before the cutoff, with
// their tokens.
func TestPruneEndedFamilies(t *testing.T) {
	db := openTestDB(t)
	ctx := t.Context()
	day := 24 * time.Hour
	expiredLongAgo := newChain(t, db, day) // session max 1 day
	revokedLongAgo := newChain(t, db, 30*day)
	if _, err := db.RevokeFamily(ctx, revokedLongAgo.fam.ID, auth.EventLogout, "logout", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	tokensExpired := newChain(t, db, 30*day) // its only token lives an hour
	active := newChain(t, db, 30*day)
	now := t0.Add(10 * day)
	if _, err := active.redeem(t, active.fam.ID+"-t0", t0.Add(30*time.Minute), 0); err != nil {
		t.Fatal(err)
	}
	// Keep the active one's chain alive: a token that expires after now.
	revokedRecently := newChain(t, db, 30*day)
	db.RevokeFamily(ctx, revokedRecently.fam.ID, auth.EventLogout, "logout", now.Add(-day))
	for _, c := range []*chain{active, revokedRecently} {
		if _, err := db.write.ExecContext(ctx, `UPDATE refresh_tokens SET expires_at = ? WHERE family_id = ?`,
			now.Add(day).UnixNano(), c.fam.ID); err != nil {
			t.Fatal(err)
		}
	}

	n, err := db.PruneEndedFamilies(ctx, now.Add(-7*day))
	if err != nil || n != 3 {
		t.Fatalf("PruneEndedFamilies = %d, %v; want 3", n, err)
	}
	for _, c := range []*chain{expiredLongAgo, revokedLongAgo, tokensExpired} {
		if _, err := db.Family(ctx, c.fam.ID); err == nil {
			t.Errorf("%s ended long ago and was kept", c.fam.ID)
		}
		var left int
		db.read.QueryRowContext(ctx, `SELECT count(*) FROM refresh_tokens WHERE family_id = ?`, c.fam.ID).Scan(&left)
		if left != 0 {
			t.Errorf("%s: %d refresh tokens kept", c.fam.ID, left)
		}
	}
	for _, c := range []*chain{active, revokedRecently} {
		if _, err := db.Family(ctx, c.fam.ID); err != nil {
			t.Errorf("%s was pruned: %v", c.fam.ID, err)
		}
	}
}
