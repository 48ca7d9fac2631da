package sqlite

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/auth"
	sqlitedriver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// CreateDeviceCode stores a new device authorization and logs
// device_code_issued. Codes expired for over an hour are pruned; a
// requester with limits.Each undecided, unexpired codes of this client gets
// ErrTooMany, and limits.Total such codes in all gets ErrCodesFull; a user
// code already in use gets ErrCodeTaken (draw another).
func (db *DB) CreateDeviceCode(ctx context.Context, d auth.DeviceCode, limits auth.CodeLimits) error {
	return db.tx(ctx, func(tx wtx) error {
		now := d.IssuedAt
		if _, err := tx.ExecContext(ctx, `DELETE FROM device_codes WHERE expires_at < ?`, now.Add(-keepSpent).UnixNano()); err != nil {
			return err
		}
		if err := checkCodeLimits(tx, limits,
			codeCount{`SELECT count(*) FROM device_codes WHERE client_id = ? AND requester = ? AND status = 'pending' AND expires_at > ?`,
				[]any{d.ClientID, d.Requester, now.UnixNano()}},
			codeCount{`SELECT count(*) FROM device_codes WHERE client_id = ? AND status = 'pending' AND expires_at > ?`,
				[]any{d.ClientID, now.UnixNano()}},
			codeCount{`SELECT count(*) FROM device_codes WHERE status = 'pending' AND expires_at > ?`, []any{now.UnixNano()}},
		); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO device_codes (code_hash, id, user_code, client_id, scope, resource, interval_s, issued_at, expires_at, requester)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.Hash, d.ID, d.UserCode, d.ClientID, d.Scope, d.Resource,
			int64(d.Interval/time.Second), now.UnixNano(), d.ExpiresAt.UnixNano(), d.Requester); err != nil {
			if isUniqueViolation(err) && userCodeInUse(tx, d.UserCode) {
				return auth.ErrCodeTaken
			}
			return err
		}
		return addEvents(tx, auth.Event{At: now, Kind: auth.EventDeviceCodeIssued, JTI: d.ID,
			Reason: fmt.Sprintf("client %s asked to log in on a device; a person must enter the user code on /device before %s, while the device polls every %s",
				d.ClientID, d.ExpiresAt.Format(time.RFC3339), d.Interval)})
	})
}

// isUniqueViolation reports whether err is SQLite's UNIQUE constraint
// failure, by its extended result code.
func isUniqueViolation(err error) bool {
	var serr *sqlitedriver.Error
	return errors.As(err, &serr) && serr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// userCodeInUse reports whether a device code holds userCode: which of the
// table's unique columns an insert clashed on.
func userCodeInUse(tx wtx, userCode string) bool {
	var n int
	err := tx.QueryRowContext(tx.ctx, `SELECT count(*) FROM device_codes WHERE user_code = ?`, userCode).Scan(&n)
	return err == nil && n > 0
}

const deviceColumns = `d.code_hash, d.id, d.user_code, d.client_id, d.scope, d.resource, d.interval_s, d.last_poll, d.status,
	coalesce(d.user_id, 0), coalesce(u.username, ''), d.issued_at, d.expires_at, d.family_id`

func scanDevice(s scanner) (auth.DeviceCode, error) {
	var d auth.DeviceCode
	var interval int64
	var last, issued, expires sql.NullInt64
	err := s.Scan(&d.Hash, &d.ID, &d.UserCode, &d.ClientID, &d.Scope, &d.Resource, &interval, &last, &d.Status,
		&d.UserID, &d.Username, &issued, &expires, &d.FamilyID)
	if errors.Is(err, sql.ErrNoRows) {
		return d, auth.ErrNotFound
	}
	d.Interval = time.Duration(interval) * time.Second
	d.LastPoll, d.IssuedAt, d.ExpiresAt = fromNanos(last), fromNanos(issued), fromNanos(expires)
	return d, err
}

// PendingDevice returns the undecided, unexpired device code with this
// user code, or ErrNotFound.
func (db *DB) PendingDevice(ctx context.Context, userCode string, now time.Time) (auth.DeviceCode, error) {
	return scanDevice(db.read.QueryRowContext(ctx, `SELECT `+deviceColumns+` FROM device_codes d LEFT JOIN users u ON u.id = d.user_id
		WHERE d.user_code = ? AND d.status = 'pending' AND d.expires_at > ?`, userCode, now.UnixNano()))
}

// DecideDevice records a person's answer to a pending device code and
// logs device_approved or device_denied. ErrNotFound when no pending,
// unexpired code has this user code.
func (db *DB) DecideDevice(ctx context.Context, userCode string, userID int64, username string, approve bool, now time.Time) (auth.DeviceCode, error) {
	var d auth.DeviceCode
	err := db.tx(ctx, func(tx wtx) error {
		var err error
		d, err = scanDevice(tx.QueryRowContext(ctx, `SELECT `+deviceColumns+` FROM device_codes d LEFT JOIN users u ON u.id = d.user_id
			WHERE d.user_code = ? AND d.status = 'pending' AND d.expires_at > ?`, userCode, now.UnixNano()))
		if err != nil {
			return err
		}
		d.Status, d.UserID, d.Username = auth.DeviceDenied, userID, username
		ev := auth.Event{At: now, Kind: auth.EventDeviceDenied, Username: username, JTI: d.ID,
			Reason: username + " denied the device login of client " + d.ClientID + "; its next poll gets access_denied"}
		if approve {
			d.Status, ev.Kind = auth.DeviceApproved, auth.EventDeviceApproved
			ev.Reason = username + " approved the device login of client " + d.ClientID + "; its next poll gets tokens, once"
		}
		if _, err := tx.ExecContext(ctx, `UPDATE device_codes SET status = ?, user_id = ? WHERE id = ?`, d.Status, userID, d.ID); err != nil {
			return err
		}
		return addEvents(tx, ev)
	})
	return d, err
}

// PollDevice answers a poll (RFC 8628 §3.5) in one transaction: ErrPending
// or ErrSlowDown (the interval grows by 5 s) while undecided, ErrDenied,
// ErrExpired, ErrReused once redeemed, ErrNotFound for an unknown code or
// another client's; an approved code starts the family, once.
func (db *DB) PollDevice(ctx context.Context, req auth.DevicePoll) (auth.DeviceCode, auth.Family, error) {
	var d auth.DeviceCode
	var fam auth.Family
	err := db.tx(ctx, func(tx wtx) error {
		var err error
		d, err = scanDevice(tx.QueryRowContext(ctx, `SELECT `+deviceColumns+` FROM device_codes d LEFT JOIN users u ON u.id = d.user_id
			WHERE d.code_hash = ?`, req.Hash))
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare(d.Hash, req.Hash) != 1 || d.ClientID != req.ClientID {
			return auth.ErrNotFound
		}
		ev := auth.Event{At: req.Now, Username: d.Username, JTI: d.ID}
		switch {
		case d.Status == auth.DeviceRedeemed:
			return auth.ErrReused
		case d.Status == auth.DeviceDenied:
			return auth.ErrDenied
		case d.Status == auth.DeviceExpired:
			return auth.ErrExpired
		case !req.Now.Before(d.ExpiresAt):
			ev.Kind, ev.Reason = auth.EventDeviceExpired, "the device code reached its expiry before anyone approved it; the device must start again"
			if _, err := tx.ExecContext(ctx, `UPDATE device_codes SET status = 'expired' WHERE id = ?`, d.ID); err != nil {
				return err
			}
			if err := addEvents(tx, ev); err != nil {
				return err
			}
			return commitErr{auth.ErrExpired}
		case d.Status == auth.DevicePending:
			tooSoon := !d.LastPoll.IsZero() && req.Now.Sub(d.LastPoll) < d.Interval
			q := `UPDATE device_codes SET last_poll = ? WHERE id = ?`
			if tooSoon {
				q = `UPDATE device_codes SET last_poll = ?, interval_s = interval_s + 5 WHERE id = ?`
				d.Interval += 5 * time.Second
			}
			if _, err := tx.ExecContext(ctx, q, req.Now.UnixNano(), d.ID); err != nil {
				return err
			}
			if !tooSoon {
				return commitErr{auth.ErrPending}
			}
			ev.Kind = auth.EventDeviceSlowDown
			ev.Reason = fmt.Sprintf("the device polled again after %s, sooner than its interval; the interval grows by 5s to %s",
				req.Now.Sub(d.LastPoll), d.Interval)
			if err := addEvents(tx, ev); err != nil {
				return err
			}
			return commitErr{auth.ErrSlowDown}
		}
		first, tok, err := req.Start(d.UserID, d.Username, d.Scope, d.Resource)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE device_codes SET status = 'redeemed', family_id = ?, last_poll = ? WHERE id = ?`,
			first.ID, req.Now.UnixNano(), d.ID); err != nil {
			return err
		}
		fam = first
		return startSession(tx, first, tok, req.Now, "device_code")
	})
	return d, fam, err
}
