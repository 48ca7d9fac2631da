package sqlite

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// The newest security events stay through any number of prunes, within
// their share of the log; ordinary rows fill the rest, newest first.
func TestPruneEventsKeepsSecurityShare(t *testing.T) {
	db := openTestDB(t)
	ctx := t.Context()
	const keep = 100
	add := func(kind string, i int) {
		t.Helper()
		if err := db.AddEvents(ctx, auth.Event{At: t0, Kind: kind, Reason: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	// 15 security events, more than the share of 10, then a flood.
	for i := range 15 {
		add(auth.SecurityEvents[i%len(auth.SecurityEvents)], i)
	}
	for round := range 3 {
		for i := range 400 {
			add(auth.EventLogin, round*1000+i)
		}
		if _, err := db.PruneEvents(ctx, keep); err != nil {
			t.Fatal(err)
		}
	}
	events, err := db.Events(ctx, 0, 1000, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != keep {
		t.Fatalf("%d events after the prunes, want %d", len(events), keep)
	}
	var security []string
	for _, e := range events {
		if slices.Contains(auth.SecurityEvents, e.Kind) {
			security = append(security, e.Reason)
		}
	}
	if want := []string{"5", "6", "7", "8", "9", "10", "11", "12", "13", "14"}; !slices.Equal(security, want) {
		t.Fatalf("security events kept: %v, want the newest ten %v", security, want)
	}
	if last := events[len(events)-1]; last.Reason != "2399" {
		t.Fatalf("the newest row kept is %+v, want the last login", last)
	}
}

// The pruner's search stays cheap on a full log of the default size.
func TestPruneEventsFullLogCost(t *testing.T) {
	if testing.Short() {
		t.Skip("fills 100 000 rows")
	}
	db := openTestDB(t)
	ctx := t.Context()
	const keep = 100000
	batch := make([]auth.Event, 1000)
	for i := range batch {
		batch[i] = auth.Event{At: t0, Kind: auth.EventLogin}
	}
	for range keep/len(batch) + 1 {
		if err := db.AddEvents(ctx, batch...); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	n, err := db.PruneEvents(ctx, keep)
	if err != nil || n != int64(len(batch)) {
		t.Fatalf("PruneEvents: %d, %v", n, err)
	}
	t.Logf("a prune of a %d-row log took %v", keep, time.Since(start)) // reported, not asserted
}
