package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/mockserver"
	"github.com/tokenlab/tokenlab/mockserver/store"
	"golang.org/x/crypto/bcrypt"
)

// embedded is a real mock server over a real SQLite file on loopback, with
// a frozen clock, counting the refreshes it answers.
type embedded struct {
	URL       string
	Clock     *mockserver.Clock
	refreshes atomic.Int64
}

func startEmbedded(t *testing.T, mutate ...func(*mockserver.Config)) *embedded {
	t.Helper()
	db, err := store.Open(t.Context(), t.TempDir()+"/tokenlab.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock, err := mockserver.NewClock(mockserver.ClockFrozen, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(nil)
	cfg := mockserver.DefaultConfig()
	cfg.Issuer, cfg.AdminToken, cfg.BcryptCost = "http://"+hs.Listener.Addr().String(), "integration-admin-token", bcrypt.MinCost
	for _, m := range mutate {
		m(&cfg)
	}
	srv, err := mockserver.New(t.Context(), db, clock, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &embedded{Clock: clock}
	hs.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" || r.URL.Path == "/oauth/token" && r.FormValue("grant_type") == "refresh_token" {
			e.refreshes.Add(1)
		}
		srv.ServeHTTP(w, r)
	})
	hs.Start()
	t.Cleanup(hs.Close)
	e.URL = hs.URL
	return e
}

// TestTransportSingleFlightAgainstServer: 100 goroutines call the API
// through client.Transport after the server's clock has passed the access
// token's expiry. The server must see exactly one refresh, and every
// request must succeed.
func TestTransportSingleFlightAgainstServer(t *testing.T) {
	srv := startEmbedded(t)
	profile, _ := client.ResolveProfile("tokenlab")
	c, err := client.New(srv.URL, "alice", profile, client.NewMemoryStore())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(t.Context(), "password123"); err != nil {
		t.Fatal(err)
	}
	srv.Clock.Advance(16 * time.Minute) // the client's clock does not know: the API's 401 tells it
	hc := c.HTTPClient()
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range 100 {
		wg.Go(func() {
			resp, err := hc.Get(srv.URL + "/protected")
			if err != nil {
				t.Error(err)
				failed.Add(1)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				failed.Add(1)
				t.Errorf("status %d", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	if n := srv.refreshes.Load(); n != 1 || failed.Load() != 0 {
		t.Fatalf("server saw %d refreshes and %d requests failed; want exactly 1 refresh and no failure", n, failed.Load())
	}
}
