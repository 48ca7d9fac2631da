package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// logFlushDelay is how long a log line may wait in batchedWriter: short
// enough that someone watching the server sees each request at once.
const logFlushDelay = 100 * time.Millisecond

// batchedWriter gathers the server's log lines and writes them together,
// at most logFlushDelay after the first one waiting (or when 32 KB wait).
// One write(2) per request line cost the server as much CPU as answering
// /protected itself (see docs/performance.md); batched, a busy second of
// access log is a few dozen writes. Warnings and errors are written at once
// (flushOnWarn), and serve flushes when it stops.
type batchedWriter struct {
	mu      sync.Mutex
	buf     *bufio.Writer
	pending bool // a flush is scheduled
	delay   time.Duration
}

func newBatchedWriter(dst io.Writer, delay time.Duration) *batchedWriter {
	return &batchedWriter{buf: bufio.NewWriterSize(dst, 32<<10), delay: delay}
}

func (w *batchedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if !w.pending && w.buf.Buffered() > 0 {
		w.pending = true
		time.AfterFunc(w.delay, func() { w.Flush() })
	}
	return n, err
}

// Flush writes every waiting line.
func (w *batchedWriter) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pending = false
	return w.buf.Flush()
}

// flushOnWarn writes a warning or error, and every line before it, at once.
type flushOnWarn struct {
	slog.Handler
	w *batchedWriter
}

func (h flushOnWarn) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		if ferr := h.w.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (h flushOnWarn) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushOnWarn{h.Handler.WithAttrs(attrs), h.w}
}

func (h flushOnWarn) WithGroup(name string) slog.Handler {
	return flushOnWarn{h.Handler.WithGroup(name), h.w}
}
