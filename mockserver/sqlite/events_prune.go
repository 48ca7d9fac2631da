package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
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
		if done, err := countTwin(tx, e, window); err != nil || done {
			return err
		}
		if tx.traceOf(e) != "" {
			flooded, err := tracedTwinsFull(tx, e, window)
			if err != nil {
				return err
			}
			if flooded { // counted, but as no trace's
				e.Trace, tx.trace = "", ""
				if done, err := countTwin(tx, e, window); err != nil || done {
					return err
				}
			}
		}
		return addEvents(tx, e)
	})
}

// maxTracedTwins bounds the rows one rejection takes under different
// traces among the newest coalesceLookback rows. Anyone may send any
// trace: a new one per request made each rejection of a flood a row of
// its own. Scenarios sharing a server each have one trace, and far fewer
// than this reject the same thing at once.
const maxTracedTwins = 32

// countTwin adds one to the count of e's twin within window, if any.
func countTwin(tx wtx, e auth.Event, window time.Duration) (bool, error) {
	res, err := tx.ExecContext(tx.ctx, `UPDATE events SET count = count + 1 WHERE id = (
		SELECT id FROM events
		WHERE id > (SELECT coalesce(max(id), 0) FROM events) - ?
		  AND kind = ? AND username = ? AND family_id = ? AND jti = ? AND reason = ? AND trace = ?
		  AND at > ? AND at <= ?
		ORDER BY id DESC LIMIT 1)`,
		coalesceLookback, e.Kind, e.Username, e.FamilyID, e.JTI, e.Reason, tx.traceOf(e),
		e.At.Add(-window).UnixNano(), e.At.UnixNano())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// tracedTwinsFull says whether e already has maxTracedTwins twins under
// other traces within window.
func tracedTwinsFull(tx wtx, e auth.Event, window time.Duration) (bool, error) {
	var n int
	err := tx.QueryRowContext(tx.ctx, `SELECT count(*) FROM events
		WHERE id > (SELECT coalesce(max(id), 0) FROM events) - ?
		  AND kind = ? AND username = ? AND family_id = ? AND jti = ? AND reason = ? AND trace <> ''
		  AND at > ? AND at <= ?`,
		coalesceLookback, e.Kind, e.Username, e.FamilyID, e.JTI, e.Reason,
		e.At.Add(-window).UnixNano(), e.At.UnixNano()).Scan(&n)
	return n >= maxTracedTwins, err
}

// pruneChunk bounds the rows one pruning transaction deletes, so writers
// queued behind it wait milliseconds, not seconds.
const pruneChunk = 500

// securityShare is the part of the log (one in securityShare rows) kept
// for the newest security events (auth.SecurityEvents): a flood of
// logins or rejections, which a client produces at will, cannot push
// them out.
const securityShare = 10

// PruneEvents deletes the oldest events until at most keep remain, a chunk
// per transaction, and returns how many it deleted. The newest keep/10
// security events are kept whatever their age; the other rows, older
// security events among them, share the rest, newest first.
func (db *DB) PruneEvents(ctx context.Context, keep int) (int64, error) {
	cutoff, protectedFrom, err := db.pruneCutoff(ctx, keep)
	if err != nil || cutoff == 0 {
		return 0, err
	}
	kinds, args := securityKinds()
	var total int64
	for {
		var n int64
		err := db.tx(ctx, func(tx wtx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE id IN (
				SELECT id FROM events WHERE id < ? AND NOT (kind IN (`+kinds+`) AND id >= ?)
				ORDER BY id LIMIT ?)`, append(append([]any{cutoff}, args...), protectedFrom, pruneChunk)...)
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

// pruneCutoff finds what PruneEvents deletes: rows below cutoff (0: none)
// except the security events from protectedFrom on. IDs only grow, so
// rows written since keep above the cutoff.
func (db *DB) pruneCutoff(ctx context.Context, keep int) (cutoff, protectedFrom int64, err error) {
	var lo, hi int64
	if err := db.read.QueryRowContext(ctx, `SELECT coalesce(min(id), 0), coalesce(max(id), 0) FROM events`).Scan(&lo, &hi); err != nil {
		return 0, 0, err
	}
	if hi-lo+1 <= int64(keep) { // no more rows than IDs in the span: nothing to cut
		return 0, 0, nil
	}
	kinds, args := securityKinds()
	reserved := keep / securityShare
	var protected int64
	protectedFrom = hi + 1
	if reserved > 0 {
		// The kinds are few and indexed: a lookup per kind, not a scan.
		err := db.read.QueryRowContext(ctx, `SELECT count(*), coalesce(min(id), ?) FROM (
			SELECT id FROM events WHERE kind IN (`+kinds+`) ORDER BY id DESC LIMIT ?)`,
			append(append([]any{hi + 1}, args...), reserved)...).Scan(&protected, &protectedFrom)
		if err != nil {
			return 0, 0, err
		}
	}
	// The newest keep-protected of the other rows stay: cutoff is the
	// oldest of them.
	err = db.read.QueryRowContext(ctx, `SELECT id FROM events WHERE NOT (kind IN (`+kinds+`) AND id >= ?)
		ORDER BY id DESC LIMIT 1 OFFSET ?`, append(append([]any{}, args...), protectedFrom, int64(keep)-protected-1)...).Scan(&cutoff)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, nil
	}
	return cutoff, protectedFrom, err
}

// securityKinds returns placeholders and arguments for auth.SecurityEvents.
func securityKinds() (string, []any) {
	args := make([]any, len(auth.SecurityEvents))
	for i, k := range auth.SecurityEvents {
		args[i] = k
	}
	return strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", "), args
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
