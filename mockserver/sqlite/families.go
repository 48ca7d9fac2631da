package sqlite

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// StartSession stores a new family with its first refresh token and a login
// event, atomically.
func (db *DB) StartSession(ctx context.Context, f auth.Family, first auth.RefreshToken, now time.Time) error {
	return db.tx(ctx, func(tx wtx) error { return startSession(tx, f, first, now, "") })
}

// Queries of the refresh path, prepared once on the write connection.
const (
	qInsertToken = `INSERT INTO refresh_tokens (jti, family_id, token_hash, parent_jti, issued_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`
	qMarkUsed     = `UPDATE refresh_tokens SET used_at = ? WHERE jti = ?`
	qCountReplay  = `UPDATE refresh_tokens SET replays = replays + 1 WHERE jti = ?`
	qRevokeFamily = `UPDATE families SET revoked_at = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL`
	qTokenByJTI   = `SELECT ` + tokenColumns + ` FROM refresh_tokens WHERE jti = ?`
	qSuccessor    = `SELECT ` + tokenColumns + ` FROM refresh_tokens WHERE family_id = ? AND parent_jti = ? ORDER BY rowid LIMIT 1`
	qFamilyByID   = `SELECT ` + familyColumns + `
		FROM families f JOIN users u ON u.id = f.user_id WHERE f.id = ?`
)

func insertToken(tx wtx, t auth.RefreshToken) error {
	_, err := tx.ExecContext(tx.ctx, qInsertToken, t.JTI, t.FamilyID, t.Hash, t.ParentJTI, t.IssuedAt.UnixNano(), t.ExpiresAt.UnixNano())
	return err
}

// Redeem checks a refresh token and, in one transaction, marks it used and
// stores its successor. A replay of a used token outside the grace window
// revokes the whole family (when DetectReuse) and returns ErrReused; inside
// the window it gets the same successor again. The other failures are
// ErrNotFound, ErrRevoked, ErrSessionExpired, ErrExpired.
func (db *DB) Redeem(ctx context.Context, req auth.RedeemRequest) (auth.Redeemed, error) {
	var out auth.Redeemed
	err := db.tx(ctx, func(tx wtx) error {
		var err error
		out, err = redeem(tx, req)
		return err
	})
	return out, err // on error, out still names the family when it was found
}

func redeem(tx wtx, req auth.RedeemRequest) (auth.Redeemed, error) {
	now := req.Now
	old, err := tokenByJTI(tx.ctx, tx, req.JTI)
	if err != nil {
		return auth.Redeemed{}, err
	}
	fam, err := familyByID(tx.ctx, tx, old.FamilyID)
	if err != nil {
		return auth.Redeemed{}, err
	}
	out := auth.Redeemed{Family: fam, Old: old}
	ev := auth.Event{At: now, Username: fam.Username, FamilyID: fam.ID, JTI: old.JTI}
	inGrace, err := graceCovers(tx, req, old)
	if err != nil {
		return out, err
	}
	switch {
	case fam.Revoked():
		return out, auth.ErrRevoked
	case !old.RevokedAt.IsZero():
		return out, auth.ErrTokenRevoked
	case !now.Before(fam.ExpiresAt):
		return out, auth.ErrSessionExpired
	case !now.Before(old.ExpiresAt):
		return out, auth.ErrExpired
	case req.ReuseCheckOnly && old.UsedAt.IsZero():
		return out, auth.ErrNotFound
	case inGrace && !req.ReuseCheckOnly:
		out.Grace = true
	case !old.UsedAt.IsZero():
		if !req.DetectReuse {
			return out, auth.ErrReused
		}
		if err := revokeFamily(tx, fam.ID, "reuse_detected", now); err != nil {
			return out, err
		}
		reuse, revoked := ev, ev
		reuse.Kind, revoked.Kind, revoked.Reason = auth.EventReuseDetected, auth.EventFamilyRevoked, "reuse_detected"
		if err := addEvents(tx, reuse, revoked); err != nil {
			return out, err
		}
		return out, commitErr{auth.ErrReused}
	}

	refresh := ev
	refresh.Kind = auth.EventRefresh
	if out.Grace {
		refresh.Reason = "reuse_grace"
		if _, err := tx.ExecContext(tx.ctx, qCountReplay, old.JTI); err != nil { // for GraceReplays
			return out, err
		}
		again, err := successorOf(tx, old)
		if err == nil && req.Resign != nil {
			if err := req.Resign(fam, again); err != nil {
				return out, fmt.Errorf("sign successor again: %w", err)
			}
			out.Successor = again
			return out, addEvents(tx, refresh)
		}
		if !errors.Is(err, auth.ErrNotFound) && err != nil {
			return out, err
		}
	}
	if !req.Rotate && !out.Grace {
		return out, addEvents(tx, refresh)
	}
	if !out.Grace {
		if _, err := tx.ExecContext(tx.ctx, qMarkUsed, now.UnixNano(), old.JTI); err != nil {
			return out, err
		}
		out.Old.UsedAt = now
	}
	next, err := req.Mint(fam)
	if err != nil {
		return out, fmt.Errorf("mint successor: %w", err)
	}
	next.FamilyID, next.ParentJTI = fam.ID, old.JTI
	if err := insertToken(tx, next); err != nil {
		return out, err
	}
	out.Successor = next
	rotation := ev
	rotation.Kind, rotation.JTI, rotation.Reason = auth.EventRotation, next.JTI, "replaces "+old.JTI
	return out, addEvents(tx, refresh, rotation)
}

// graceCovers says whether a replay of the spent token old is inside its
// grace: within Grace of its use (or GraceForever), with replays left
// (GraceReplays), and, with GracePrevious, while its successor is unused
// (a newer token has been used: old is the previous-but-one, whose replay
// is a reuse even inside the window, as at Auth0).
func graceCovers(tx wtx, req auth.RedeemRequest, old auth.RefreshToken) (bool, error) {
	switch {
	case old.UsedAt.IsZero():
		return false, nil
	case !req.GraceForever && (req.Grace <= 0 || req.Now.Sub(old.UsedAt) > req.Grace):
		return false, nil
	case req.GraceReplays > 0 && old.Replays >= req.GraceReplays:
		return false, nil
	case !req.GracePrevious:
		return true, nil
	}
	next, err := successorOf(tx, old)
	if errors.Is(err, auth.ErrNotFound) {
		return true, nil
	}
	return err == nil && next.UsedAt.IsZero(), err
}

// successorOf returns the first token minted from old, or ErrNotFound.
func successorOf(tx wtx, old auth.RefreshToken) (auth.RefreshToken, error) {
	t, err := scanToken(tx.QueryRowContext(tx.ctx, qSuccessor, old.FamilyID, old.JTI))
	if errors.Is(err, sql.ErrNoRows) {
		return t, auth.ErrNotFound
	}
	return t, err
}

// RevokeFamily revokes a family (idempotently) and logs the given event
// kind (such as logout) followed by family_revoked. It reports whether the
// family was active before.
func (db *DB) RevokeFamily(ctx context.Context, familyID, kind, reason string, now time.Time) (bool, error) {
	var was bool
	err := db.tx(ctx, func(tx wtx) error {
		fam, err := familyByID(ctx, tx, familyID)
		if err != nil {
			return err
		}
		if fam.Revoked() {
			return nil
		}
		was = true
		if err := revokeFamily(tx, familyID, reason, now); err != nil {
			return err
		}
		ev := auth.Event{At: now, Kind: kind, Username: fam.Username, FamilyID: fam.ID, Reason: reason}
		revoked := ev
		revoked.Kind = auth.EventFamilyRevoked
		return addEvents(tx, ev, revoked)
	})
	return was, err
}

// RevokeToken revokes one refresh token and not its family (RFC 7009 in
// a preset whose revocation revokes the token only), and logs
// token_revoked. It notes the time in the family's AccessRevokedAt: the
// server's policy decides whether that reaches the access tokens issued
// up to it. It reports whether the token was live before.
func (db *DB) RevokeToken(ctx context.Context, jti, reason string, now time.Time) (bool, error) {
	var was bool
	err := db.tx(ctx, func(tx wtx) error {
		t, err := tokenByJTI(ctx, tx, jti)
		if err != nil {
			return err
		}
		fam, err := familyByID(ctx, tx, t.FamilyID)
		if err != nil {
			return err
		}
		was = t.RevokedAt.IsZero() && !fam.Revoked()
		if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE jti = ? AND revoked_at IS NULL`, now.UnixNano(), jti); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE families SET access_revoked_at = ? WHERE id = ?`, now.UnixNano(), fam.ID); err != nil {
			return err
		}
		return addEvents(tx, auth.Event{At: now, Kind: auth.EventTokenRevoked, Username: fam.Username, FamilyID: fam.ID, JTI: jti, Reason: reason})
	})
	return was, err
}

func revokeFamily(tx wtx, id, reason string, now time.Time) error {
	_, err := tx.ExecContext(tx.ctx, qRevokeFamily, now.UnixNano(), reason, id)
	return err
}

// Family returns a family by ID, or ErrNotFound.
func (db *DB) Family(ctx context.Context, id string) (auth.Family, error) {
	return familyByID(ctx, db.read, id)
}

// MatchRefreshToken returns the token record and family for jti when hash
// matches the stored one; ErrNotFound otherwise.
func (db *DB) MatchRefreshToken(ctx context.Context, jti string, hash []byte) (auth.RefreshToken, auth.Family, error) {
	t, err := tokenByJTI(ctx, db.read, jti)
	if err != nil {
		return t, auth.Family{}, err
	}
	if subtle.ConstantTimeCompare(t.Hash, hash) != 1 {
		return auth.RefreshToken{}, auth.Family{}, auth.ErrNotFound
	}
	f, err := familyByID(ctx, db.read, t.FamilyID)
	return t, f, err
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func tokenByJTI(ctx context.Context, q querier, jti string) (auth.RefreshToken, error) {
	t, err := scanToken(q.QueryRowContext(ctx, qTokenByJTI, jti))
	if errors.Is(err, sql.ErrNoRows) {
		return t, auth.ErrNotFound
	}
	return t, err
}

// tokenColumns are what scanToken reads, in its order.
const tokenColumns = `jti, family_id, token_hash, parent_jti, issued_at, expires_at, used_at, revoked_at, replays`

func scanToken(s scanner) (auth.RefreshToken, error) {
	var t auth.RefreshToken
	var issued, expires, used, revoked sql.NullInt64
	err := s.Scan(&t.JTI, &t.FamilyID, &t.Hash, &t.ParentJTI, &issued, &expires, &used, &revoked, &t.Replays)
	t.IssuedAt, t.ExpiresAt, t.UsedAt, t.RevokedAt = fromNanos(issued), fromNanos(expires), fromNanos(used), fromNanos(revoked)
	return t, err
}

const familyColumns = `f.id, f.user_id, u.username, f.client_id, f.scope, f.resource, f.created_at, f.expires_at, f.revoked_at, f.revoke_reason, f.access_revoked_at`

type scanner interface{ Scan(dest ...any) error }

func scanFamily(s scanner) (auth.Family, error) {
	var f auth.Family
	var created, expires, revoked, accessRevoked sql.NullInt64
	err := s.Scan(&f.ID, &f.UserID, &f.Username, &f.ClientID, &f.Scope, &f.Resource, &created, &expires, &revoked, &f.RevokeReason, &accessRevoked)
	f.CreatedAt, f.ExpiresAt, f.RevokedAt, f.AccessRevokedAt = fromNanos(created), fromNanos(expires), fromNanos(revoked), fromNanos(accessRevoked)
	return f, err
}

func familyByID(ctx context.Context, q querier, id string) (auth.Family, error) {
	f, err := scanFamily(q.QueryRowContext(ctx, qFamilyByID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return f, auth.ErrNotFound
	}
	return f, err
}
