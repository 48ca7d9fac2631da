package mockserver

import (
	"context"
	"testing"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// An audit event is stored even when the request that caused it has ended
// (its client hung up): what happened must be in the log.
func TestEventStoredAfterRequestEnds(t *testing.T) {
	ts := newTestServer(t)
	ended, cancel := context.WithCancel(t.Context())
	cancel()
	for _, kind := range []string{EventKeysRotated, auth.EventLoginFailed} { // a plain event and a coalesced rejection
		ts.event(ended, auth.Event{At: ts.Clock.Now(), Kind: kind, Reason: "written after the client hung up"})
	}
	events, err := ts.DB.Events(t.Context(), 0, 1000, "")
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	for _, e := range events {
		if e.Reason == "written after the client hung up" {
			stored[e.Kind] = true
		}
	}
	for _, kind := range []string{EventKeysRotated, auth.EventLoginFailed} {
		if !stored[kind] {
			t.Errorf("event %s written with an ended request's context was lost", kind)
		}
	}
}
