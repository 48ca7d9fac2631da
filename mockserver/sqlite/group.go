package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// Group commit: one goroutine owns the write connection. It takes every
// write request that is waiting, runs each inside its own SAVEPOINT, commits
// once, and only then answers them all. One commit (one set of WAL writes
// and locks) is shared by a whole batch, and a caller learns of its write
// only once it is durable, so a client is never handed a token that a
// crash could lose.

// ErrClosed is returned for writes queued when the database closes.
var ErrClosed = errors.New("database closed")

const (
	writeQueue = 1024 // waiting writes; a caller beyond this waits to enqueue
	maxBatch   = 256  // writes per transaction
)

// writeRequest is one caller's write: fn runs inside a savepoint of the
// batch transaction; done receives its outcome after the commit.
type writeRequest struct {
	ctx  context.Context
	fn   func(wtx) error
	done chan error
}

func newDB(write, read *sql.DB) *DB {
	db := &DB{write: write, read: read, writes: make(chan *writeRequest, writeQueue),
		closing: make(chan struct{}), stopped: make(chan struct{})}
	go db.writer()
	return db
}

// tx runs fn in a write transaction (shared with other waiting writes),
// returning once the transaction is committed or fn's work is undone. An
// error that carries a commit request (see commitErr) is committed too.
//
// Once queued, the request is always answered: the caller waits for the
// commit even if ctx ends, so it never reports failure for a write that
// was in fact stored.
func (db *DB) tx(ctx context.Context, fn func(wtx) error) error {
	req := &writeRequest{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case db.writes <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-db.closing:
		return ErrClosed
	}
	select {
	case err := <-req.done:
		return err
	case <-db.stopped:
		// Queued just as the writer stopped: answered, or never seen.
		select {
		case err := <-req.done:
			return err
		default:
			return ErrClosed
		}
	}
}

// writer serves batches until the database closes.
func (db *DB) writer() {
	defer close(db.stopped)
	batch := make([]*writeRequest, 0, maxBatch)
	for {
		select {
		case req := <-db.writes:
			batch = append(batch[:0], req)
		case <-db.closing:
			db.failQueued()
			return
		}
	more:
		for len(batch) < maxBatch {
			select {
			case req := <-db.writes:
				batch = append(batch, req)
			default:
				break more
			}
		}
		db.runBatch(batch)
	}
}

// failQueued answers every write still queued at Close.
func (db *DB) failQueued() {
	for {
		select {
		case req := <-db.writes:
			req.done <- ErrClosed
		default:
			return
		}
	}
}

// Savepoint statements, prepared with the refresh path's.
const (
	qSavepoint  = `SAVEPOINT request`
	qRollbackTo = `ROLLBACK TO request`
	qRelease    = `RELEASE request`
)

// WriteStats reports how many write transactions (batches) have run and
// how many writes they held: their ratio is the mean batch size.
func (db *DB) WriteStats() (batches, writes int64) {
	return db.batches.Load(), db.writesDone.Load()
}

// runBatch runs the requests in one transaction and answers each.
func (db *DB) runBatch(batch []*writeRequest) {
	db.batches.Add(1)
	errs := make([]error, len(batch))
	err := db.commitBatch(batch, errs)
	for i, req := range batch {
		if err != nil {
			errs[i] = err
		}
		req.done <- errs[i]
	}
}

// commitBatch runs each request in its own savepoint, recording its
// outcome in errs, and commits once. A non-nil result is a failure of
// the whole transaction: nothing of the batch was stored.
func (db *DB) commitBatch(batch []*writeRequest, errs []error) error {
	ctx := context.Background() // no caller may cancel a shared transaction
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // after Commit this does nothing
	w := wtx{Tx: tx, db: db, ctx: ctx}
	for i, req := range batch {
		if err := req.ctx.Err(); err != nil {
			errs[i] = err // the caller has gone: do not start its work
			continue
		}
		w.trace = auth.TraceFrom(req.ctx)
		errs[i], err = runSavepoint(w, req.fn)
		db.writesDone.Add(1)
		if err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
	}
	return tx.Commit()
}

// runSavepoint runs fn inside a savepoint, undoing its work when it fails
// (or panics: Mint signs inside, and the writer must live on). The first
// result is fn's outcome; the second a failure of the savepoint itself.
func runSavepoint(w wtx, fn func(wtx) error) (fnErr, err error) {
	if _, err := w.ExecContext(w.ctx, qSavepoint); err != nil {
		return nil, err
	}
	fnErr = callSafely(w, fn)
	var ce commitErr
	if fnErr != nil && !errors.As(fnErr, &ce) {
		if _, err := w.ExecContext(w.ctx, qRollbackTo); err != nil {
			return fnErr, err
		}
	} else if ce.err != nil {
		fnErr = ce.err
	}
	_, err = w.ExecContext(w.ctx, qRelease)
	return fnErr, err
}

func callSafely(w wtx, fn func(wtx) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("write panicked: %v", r)
		}
	}()
	return fn(w)
}
