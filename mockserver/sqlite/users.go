package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// User is an account that can log in.
type User struct {
	ID           int64
	Username     string
	PasswordHash []byte
	CreatedAt    time.Time
}

// CreateUser stores a new user; ErrUserExists when the name is taken.
func (db *DB) CreateUser(ctx context.Context, username string, passwordHash []byte, now time.Time) (User, error) {
	u := User{Username: username, PasswordHash: passwordHash, CreatedAt: now.UTC()}
	err := db.tx(ctx, func(tx wtx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?)`,
			username, passwordHash, now.UnixNano())
		if err != nil {
			if strings.Contains(err.Error(), "UNIQUE constraint failed") {
				return ErrUserExists
			}
			return err
		}
		u.ID, err = res.LastInsertId()
		return err
	})
	return u, err
}

// UserByName returns the user with that name, or ErrNotFound.
func (db *DB) UserByName(ctx context.Context, username string) (User, error) {
	var u User
	var created sql.NullInt64
	err := db.read.QueryRowContext(ctx, `SELECT id, username, password_hash, created_at FROM users WHERE username = ?`, username).
		Scan(&u.ID, &u.Username, &u.PasswordHash, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrNotFound
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
			return ErrNotFound
		}
		return nil
	})
}
