package sqlite

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// keepSpent is how long an expired code stays known, so a late replay is
// still recognised as a replay rather than as an unknown code.
const keepSpent = time.Hour

const clientColumns = `id, secret_hash, grant_types, redirect_uris, scopes, created_at, registered_at, client_name`

func scanClient(s scanner) (auth.Client, error) {
	var c auth.Client
	var grants, uris, scopes string
	var created, registered sql.NullInt64
	err := s.Scan(&c.ID, &c.SecretHash, &grants, &uris, &scopes, &created, &registered, &c.Name)
	c.RegisteredAt = fromNanos(registered)
	c.GrantTypes, c.Scopes = strings.Fields(grants), strings.Fields(scopes)
	c.RedirectURIs = strings.FieldsFunc(uris, func(r rune) bool { return r == '\n' })
	c.CreatedAt = fromNanos(created)
	return c, err
}

// ClientByID returns a client, or ErrNotFound.
func (db *DB) ClientByID(ctx context.Context, id string) (auth.Client, error) {
	c, err := scanClient(db.read.QueryRowContext(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, auth.ErrNotFound
	}
	return c, err
}

// SyncClients makes the registry hold exactly these clients besides the
// registered ones (RFC 7591): new ones are added, known ones updated, and
// any other configured one removed with its codes, so a client dropped
// from the configuration stops working at the next start.
func (db *DB) SyncClients(ctx context.Context, clients []auth.Client, now time.Time) error {
	return db.tx(ctx, func(tx wtx) error {
		keep := make([]any, 0, len(clients))
		for _, c := range clients {
			if err := putClient(tx, c, now); err != nil {
				return err
			}
			keep = append(keep, c.ID)
		}
		q := `DELETE FROM clients WHERE registered_at IS NULL`
		if len(keep) > 0 {
			q += ` AND id NOT IN (?` + strings.Repeat(", ?", len(keep)-1) + `)`
		}
		_, err := tx.ExecContext(ctx, q, keep...)
		return err
	})
}

// putClient inserts a configured client or updates the one with its ID;
// a registered client (RFC 7591) of that ID becomes a configured one.
func putClient(tx wtx, c auth.Client, now time.Time) error {
	var secret any
	if len(c.SecretHash) > 0 {
		secret = c.SecretHash
	}
	if _, err := tx.ExecContext(tx.ctx, `INSERT INTO clients (id, secret_hash, grant_types, redirect_uris, scopes, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET secret_hash = excluded.secret_hash,
		grant_types = excluded.grant_types, redirect_uris = excluded.redirect_uris, scopes = excluded.scopes,
		registered_at = NULL, client_name = ''`,
		c.ID, secret, strings.Join(c.GrantTypes, " "), strings.Join(c.RedirectURIs, "\n"), strings.Join(c.Scopes, " "),
		now.UnixNano()); err != nil {
		return fmt.Errorf("store client %s: %w", c.ID, err)
	}
	return nil
}

// CreateCode stores a new authorization code and logs code_issued. Codes
// expired for longer than an hour are pruned first; a user with
// limits.Each unexpired, unredeemed codes of this client gets ErrTooMany,
// and limits.Total such codes in all gets ErrCodesFull.
func (db *DB) CreateCode(ctx context.Context, c auth.AuthCode, limits auth.CodeLimits) error {
	return db.tx(ctx, func(tx wtx) error {
		now := c.IssuedAt
		if _, err := tx.ExecContext(ctx, `DELETE FROM auth_codes WHERE expires_at < ?`, now.Add(-keepSpent).UnixNano()); err != nil {
			return err
		}
		if err := checkCodeLimits(tx, limits,
			codeCount{`SELECT count(*) FROM auth_codes WHERE client_id = ? AND user_id = ? AND expires_at > ? AND used_at IS NULL`,
				[]any{c.ClientID, c.UserID, now.UnixNano()}},
			codeCount{}, // no cap per client: codes take a password check each
			codeCount{`SELECT count(*) FROM auth_codes WHERE expires_at > ? AND used_at IS NULL`, []any{now.UnixNano()}},
		); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO auth_codes (code_hash, id, client_id, redirect_uri, challenge, user_id, scope, resource, issued_at, expires_at, nonce)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.Hash, c.ID, c.ClientID, c.RedirectURI, c.Challenge, c.UserID, c.Scope, c.Resource,
			now.UnixNano(), c.ExpiresAt.UnixNano(), c.Nonce); err != nil {
			return err
		}
		return addEvents(tx, auth.Event{At: now, Kind: auth.EventCodeIssued, Username: c.Username, JTI: c.ID, ClientID: c.ClientID,
			Reason: fmt.Sprintf("%s logged in on the authorize page; client %s gets a single-use code bound to its redirect URI and PKCE challenge, valid until %s",
				c.Username, c.ClientID, c.ExpiresAt.Format(time.RFC3339))})
	})
}

// codeCount is a query that counts live codes, with its arguments.
type codeCount struct {
	query string
	args  []any
}

// checkCodeLimits answers ErrTooMany when one party's live codes (each)
// have reached limits.Each, ErrClientCodesFull when the client's (client,
// counted only when limits.Client is set) have reached limits.Client, and
// ErrCodesFull when the server's (total) have reached limits.Total.
func checkCodeLimits(tx wtx, limits auth.CodeLimits, each, client, total codeCount) error {
	var n [3]int
	for i, c := range []codeCount{each, client, total} {
		if c.query == "" || i == 1 && limits.Client <= 0 {
			continue
		}
		if err := tx.QueryRowContext(tx.ctx, c.query, c.args...).Scan(&n[i]); err != nil {
			return err
		}
	}
	switch {
	case n[0] >= limits.Each:
		return auth.ErrTooMany
	case limits.Client > 0 && n[1] >= limits.Client:
		return auth.ErrClientCodesFull
	case n[2] >= limits.Total:
		return auth.ErrCodesFull
	}
	return nil
}

// RedeemCode exchanges a code, once: it marks the code used and starts the
// family in one transaction. A code used before gets ErrReused and revokes
// the family it started (committed). Other failures: ErrNotFound,
// ErrExpired, or Check's error.
func (db *DB) RedeemCode(ctx context.Context, req auth.CodeRedeem) (auth.AuthCode, auth.Family, error) {
	var code auth.AuthCode
	var fam auth.Family
	err := db.tx(ctx, func(tx wtx) error {
		var err error
		code, err = codeByHash(tx, req.Hash)
		if err != nil {
			return err
		}
		ev := auth.Event{At: req.Now, Username: code.Username, JTI: code.ID, FamilyID: code.FamilyID, ClientID: code.ClientID}
		switch {
		case !code.UsedAt.IsZero():
			ev.Kind = auth.EventCodeReused
			ev.Reason = "an authorization code came back after it was redeemed: it may have been stolen, so the session it started is revoked (RFC 6749 §4.1.2)"
			events := []auth.Event{ev}
			if f, ferr := familyByID(ctx, tx, code.FamilyID); ferr == nil && !f.Revoked() {
				if err := revokeFamily(tx, f.ID, "code_reused", req.Now); err != nil {
					return err
				}
				revoked := ev
				revoked.Kind, revoked.Reason = auth.EventFamilyRevoked, "code_reused"
				events = append(events, revoked)
			}
			if err := addEvents(tx, events...); err != nil {
				return err
			}
			return commitErr{auth.ErrReused}
		case !req.Now.Before(code.ExpiresAt):
			return auth.ErrExpired
		}
		if err := req.Check(code); err != nil {
			return err
		}
		first, tok, err := req.Start(code.UserID, code.Username, code.Scope, code.Resource)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE auth_codes SET used_at = ?, family_id = ? WHERE code_hash = ?`,
			req.Now.UnixNano(), first.ID, req.Hash); err != nil {
			return err
		}
		fam = first
		ev.Kind, ev.FamilyID = auth.EventCodeRedeemed, first.ID
		ev.Reason = "the code, its redirect URI and the PKCE verifier matched; the code is now spent and a new session starts"
		if err := addEvents(tx, ev); err != nil {
			return err
		}
		return startSession(tx, first, tok, req.Now, "authorization_code")
	})
	return code, fam, err
}

func codeByHash(tx wtx, hash []byte) (auth.AuthCode, error) {
	var c auth.AuthCode
	var issued, expires, used sql.NullInt64
	err := tx.QueryRowContext(tx.ctx, `SELECT a.code_hash, a.id, a.client_id, a.redirect_uri, a.challenge, a.user_id, u.username,
		a.scope, a.resource, a.issued_at, a.expires_at, a.used_at, a.family_id, a.nonce
		FROM auth_codes a JOIN users u ON u.id = a.user_id WHERE a.code_hash = ?`, hash).
		Scan(&c.Hash, &c.ID, &c.ClientID, &c.RedirectURI, &c.Challenge, &c.UserID, &c.Username,
			&c.Scope, &c.Resource, &issued, &expires, &used, &c.FamilyID, &c.Nonce)
	if errors.Is(err, sql.ErrNoRows) {
		return c, auth.ErrNotFound
	}
	c.IssuedAt, c.ExpiresAt, c.UsedAt = fromNanos(issued), fromNanos(expires), fromNanos(used)
	if err == nil && subtle.ConstantTimeCompare(c.Hash, hash) != 1 {
		return auth.AuthCode{}, auth.ErrNotFound
	}
	return c, err
}

// startSession stores a family with its first token and a login event.
func startSession(tx wtx, f auth.Family, first auth.RefreshToken, now time.Time, via string) error {
	if _, err := tx.ExecContext(tx.ctx, `INSERT INTO families (id, user_id, client_id, scope, resource, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, f.ID, f.UserID, f.ClientID, f.Scope, f.Resource, f.CreatedAt.UnixNano(), f.ExpiresAt.UnixNano()); err != nil {
		return err
	}
	first.FamilyID = f.ID
	if err := insertToken(tx, first); err != nil {
		return err
	}
	return addEvents(tx, auth.Event{At: now, Kind: auth.EventLogin, Username: f.Username, FamilyID: f.ID, JTI: first.JTI, Reason: via})
}
