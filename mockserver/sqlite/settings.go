package sqlite

import "context"

// SetSettings stores settings in one transaction, replacing those there:
// what a signing-key rotation writes, so that both new keys survive a
// restart, or neither does.
func (db *DB) SetSettings(ctx context.Context, settings map[string][]byte) error {
	return db.tx(ctx, func(tx wtx) error {
		for key, value := range settings {
			if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)`, key, value); err != nil {
				return err
			}
		}
		return nil
	})
}
