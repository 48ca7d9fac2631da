package main

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/mockserver"
	"github.com/tokenlab/tokenlab/mockserver/sqlite"
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
	db, err := sqlite.Open(t.Context(), t.TempDir()+"/tokenlab.db")
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

// TestProfilesAgainstServerDialects: each built-in profile completes
// login → protected → expiry → automatic refresh → logout against the
// server's matching dialect.
func TestProfilesAgainstServerDialects(t *testing.T) {
	for _, name := range []string{"tokenlab", "seed-json", "seed-cookie", "oauth2"} {
		t.Run(name, func(t *testing.T) {
			srv := startEmbedded(t)
			profile, err := client.ResolveProfile(name)
			if err != nil {
				t.Fatal(err)
			}
			var events []client.Event
			var mu sync.Mutex
			c, err := client.New(srv.URL, "alice", profile, client.NewMemoryStore(),
				client.WithEvents(func(e client.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }))
			if err != nil {
				t.Fatal(err)
			}
			first, err := c.Login(t.Context(), "password123")
			if err != nil {
				t.Fatal(err)
			}
			get := func() int {
				t.Helper()
				resp, err := c.HTTPClient().Get(srv.URL + "/protected")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			if st := get(); st != 200 {
				t.Fatalf("protected: %d", st)
			}
			srv.Clock.Advance(16 * time.Minute)
			if st := get(); st != 200 {
				t.Fatalf("protected after expiry: %d", st)
			}
			if n := srv.refreshes.Load(); n != 1 {
				t.Fatalf("server saw %d refreshes, want 1", n)
			}
			now, err := c.Session(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if now.RefreshToken == first.RefreshToken || now.Refreshes != 1 {
				t.Fatalf("the refresh token must have rotated once: %+v", now)
			}
			if err := c.Logout(t.Context()); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Token(t.Context()); !errors.Is(err, client.ErrLoginRequired) {
				t.Fatalf("after logout Token must need a login, got %v", err)
			}
			// The server revoked the family: the last refresh token is dead.
			again, _ := client.New(srv.URL, "alice", profile, client.NewMemoryStore())
			st := client.NewMemoryStore()
			st.Save(t.Context(), again.Key(), now)
			again, _ = client.New(srv.URL, "alice", profile, st)
			if _, err := again.Refresh(t.Context()); !errors.Is(err, client.ErrLoginRequired) {
				t.Fatalf("refresh after logout must be refused, got %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			kinds := map[string]int{}
			for _, e := range events {
				kinds[e.Kind]++
			}
			if kinds[client.EventRotation] != 1 || kinds[client.EventLogout] != 1 || kinds[client.EventLogin] != 1 {
				t.Fatalf("events: %v", kinds)
			}
		})
	}
}
