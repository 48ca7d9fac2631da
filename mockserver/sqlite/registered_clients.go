package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// RegisterClient stores a client that registered itself (RFC 7591), unless
// max registered clients exist already (ErrTooMany). The count and the
// insert are one transaction, so concurrent registrations cannot pass the
// cap together.
func (db *DB) RegisterClient(ctx context.Context, c auth.Client, max int) error {
	return db.tx(ctx, func(tx wtx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM clients WHERE registered_at IS NOT NULL`).Scan(&n); err != nil {
			return err
		}
		if n >= max {
			return auth.ErrTooMany
		}
		var secret any
		if len(c.SecretHash) > 0 {
			secret = c.SecretHash
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO clients (id, secret_hash, grant_types, redirect_uris, scopes, created_at, registered_at, client_name)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, secret, strings.Join(c.GrantTypes, " "), strings.Join(c.RedirectURIs, "\n"),
			strings.Join(c.Scopes, " "), c.RegisteredAt.UnixNano(), c.RegisteredAt.UnixNano(), c.Name)
		if err != nil {
			return fmt.Errorf("register client: %w", err)
		}
		return nil
	})
}

// Clients lists the registry, configured clients first, then registered
// ones in the order they registered; at most limit.
func (db *DB) Clients(ctx context.Context, limit int) ([]auth.Client, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+clientColumns+` FROM clients
		ORDER BY registered_at IS NOT NULL, registered_at, id LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []auth.Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
