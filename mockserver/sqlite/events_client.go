package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// qEventClient is the client an event is written with: the event's own
// (its first argument), else its family's (the second), else none. So
// every event of a session — refresh, rotation, reuse_detected, logout —
// names the client without each writer having to.
const qEventClient = `coalesce(nullif(?, ''), (SELECT client_id FROM families WHERE id = ?), '')`

// ClientEvents returns up to limit events of one OAuth client with an ID
// above after, oldest first; with a trace, only that trace's.
func (db *DB) ClientEvents(ctx context.Context, after int64, limit int, clientID, trace string) ([]auth.Event, error) {
	return db.queryEvents(ctx, `SELECT `+eventColumns+` FROM events WHERE client_id = ? AND (? = '' OR trace = ?) AND id > ? ORDER BY id LIMIT ?`,
		clientID, trace, trace, after, limit)
}

// PutClient adds a client to the registry, or replaces the one with its
// ID (the admin API's POST /admin/clients); the others stay. A new client
// beyond limit gets auth.ErrTooMany.
func (db *DB) PutClient(ctx context.Context, c auth.Client, limit int, now time.Time) error {
	return db.tx(ctx, func(tx wtx) error {
		var n, known int
		if err := tx.QueryRowContext(ctx, `SELECT count(*), count(CASE WHEN id = ? THEN 1 END) FROM clients`, c.ID).Scan(&n, &known); err != nil {
			return err
		}
		if known == 0 && n >= limit {
			return auth.ErrTooMany
		}
		return putClient(tx, c, now)
	})
}

// DeleteClient removes a client and its pending codes; its sessions' events
// stay. It reports whether there was one.
func (db *DB) DeleteClient(ctx context.Context, id string) (bool, error) {
	var gone bool
	err := db.tx(ctx, func(tx wtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM clients WHERE id = ?`, id)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		gone = n > 0
		return err
	})
	return gone, err
}

// RevokeClientFamilies revokes every active family of a client, as a
// security team would after a breach, logging family_revoked for each. It
// returns how many it revoked.
func (db *DB) RevokeClientFamilies(ctx context.Context, clientID, reason string, now time.Time) (int, error) {
	var n int
	err := db.tx(ctx, func(tx wtx) error {
		rows, err := tx.QueryContext(ctx, `SELECT f.id, u.username FROM families f JOIN users u ON u.id = f.user_id
			WHERE f.client_id = ? AND f.revoked_at IS NULL`, clientID)
		if err != nil {
			return err
		}
		type fam struct{ id, user string }
		var live []fam
		for rows.Next() {
			var f fam
			if err := rows.Scan(&f.id, &f.user); err != nil {
				rows.Close()
				return err
			}
			live = append(live, f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, f := range live {
			if err := revokeFamily(tx, f.id, reason, now); err != nil {
				return fmt.Errorf("revoke family %s: %w", f.id, err)
			}
			if err := addEvents(tx, auth.Event{At: now, Kind: auth.EventFamilyRevoked, Username: f.user, FamilyID: f.id, Reason: reason}); err != nil {
				return err
			}
		}
		n = len(live)
		return nil
	})
	return n, err
}
