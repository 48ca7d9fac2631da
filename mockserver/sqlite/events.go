package sqlite

import (
	"context"
	"database/sql"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// AddEvents appends events to the log.
func (db *DB) AddEvents(ctx context.Context, events ...auth.Event) error {
	return db.tx(ctx, func(tx wtx) error { return addEvents(tx, events...) })
}

// qInsertEvent writes an event; its client is the event's own, else the
// client of its family (events_client.go).
const qInsertEvent = `INSERT INTO events (at, kind, username, family_id, jti, reason, trace, client_id) VALUES (?, ?, ?, ?, ?, ?, ?, ` + qEventClient + `)`

func addEvents(tx wtx, events ...auth.Event) error {
	for _, e := range events {
		if _, err := tx.ExecContext(tx.ctx, qInsertEvent,
			e.At.UnixNano(), e.Kind, e.Username, e.FamilyID, e.JTI, e.Reason, tx.traceOf(e), e.ClientID, e.FamilyID); err != nil {
			return err
		}
	}
	return nil
}

// traceOf is the trace an event is written with: its own, else the
// request's.
func (t wtx) traceOf(e auth.Event) string {
	if e.Trace != "" {
		return e.Trace
	}
	return t.trace
}

// eventColumns are what queryEvents scans, in its order.
const eventColumns = `id, at, kind, username, family_id, jti, reason, trace, count, client_id`

// Events returns up to limit events with an ID above after, oldest first;
// with a trace, only the events of requests that carried it.
func (db *DB) Events(ctx context.Context, after int64, limit int, trace string) ([]auth.Event, error) {
	if trace != "" {
		return db.queryEvents(ctx, `SELECT `+eventColumns+` FROM events WHERE trace = ? AND id > ? ORDER BY id LIMIT ?`, trace, after, limit)
	}
	return db.queryEvents(ctx, `SELECT `+eventColumns+` FROM events WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
}

// queryEvents runs a query that selects eventColumns.
func (db *DB) queryEvents(ctx context.Context, query string, args ...any) ([]auth.Event, error) {
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	events := []auth.Event{}
	for rows.Next() {
		var e auth.Event
		var at sql.NullInt64
		if err := rows.Scan(&e.ID, &at, &e.Kind, &e.Username, &e.FamilyID, &e.JTI, &e.Reason, &e.Trace, &e.Count, &e.ClientID); err != nil {
			return nil, err
		}
		e.At = fromNanos(at)
		events = append(events, e)
	}
	return events, rows.Err()
}
