package sqlite

import (
	"context"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// coalesceLookback is how many of the newest rows AddRejection searches
// for a twin: a bound on its work, not on correctness.
const coalesceLookback = 64

// AddRejection records a rejection event, unless an identical one (same
// kind, username, family, jti, reason and trace) was recorded within window
// before it: then that row's count goes up instead. A flood of the same
// bad token is one row a second, not one per request.
func (db *DB) AddRejection(ctx context.Context, e auth.Event, window time.Duration) error {
	return db.tx(ctx, func(tx wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE events SET count = count + 1 WHERE id = (
			SELECT id FROM events
			WHERE id > (SELECT coalesce(max(id), 0) FROM events) - ?
			  AND kind = ? AND username = ? AND family_id = ? AND jti = ? AND reason = ? AND trace = ?
			  AND at > ? AND at <= ?
			ORDER BY id DESC LIMIT 1)`,
			coalesceLookback, e.Kind, e.Username, e.FamilyID, e.JTI, e.Reason, tx.traceOf(e),
			e.At.Add(-window).UnixNano(), e.At.UnixNano())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		return addEvents(tx, e)
	})
}

// pruneChunk bounds the rows one pruning transaction deletes, so writers
// queued behind it wait milliseconds, not seconds.
const pruneChunk = 500

// PruneEvents deletes the oldest events until at most keep remain, a chunk
// per transaction. It returns how many it deleted. IDs only grow (the
// newest row is never deleted), so the newest keep rows are those with
// id > max(id) - keep.
func (db *DB) PruneEvents(ctx context.Context, keep int) (int64, error) {
	var total int64
	for {
		var n int64
		err := db.tx(ctx, func(tx wtx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE id IN (
				SELECT id FROM events WHERE id <= (SELECT coalesce(max(id), 0) FROM events) - ?
				ORDER BY id LIMIT ?)`, keep, pruneChunk)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		total += n
		if err != nil || n < pruneChunk {
			return total, err
		}
	}
}

// CountEvents returns the number of rows in the event log.
func (db *DB) CountEvents(ctx context.Context) (int64, error) {
	var n int64
	err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n)
	return n, err
}

// PruneEndedFamilies deletes the families that ended before cutoff, and
// their refresh tokens: a family ends when it reaches its session maximum,
// is revoked, or its last refresh token expires. It returns how many
// families it deleted. Tokens of an ended family can only be refused;
// after the retention period the refusal says "unknown" instead of
// "expired" or "revoked", which is the price of a bounded database.
func (db *DB) PruneEndedFamilies(ctx context.Context, cutoff time.Time) (int64, error) {
	var total int64
	c := cutoff.UnixNano()
	for {
		var n int64
		err := db.tx(ctx, func(tx wtx) error {
			ids, err := endedFamilies(tx, c)
			if err != nil {
				return err
			}
			for _, id := range ids {
				if _, err := tx.ExecContext(ctx, `DELETE FROM refresh_tokens WHERE family_id = ?`, id); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `DELETE FROM families WHERE id = ?`, id); err != nil {
					return err
				}
			}
			n = int64(len(ids))
			return nil
		})
		total += n
		if err != nil || n < pruneChunk {
			return total, err
		}
	}
}

func endedFamilies(tx wtx, cutoff int64) ([]string, error) {
	rows, err := tx.QueryContext(tx.ctx, `SELECT id FROM families f
		WHERE f.expires_at < ?1 OR f.revoked_at < ?1
		   OR NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.family_id = f.id AND t.expires_at >= ?1)
		LIMIT ?2`, cutoff, pruneChunk)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
