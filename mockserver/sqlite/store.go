// Package sqlite keeps the mock server's state in SQLite: users, generated
// signing keys, refresh-token families and the event log.
//
// Every write goes through one writer goroutine on one connection, so
// concurrent writers queue in Go instead of spinning in SQLite's busy
// handler. Writes that wait while a transaction runs are committed
// together (group commit), each inside its own savepoint, so a refresh
// (check, mark, insert) stays atomic and a failure undoes only its own work.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the mock server's database.
type DB struct {
	write *sql.DB // exactly one connection, owned by the writer goroutine
	read  *sql.DB // a pool for reads; the same handle as write for :memory:
	// prepared holds the refresh path's statements, prepared once on the
	// write connection: SQLite would otherwise parse each one every time.
	prepared map[string]*sql.Stmt
	// writes queues write requests, first come first served, for the
	// writer goroutine (see group.go).
	writes    chan *writeRequest
	closing   chan struct{}
	closeOnce sync.Once
	stopped   chan struct{}
	// batches and writesDone count transactions and the writes they held.
	batches, writesDone atomic.Int64
}

// wtx is one write request's view of the batch transaction: it runs known
// queries as prepared statements, and always with the writer's context,
// because a cancelled statement would make SQLite roll back the whole
// batch, not only this request's work. Helpers that take a wtx take no
// context of their own for the same reason.
type wtx struct {
	*sql.Tx
	db  *DB
	ctx context.Context
	// trace labels the events this request writes (auth.TraceFrom of the
	// caller's context: the transaction's own context is shared).
	trace string
}

func (t wtx) ExecContext(_ context.Context, query string, args ...any) (sql.Result, error) {
	if st, ok := t.db.prepared[query]; ok {
		return t.Tx.StmtContext(t.ctx, st).ExecContext(t.ctx, args...)
	}
	return t.Tx.ExecContext(t.ctx, query, args...)
}

func (t wtx) QueryRowContext(_ context.Context, query string, args ...any) *sql.Row {
	if st, ok := t.db.prepared[query]; ok {
		return t.Tx.StmtContext(t.ctx, st).QueryRowContext(t.ctx, args...)
	}
	return t.Tx.QueryRowContext(t.ctx, query, args...)
}

func (t wtx) QueryContext(_ context.Context, query string, args ...any) (*sql.Rows, error) {
	if st, ok := t.db.prepared[query]; ok {
		return t.Tx.StmtContext(t.ctx, st).QueryContext(t.ctx, args...)
	}
	return t.Tx.QueryContext(t.ctx, query, args...)
}

// prepare readies the hot queries; outside any transaction, since the
// write pool's only connection would otherwise be taken.
func (db *DB) prepare(ctx context.Context) error {
	db.prepared = map[string]*sql.Stmt{}
	for _, q := range []string{qInsertEvent, qInsertToken, qMarkUsed, qRevokeFamily, qTokenByJTI, qFamilyByID, qSuccessor,
		qSavepoint, qRollbackTo, qRelease} {
		st, err := db.write.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		db.prepared[q] = st
	}
	return nil
}

// Open opens (creating if needed) the database at path and applies
// migrations. path ":memory:" gives a private in-memory database.
func Open(ctx context.Context, path string) (*DB, error) {
	db, err := open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return db, nil
}

func open(ctx context.Context, path string) (*DB, error) {
	pragmas := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
	if path == ":memory:" {
		// A bare :memory: gives each pooled connection its own empty
		// database, so one connection serves reads and writes.
		h, err := sql.Open("sqlite", "file::memory:?"+pragmas)
		if err != nil {
			return nil, err
		}
		h.SetMaxOpenConns(1)
		db := newDB(h, h)
		if err := db.init(ctx); err != nil {
			db.Close()
			return nil, err
		}
		return db, nil
	}
	if path == "" {
		return nil, errors.New("empty path")
	}
	// The file holds signing keys and password hashes: only its owner may
	// read it. SQLite gives the -wal and -shm files the same mode.
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	// WAL keeps readers off the writer's back; synchronous=NORMAL in WAL
	// mode loses nothing when the process is killed (only on power loss).
	base := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + pragmas +
		"&_pragma=journal_mode(wal)&_pragma=synchronous(normal)"
	w, err := sql.Open("sqlite", base+"&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", base)
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(4)
	db := newDB(w, r)
	if err := db.init(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Close stops the writer (queued writes fail with ErrClosed) and closes
// the database.
func (db *DB) Close() error {
	db.closeOnce.Do(func() { close(db.closing) })
	<-db.stopped
	var err error
	for _, st := range db.prepared {
		err = errors.Join(err, st.Close())
	}
	err = errors.Join(err, db.write.Close())
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

func (db *DB) init(ctx context.Context) error {
	if err := db.migrateAll(ctx); err != nil {
		return err
	}
	return db.prepare(ctx)
}

func (db *DB) migrateAll(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := db.migrate(ctx, name); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

// migrate applies one migration in its own transaction, once.
func (db *DB) migrate(ctx context.Context, name string) error {
	base := strings.TrimPrefix(name, "migrations/")
	version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
	if err != nil {
		return fmt.Errorf("name must start with a number: %w", err)
	}
	return db.tx(ctx, func(tx wtx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES (?, ?)`, version, base)
		return err
	})
}

// commitErr asks tx to commit what was written and still return err: a
// detected reuse revokes the family and reports the reuse.
type commitErr struct{ err error }

func (c commitErr) Error() string { return c.err.Error() }

// IntegrityCheck runs PRAGMA integrity_check and returns its answer ("ok").
func (db *DB) IntegrityCheck(ctx context.Context) (string, error) {
	var res string
	err := db.read.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res)
	return res, err
}

// SettingOrInit returns the stored setting, storing value first when there
// is none. Two processes racing get the same answer.
func (db *DB) SettingOrInit(ctx context.Context, key string, value []byte) ([]byte, error) {
	var v []byte
	err := db.tx(ctx, func(tx wtx) error {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)`, key, value); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	})
	return v, err
}

func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}
