package sqlite

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// TestRegisterClientCapHoldsUnderConcurrency: the count and the insert are
// one transaction, so 20 registrations at once against a cap of 3 leave
// exactly 3; the configuration's sync then keeps them, while it removes
// a configured client no longer configured.
func TestRegisterClientCapHoldsUnderConcurrency(t *testing.T) {
	db := openTestDB(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := db.SyncClients(t.Context(), []auth.Client{{ID: "tokenlab", GrantTypes: []string{"password"}}, {ID: "old", GrantTypes: []string{"password"}}}, now); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.RegisterClient(t.Context(), auth.Client{ID: fmt.Sprintf("dyn-%02d", i), GrantTypes: []string{"authorization_code"},
				RedirectURIs: []string{"https://app.example/cb"}, RegisteredAt: now, Name: "app"}, 3)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, auth.ErrTooMany):
			t.Fatalf("registration: %v", err)
		}
	}
	if ok != 3 {
		t.Fatalf("%d registrations passed a cap of 3", ok)
	}
	if err := db.SyncClients(t.Context(), []auth.Client{{ID: "tokenlab", GrantTypes: []string{"password"}}}, now); err != nil {
		t.Fatal(err)
	}
	clients, err := db.Clients(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	registered := 0
	for _, c := range clients {
		ids = append(ids, c.ID)
		if !c.RegisteredAt.IsZero() {
			registered++
			if c.Name != "app" || c.RedirectURIs[0] != "https://app.example/cb" {
				t.Errorf("registered client read back as %+v", c)
			}
		}
	}
	if len(clients) != 4 || ids[0] != "tokenlab" || registered != 3 {
		t.Fatalf("after the sync: %v (want tokenlab and the 3 registered, not old)", ids)
	}
}
