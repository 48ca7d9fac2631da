package sqlite

import "context"

// SetSetting stores a setting, replacing the one there: what a signing-key
// rotation writes, so the new key survives a restart.
func (db *DB) SetSetting(ctx context.Context, key string, value []byte) error {
	return db.tx(ctx, func(tx wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)`, key, value)
		return err
	})
}
