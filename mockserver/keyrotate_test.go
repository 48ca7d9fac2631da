package mockserver

import (
	"net/http"
	"sync"
	"testing"
)

// Requests run through key rotations without a lock: each loads the live
// keys once, so under -race no request reads a half-made swap, and every
// answer is a 200 (before the swap) or the server's own 401 (after), never
// a 500. Afterwards the token a fresh login gets works.
func TestRotateKeysWhileServing(t *testing.T) {
	ts := newTestServer(t)
	access, refresh := ts.login(t)
	var wg sync.WaitGroup
	statuses := make(chan int, 400)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				statuses <- ts.do(t, "GET", "/protected", nil, bearerHeader(access)...).Status
				statuses <- ts.do(t, "POST", "/token", map[string]string{"token": refresh}).Status
			}
		}()
	}
	for i := 0; i < 5; i++ {
		if r := ts.admin(t, "POST", rotatePath, nil); r.Status != http.StatusOK {
			t.Fatalf("rotate: %d %s", r.Status, r.Raw)
		}
	}
	wg.Wait()
	close(statuses)
	for st := range statuses {
		if st != http.StatusOK && st != http.StatusUnauthorized {
			t.Fatalf("a request during a rotation got %d", st)
		}
	}
	fresh, _ := ts.login(t)
	if r := ts.do(t, "GET", "/protected", nil, bearerHeader(fresh)...); r.Status != http.StatusOK {
		t.Fatalf("after the rotations a fresh token got %d %s", r.Status, r.Raw)
	}
}
