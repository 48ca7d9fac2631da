package mockserver

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// levelRecorder is a slog handler that keeps each record's level and message.
type levelRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *levelRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *levelRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r)
	return nil
}
func (h *levelRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *levelRecorder) WithGroup(string) slog.Handler      { return h }

// errors returns the messages logged at Error or above.
func (h *levelRecorder) errors() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var msgs []string
	for _, r := range h.records {
		if r.Level >= slog.LevelError {
			msgs = append(msgs, r.Message)
		}
	}
	return msgs
}

// A client that hangs up while its login waits for a bcrypt slot is not
// the server's failure: no 500 is written and nothing is logged at Error.
func TestHangUpWhileWaitingForHashSlot(t *testing.T) {
	logs := &levelRecorder{}
	ts := newTestServer(t, func(c *Config) {
		c.HashWorkers, c.HashQueue = 1, 4
		c.Logger = slog.New(logs)
	})
	ts.hashing.slots <- struct{}{} // the one worker is busy
	defer func() { <-ts.hashing.slots }()

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/login",
		strings.NewReader(`{"username":"alice","password":"password123"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		ts.ServeHTTP(rec, req)
	}()
	for ts.hashing.waiting.Load() == 0 { // the login waits for the slot
		runtime.Gosched()
	}
	cancel() // the client hangs up
	<-done

	if rec.Code == http.StatusInternalServerError || rec.Body.Len() > 0 {
		t.Errorf("a request whose client hung up was answered %d %q", rec.Code, rec.Body)
	}
	if msgs := logs.errors(); len(msgs) > 0 {
		t.Errorf("a hang-up was logged as an error: %q", msgs)
	}
}
