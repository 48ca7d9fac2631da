package mockserver

import (
	"database/sql"
	"io"
	"net/http"
	"strings"
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
				statuses <- rawStatus(ts, "GET", "/protected", "", access)
				statuses <- rawStatus(ts, "POST", "/token", `{"token":"`+refresh+`"}`, "")
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
		if st != http.StatusOK && st != http.StatusUnauthorized { // -1: no answer
			t.Fatalf("a request during a rotation got %d", st)
		}
	}
	fresh, _ := ts.login(t)
	if r := ts.do(t, "GET", "/protected", nil, bearerHeader(fresh)...); r.Status != http.StatusOK {
		t.Fatalf("after the rotations a fresh token got %d %s", r.Status, r.Raw)
	}
}

// rawStatus sends one request and returns its status, -1 when there was no
// answer: it may run outside the test's goroutine, so it cannot fail the test.
func rawStatus(ts *testServer, method, path, body, bearer string) int {
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		return -1
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := ts.http.Do(req)
	if err != nil {
		return -1
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// A rotation whose second key cannot be stored changes nothing: the stored
// keys stay the live pair, so a restart signs as the running server does.
// A trigger in the real SQLite file makes the refresh key's write fail.
func TestRotateKeysFailingStoreKeepsPair(t *testing.T) {
	ts := newTestServer(t)
	access, _ := ts.login(t)
	raw, err := sql.Open("sqlite", "file:"+ts.dbPath+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	exec := func(q string) {
		t.Helper()
		if _, err := raw.ExecContext(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	exec(`CREATE TRIGGER fail_refresh_key BEFORE INSERT ON settings WHEN NEW.key LIKE 'refresh_%'
		BEGIN SELECT RAISE(ABORT, 'injected: the disk is full'); END`)

	if r := ts.admin(t, "POST", rotatePath, nil); r.Status != http.StatusInternalServerError {
		t.Fatalf("a rotation that could not store its keys answered %d %s", r.Status, r.Raw)
	}
	exec(`DROP TRIGGER fail_refresh_key`)

	live := ts.tokens()
	for _, k := range []struct {
		purpose string
		live    *signer
	}{{"access", live.access}, {"refresh", live.refresh}} {
		stored, err := loadSigner(t.Context(), ts.DB, k.purpose, ts.cfg.Alg, "")
		if err != nil {
			t.Fatal(err)
		}
		if stored.kid != k.live.kid {
			t.Errorf("after a failed rotation the stored %s key (%s) is not the live one (%s)", k.purpose, stored.kid, k.live.kid)
		}
	}
	if r := ts.do(t, "GET", "/protected", nil, bearerHeader(access)...); r.Status != http.StatusOK {
		t.Fatalf("after a failed rotation a token of the old keys got %d %s", r.Status, r.Raw)
	}
}
