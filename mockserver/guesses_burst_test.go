package mockserver

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/auth"
	"github.com/tokenlab/tokenlab/mockserver/sqlite"
)

// heldLookups holds every user-code lookup until released, so a test can
// see how many lookups a burst reaches at once.
type heldLookups struct {
	*sqlite.DB
	arrived chan struct{}
	release chan struct{}
}

func (h *heldLookups) PendingDevice(ctx context.Context, code string, now time.Time) (auth.DeviceCode, error) {
	h.arrived <- struct{}{}
	<-h.release
	return h.DB.PendingDevice(ctx, code, now)
}

// A burst of wrong user codes from one fresh address reaches at most the
// limiter's allowance of lookups: the guess is counted before the lookup,
// not after (before, 100 parallel guesses got 100 answers).
func TestUserCodeBurstIsReservedBeforeLookup(t *testing.T) {
	const burst = 100
	held := &heldLookups{arrived: make(chan struct{}, burst), release: make(chan struct{})}
	ts := newTestServerOn(t, func(db *sqlite.DB) Store { held.DB = db; return held })
	answered := make(chan int, burst)
	var wg sync.WaitGroup
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code := "BBBB-" + string(userCodeAlphabet[i%20]) + string(userCodeAlphabet[i/20%20]) + "BB"
			answered <- ts.browser(t, "GET", "/device?user_code="+code, nil).Status
		}()
	}
	// Every request either waits in a lookup or has its answer; then the
	// lookups may go on.
	lookups, statuses := 0, []int{}
	for lookups+len(statuses) < burst {
		select {
		case <-held.arrived:
			lookups++
		case s := <-answered:
			statuses = append(statuses, s)
		}
	}
	close(held.release)
	wg.Wait()
	close(answered)
	for s := range answered {
		statuses = append(statuses, s)
	}
	refused := 0
	for _, s := range statuses {
		if s == http.StatusTooManyRequests {
			refused++
		}
	}
	t.Logf("%d parallel guesses: %d looked up, %d refused", burst, lookups, refused)
	if lookups > userCodeGuessBurst {
		t.Fatalf("%d parallel guesses from one address reached %d lookups, want at most %d", burst, lookups, userCodeGuessBurst)
	}
	if refused != burst-lookups {
		t.Fatalf("%d refused, want the %d that were not looked up", refused, burst-lookups)
	}
}
