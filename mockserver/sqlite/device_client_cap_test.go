package sqlite

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// One client's pending device codes, from however many addresses, stop at
// the client's cap, so a flood through one client (from many remote
// addresses) leaves the table to the others.
func TestDeviceCodesPerClientCap(t *testing.T) {
	db := openTestDB(t)
	ctx := t.Context()
	grants := []string{"urn:ietf:params:oauth:grant-type:device_code"}
	if err := db.SyncClients(ctx, []auth.Client{{ID: "pub", GrantTypes: grants}, {ID: "other", GrantTypes: grants}}, t0); err != nil {
		t.Fatal(err)
	}
	limits := auth.CodeLimits{Each: 1, Client: 3, Total: 10}
	n := 0
	device := func(client, addr string, at time.Time) error {
		n++
		id := fmt.Sprint("dev-", n)
		return db.CreateDeviceCode(ctx, auth.DeviceCode{Hash: hash(id), ID: id, UserCode: fmt.Sprintf("BBBBBB%02d", n), ClientID: client,
			Interval: 5 * time.Second, IssuedAt: at, ExpiresAt: at.Add(time.Minute), Requester: addr}, limits)
	}
	for i := range 3 {
		if err := device("pub", fmt.Sprint("10.0.0.", i), t0); err != nil {
			t.Fatalf("pub from address %d: %v", i, err)
		}
	}
	if err := device("pub", "10.0.0.9", t0); !errors.Is(err, auth.ErrClientCodesFull) {
		t.Fatalf("pub past its client cap: %v, want ErrClientCodesFull", err)
	}
	if err := device("other", "10.0.0.9", t0); err != nil {
		t.Fatalf("another client after pub's flood: %v", err)
	}
	if err := device("pub", "10.0.0.9", t0.Add(2*time.Minute)); err != nil {
		t.Fatalf("pub after its codes expired: %v", err)
	}
}
