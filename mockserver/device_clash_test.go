package mockserver

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/tokenlab/tokenlab/mockserver/auth"
	"github.com/tokenlab/tokenlab/mockserver/sqlite"
)

// clashingStore is the real store, except that every user code the server
// draws is already taken.
type clashingStore struct {
	*sqlite.DB
	tries atomic.Int32
}

func (s *clashingStore) CreateDeviceCode(context.Context, auth.DeviceCode, auth.CodeLimits) error {
	s.tries.Add(1)
	return auth.ErrCodeTaken
}

// When every user code drawn clashes, device authorization gives up after a
// few draws with 503 temporarily_unavailable and Retry-After: busy, not broken.
func TestDeviceCodeClashesAnswer503(t *testing.T) {
	store := &clashingStore{}
	ts := newTestServerOn(t, func(db *sqlite.DB) Store { store.DB = db; return store })
	r := ts.form(t, "/oauth/device_authorization", "client_id", DefaultClientID)
	if r.Status != http.StatusServiceUnavailable || r.str("error") != "temporarily_unavailable" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("after user-code clashes: %d %s (Retry-After %q)", r.Status, r.Raw, r.Header.Get("Retry-After"))
	}
	if n := store.tries.Load(); n < 2 {
		t.Fatalf("the server drew %d user codes; a clash should make it draw again", n)
	}
}
