package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// CreateUser stores a new user; ErrUserExists when the name is taken.
func (db *DB) CreateUser(ctx context.Context, username string, passwordHash []byte, now time.Time) (auth.User, error) {
	u := auth.User{Username: username, PasswordHash: passwordHash, CreatedAt: now.UTC()}
	err := db.tx(ctx, func(tx wtx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?)`,
			username, passwordHash, now.UnixNano())
		if err != nil {
			if strings.Contains(err.Error(), "UNIQUE constraint failed") {
				return auth.ErrUserExists
			}
			return err
		}
		u.ID, err = res.LastInsertId()
		return err
	})
	return u, err
}

// UserByName returns the user with that name, or ErrNotFound.
func (db *DB) UserByName(ctx context.Context, username string) (auth.User, error) {
	var u auth.User
	var created sql.NullInt64
	err := db.read.QueryRowContext(ctx, `SELECT id, username, password_hash, created_at FROM users WHERE username = ?`, username).
		Scan(&u.ID, &u.Username, &u.PasswordHash, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.User{}, auth.ErrNotFound
	}
	u.CreatedAt = fromNanos(created)
	return u, err
}

// SetPasswordHash replaces a user's password hash.
func (db *DB) SetPasswordHash(ctx context.Context, username string, hash []byte) error {
	return db.tx(ctx, func(tx wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE username = ?`, hash, username)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return auth.ErrNotFound
		}
		return nil
	})
}
