package scenarios

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"maps"
	"net/http"
	"slices"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// A scenario's server events are the events of its own requests: every
// request it sends (its clients', its browser's, its admin calls) carries
// the scenario run's trace in auth.TraceHeader, the server labels the
// events each request causes with it, and the runner reads only the
// events of that trace. So a scenario sharing a server with others (-j,
// a team's staging server) never counts their events, and theirs never
// count its.
//
// The server coalesces identical rejections into one row with a count
// (within a second of its clock, so on a frozen clock until it moves): a
// step's events are therefore the rows that are new since before the
// step plus the growth of the rows that were already there.

// ownEvents are a scenario's rows in the server's event log, by ID.
type ownEvents map[int64]serverEvent

// newTrace names one scenario run with 96 random bits: another client of
// a shared server cannot guess it, so it cannot slip events into a
// scenario's count (a false pass) or its no_events (a false failure).
func newTrace() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "tokenlab-" + hex.EncodeToString(b)
}

// tracing adds the scenario's trace to every request.
type tracing struct {
	base  http.RoundTripper
	trace string
}

func (t tracing) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context()) // a RoundTripper must not change its caller's request
	req.Header.Set(auth.TraceHeader, t.trace)
	return t.base.RoundTrip(req)
}

// errNoAdmin is why server events cannot be read.
var errNoAdmin = errors.New("need the admin API of a tokenlab server (--admin-token)")

// errUnscoped is why a server's events cannot be told apart.
var errUnscoped = errors.New("this server cannot tell one scenario's events from another's (it does not label events with " +
	auth.TraceHeader + "; it is an older tokenlab): upgrade it")

// ownServerEvents reads every event of this scenario's trace.
func (w *world) ownServerEvents(ctx context.Context) (ownEvents, error) {
	if w.app != nil {
		return w.appEvents(ctx) // the app's requests carry no trace: its client's events
	}
	if w.admin == nil {
		return nil, errNoAdmin
	}
	events, err := w.admin.events(ctx, w.trace, 0)
	if err != nil {
		return nil, err
	}
	own := make(ownEvents, len(events))
	for _, e := range events {
		if e.Trace != w.trace { // a server that ignored ?trace=
			return nil, errUnscoped
		}
		own[e.ID] = e
	}
	return own, nil
}

// serverEventsSince lists the kinds of this scenario's events since
// before was read, once per occurrence: a new row counts its count, an
// old row the growth of its count. Oldest first.
func (w *world) serverEventsSince(ctx context.Context, before ownEvents) ([]string, error) {
	now, err := w.ownServerEvents(ctx)
	if err != nil {
		return nil, err
	}
	return eventsBetween(before, now), nil
}

// eventsBetween lists the kinds of the events in now that are not in
// before (or have grown), once per occurrence, oldest first.
func eventsBetween(before, now ownEvents) []string {
	var kinds []string
	for _, id := range slices.Sorted(maps.Keys(now)) {
		e := now[id]
		n := max(e.Count, 1)
		if old, seen := before[id]; seen {
			n = e.Count - old.Count
		}
		for range n {
			kinds = append(kinds, e.Kind)
		}
	}
	return kinds
}
