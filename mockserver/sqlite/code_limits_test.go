package sqlite

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// Pending codes are bounded per party (user or requesting address) and,
// much higher, on the whole server: one party's codes never count against
// another's, yet the tables stay bounded.
func TestCodeLimitsPerPartyAndTotal(t *testing.T) {
	db := openTestDB(t)
	ctx := t.Context()
	if err := db.SyncClients(ctx, []auth.Client{{ID: "pub", GrantTypes: []string{"authorization_code"}}}, t0); err != nil {
		t.Fatal(err)
	}
	var users []auth.User
	for _, name := range []string{"alice", "bob", "carol"} {
		u, err := db.CreateUser(ctx, name, []byte("$2a$hash"), t0)
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	limits := auth.CodeLimits{Each: 2, Total: 3}
	n := 0
	code := func(u auth.User) error {
		n++
		id := fmt.Sprint("code-", n)
		return db.CreateCode(ctx, auth.AuthCode{Hash: hash(id), ID: id, ClientID: "pub", RedirectURI: "http://127.0.0.1:1/cb",
			UserID: u.ID, Username: u.Username, IssuedAt: t0, ExpiresAt: t0.Add(time.Minute)}, limits)
	}
	device := func(addr string) error {
		n++
		id := fmt.Sprint("dev-", n)
		return db.CreateDeviceCode(ctx, auth.DeviceCode{Hash: hash(id), ID: id, UserCode: fmt.Sprintf("BBBBBB%02d", n), ClientID: "pub",
			Interval: 5 * time.Second, IssuedAt: t0, ExpiresAt: t0.Add(time.Minute), Requester: addr}, limits)
	}
	for _, step := range []struct {
		name string
		err  error
		want error
	}{
		{"alice 1", code(users[0]), nil},
		{"alice 2", code(users[0]), nil},
		{"alice 3", code(users[0]), auth.ErrTooMany},
		{"bob 1", code(users[1]), nil},
		{"carol 1 (server full)", code(users[2]), auth.ErrCodesFull},
		{"10.0.0.1 #1", device("10.0.0.1"), nil},
		{"10.0.0.1 #2", device("10.0.0.1"), nil},
		{"10.0.0.1 #3", device("10.0.0.1"), auth.ErrTooMany},
		{"10.0.0.2 #1", device("10.0.0.2"), nil},
		{"10.0.0.3 #1 (server full)", device("10.0.0.3"), auth.ErrCodesFull},
	} {
		if !errors.Is(step.err, step.want) || (step.want == nil) != (step.err == nil) {
			t.Errorf("%s: %v, want %v", step.name, step.err, step.want)
		}
	}
}

// A user code already in use is ErrCodeTaken (the server draws another);
// a clash on another unique column is not, since drawing another user code
// would not help.
func TestDeviceUserCodeClash(t *testing.T) {
	db := openTestDB(t)
	ctx := t.Context()
	if err := db.SyncClients(ctx, []auth.Client{{ID: "pub", GrantTypes: []string{"urn:ietf:params:oauth:grant-type:device_code"}}}, t0); err != nil {
		t.Fatal(err)
	}
	limits := auth.CodeLimits{Each: 10, Total: 10}
	device := func(hashOf, id, userCode string) error {
		return db.CreateDeviceCode(ctx, auth.DeviceCode{Hash: hash(hashOf), ID: id, UserCode: userCode, ClientID: "pub",
			Interval: 5 * time.Second, IssuedAt: t0, ExpiresAt: t0.Add(time.Minute), Requester: "10.0.0.1"}, limits)
	}
	if err := device("a", "dev-a", "CCCCCCCC"); err != nil {
		t.Fatal(err)
	}
	if err := device("b", "dev-b", "CCCCCCCC"); !errors.Is(err, auth.ErrCodeTaken) {
		t.Errorf("same user code: %v, want ErrCodeTaken", err)
	}
	if err := device("c", "dev-a", "DDDDDDDD"); err == nil || errors.Is(err, auth.ErrCodeTaken) {
		t.Errorf("same id, new user code: %v, want another error than ErrCodeTaken", err)
	}
}
