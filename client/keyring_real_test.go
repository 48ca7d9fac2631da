package client

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/tokenlab/tokenlab/internal/testskip"
)

// keyringMocked is set by mockKeyring. go-keyring's MockInit replaces its
// provider for the whole test binary and cannot be undone, so the real
// keyring test must run before any mock. Go runs a package's tests in
// source order, files sorted by name: this file (keyring_real_test.go)
// sorts before store_test.go, the only file that mocks the keyring. Keep it
// that way, and do not run this package with -shuffle.
var keyringMocked atomic.Bool

// mockKeyring replaces the OS keyring with go-keyring's in-memory mock,
// failing every call with err when err is not nil. From here on no test in
// this binary can reach the real keyring.
func mockKeyring(tb testing.TB, err error) {
	tb.Helper()
	keyringMocked.Store(true)
	if err != nil {
		keyring.MockInitWithError(err)
		return
	}
	keyring.MockInit()
}

// TestKeyringReal makes a round trip through the real OS keyring when one
// is reachable. It skips otherwise, except under CI=true, where a missing
// keyring is a failure: CI is meant to provide one (see the keyring recipe).
func TestKeyringReal(t *testing.T) {
	skip := func(reason string) {
		t.Helper()
		testskip.Real(t, "OS keyring", reason)
	}
	if keyringMocked.Load() {
		skip("the keyring was mocked by an earlier test (test order changed?); the real keyring cannot be reached any more")
	}
	k := NewKeyringStore()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if err := k.Probe(ctx); err != nil {
		skip(fmt.Sprintf("no real keyring is reachable: %v", err))
	}

	key := Key("tokenlab", "http://127.0.0.1:1", fmt.Sprintf("keyring-test-%d", time.Now().UnixNano()))
	t.Cleanup(func() { k.Delete(context.Background(), key) })
	want := Session{Server: "http://127.0.0.1:1", Profile: "tokenlab", Username: "keyring-test",
		AccessToken: "a.b.c", AccessExpiry: fakeEpoch, RefreshToken: "d.e.f", RefreshExpiry: fakeEpoch.Add(time.Hour), Refreshes: 2}

	if _, err := k.Load(t.Context(), key); !errors.Is(err, ErrNoSession) {
		t.Fatalf("Load before Save = %v, want ErrNoSession", err)
	}
	if err := k.Save(t.Context(), key, want); err != nil {
		t.Fatalf("Save: %v", err)
	}
	got, err := k.Load(t.Context(), key)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !sessionsEqual(got, want) {
		t.Errorf("Load = %+v, want %+v", got, want)
	}
	if err := k.Delete(t.Context(), key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := k.Load(t.Context(), key); !errors.Is(err, ErrNoSession) {
		t.Errorf("Load after Delete = %v, want ErrNoSession", err)
	}
	if err := k.Delete(t.Context(), key); err != nil {
		t.Errorf("Delete of a missing session = %v, want nil", err)
	}
}

// sessionsEqual compares sessions, times by instant.
func sessionsEqual(a, b Session) bool {
	return a.AccessExpiry.Equal(b.AccessExpiry) && a.RefreshExpiry.Equal(b.RefreshExpiry) &&
		a.Server == b.Server && a.Profile == b.Profile && a.Username == b.Username &&
		a.AccessToken == b.AccessToken && a.RefreshToken == b.RefreshToken && a.Refreshes == b.Refreshes
}
