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

const qInsertEvent = `INSERT INTO events (at, kind, username, family_id, jti, reason) VALUES (?, ?, ?, ?, ?, ?)`

func addEvents(tx wtx, events ...auth.Event) error {
	for _, e := range events {
		if _, err := tx.ExecContext(tx.ctx, qInsertEvent,
			e.At.UnixNano(), e.Kind, e.Username, e.FamilyID, e.JTI, e.Reason); err != nil {
			return err
		}
	}
	return nil
}

// Events returns up to limit events with an ID above after, oldest first.
func (db *DB) Events(ctx context.Context, after int64, limit int) ([]auth.Event, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, at, kind, username, family_id, jti, reason, count
		FROM events WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	events := []auth.Event{}
	for rows.Next() {
		var e auth.Event
		var at sql.NullInt64
		if err := rows.Scan(&e.ID, &at, &e.Kind, &e.Username, &e.FamilyID, &e.JTI, &e.Reason, &e.Count); err != nil {
			return nil, err
		}
		e.At = fromNanos(at)
		events = append(events, e)
	}
	return events, rows.Err()
}
