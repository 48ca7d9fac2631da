package client

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// The keyring cases below mock go-keyring for the rest of the test binary
// (see keyring_real_test.go, which must run first).

func storeTestSession(user string) Session {
	return Session{Server: "http://127.0.0.1:8080", Profile: "tokenlab", Username: user,
		AccessToken: "h.access-" + user + ".s", AccessExpiry: fakeEpoch.Add(5 * time.Minute),
		RefreshToken: "h.refresh-" + user + ".s", RefreshExpiry: fakeEpoch.Add(24 * time.Hour), Refreshes: 1}
}

func TestStores(t *testing.T) {
	tests := []struct {
		name  string
		store func(t *testing.T) Store
	}{
		{"memory", func(t *testing.T) Store { return NewMemoryStore() }},
		{"file", func(t *testing.T) Store { return &FileStore{Dir: filepath.Join(t.TempDir(), "sessions")} }},
		{"keyring (mocked)", func(t *testing.T) Store { mockKeyring(t, nil); return NewKeyringStore() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := tt.store(t)
			ctx := t.Context()
			alice, bob := storeTestSession("alice"), storeTestSession("bob")
			if _, err := st.Load(ctx, alice.Key()); !errors.Is(err, ErrNoSession) {
				t.Fatalf("Load of a missing session = %v, want ErrNoSession", err)
			}
			if err := st.Delete(ctx, alice.Key()); err != nil {
				t.Fatalf("Delete of a missing session = %v, want nil", err)
			}
			for _, s := range []Session{alice, bob} {
				if err := st.Save(ctx, s.Key(), s); err != nil {
					t.Fatalf("Save %s: %v", s.Username, err)
				}
			}
			if got, err := st.Load(ctx, alice.Key()); err != nil || !sessionsEqual(got, alice) {
				t.Fatalf("Load = %+v, %v; want %+v", got, err, alice)
			}
			next := alice
			next.AccessToken, next.Refreshes = "h.access-2.s", 2
			if err := st.Save(ctx, alice.Key(), next); err != nil {
				t.Fatalf("Save over: %v", err)
			}
			if got, err := st.Load(ctx, alice.Key()); err != nil || !sessionsEqual(got, next) {
				t.Errorf("Load after overwrite = %+v, %v; want %+v", got, err, next)
			}

			big := alice
			big.AccessToken = strings.Repeat("x", MaxSessionBytes)
			err := st.Save(ctx, alice.Key(), big)
			if err == nil || !strings.Contains(err.Error(), "more than the 2048") {
				t.Errorf("Save of a %d-byte token = %v, want a refusal naming the 2048-byte limit", len(big.AccessToken), err)
			}
			if got, err := st.Load(ctx, alice.Key()); err != nil || !sessionsEqual(got, next) {
				t.Errorf("a refused Save changed the stored session: %+v, %v", got, err)
			}

			if err := st.Delete(ctx, alice.Key()); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if _, err := st.Load(ctx, alice.Key()); !errors.Is(err, ErrNoSession) {
				t.Errorf("Load after Delete = %v, want ErrNoSession", err)
			}
			if got, err := st.Load(ctx, bob.Key()); err != nil || !sessionsEqual(got, bob) {
				t.Errorf("Delete of alice touched bob: %+v, %v", got, err)
			}
		})
	}
}

func TestFileStoreFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sessions")
	st := &FileStore{Dir: dir}
	s := storeTestSession("alice")
	for i := range 3 {
		s.Refreshes = i
		if err := st.Save(t.Context(), s.Key(), s); err != nil {
			t.Fatalf("Save: %v", err)
		}
	}
	info, err := os.Stat(st.Path(s.Key()))
	if err != nil {
		t.Fatalf("stat session file: %v", err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("session file mode = %o, want 600", mode)
	}
	if dinfo, err := os.Stat(dir); err != nil || dinfo.Mode().Perm() != 0o700 {
		t.Errorf("session folder mode = %v (%v), want 700", dinfo.Mode().Perm(), err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 1 || names[0] != filepath.Base(st.Path(s.Key())) {
		t.Errorf("folder holds %q, want only the session file (no temporary files)", names)
	}
	if got, err := st.Load(t.Context(), s.Key()); err != nil || got.Refreshes != 2 {
		t.Errorf("Load = %+v, %v; want the last save", got, err)
	}

	// Atomic: a reader that opened the old file still reads the whole old
	// session after a Save, because Save renames a new file into place.
	old, err := os.Open(st.Path(s.Key()))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	s.AccessToken = "h.access-after.s"
	if err := st.Save(t.Context(), s.Key(), s); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if data, err := io.ReadAll(old); err != nil || !strings.Contains(string(data), `"at":"h.access-alice.s"`) {
		t.Errorf("the file was rewritten in place, not replaced: an open reader sees %q (%v)", data, err)
	}

	// A Save that fails leaves no temporary file behind.
	blocked := storeTestSession("blocked")
	if err := os.Mkdir(st.Path(blocked.Key()), 0o700); err != nil { // the rename target is a folder
		t.Fatal(err)
	}
	if err := st.Save(t.Context(), blocked.Key(), blocked); err == nil {
		t.Errorf("Save onto a folder succeeded")
	}
	if n := countTemp(t, dir); n != 0 {
		t.Errorf("a failed Save left %d temporary files", n)
	}

	if err := os.WriteFile(st.Path(s.Key()), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Load(t.Context(), s.Key()); err == nil || errors.Is(err, ErrNoSession) || !strings.Contains(err.Error(), "unreadable") {
		t.Errorf("Load of a corrupt file = %v, want an 'unreadable' error", err)
	}
}

func countTemp(tb testing.TB, dir string) int {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".session-") {
			n++
		}
	}
	return n
}

func TestKeyringStoreUnavailable(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantReason string
	}{
		{"no D-Bus session", errors.New(`exec: "dbus-launch": executable file not found in $PATH`), "there is no D-Bus session"},
		{"no Secret Service", errors.New("The name org.freedesktop.secrets was not provided by any .service files"), "no Secret Service"},
		{"locked", errors.New("failed to unlock correct collection '/org/freedesktop/secrets/collection/login'"), "the OS keyring is locked: unlock it"},
		{"anything else", errors.New("boom"), "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mockKeyring(t, tt.err) // every keyring call now fails with tt.err
			k := NewKeyringStore()
			ctx := t.Context()
			s := storeTestSession("alice")
			calls := map[string]error{
				"Load":   func() error { _, err := k.Load(ctx, s.Key()); return err }(),
				"Save":   k.Save(ctx, s.Key(), s),
				"Delete": k.Delete(ctx, s.Key()),
				"Probe":  k.Probe(ctx),
			}
			for name, err := range calls {
				if !errors.Is(err, ErrNoKeyring) {
					t.Errorf("%s = %v, want ErrNoKeyring", name, err)
					continue
				}
				if locked := errors.Is(err, ErrKeyringLocked); locked != (tt.name == "locked") {
					t.Errorf("%s = %v: ErrKeyringLocked %v, want it only for a locked keyring", name, err, locked)
				}
				if !strings.Contains(err.Error(), tt.wantReason) {
					t.Errorf("%s = %q, want the reason %q", name, err, tt.wantReason)
				}
				if len(err.Error()) > 120 {
					t.Errorf("%s: %d-character message, want a short one: %q", name, len(err.Error()), err)
				}
			}
		})
	}
}

func TestKeyringStoreTooBig(t *testing.T) {
	mockKeyring(t, keyring.ErrSetDataTooBig) // the platform's own size limit
	err := NewKeyringStore().Save(t.Context(), "k", storeTestSession("alice"))
	if err == nil || errors.Is(err, ErrNoKeyring) || !errors.Is(err, keyring.ErrSetDataTooBig) || !strings.Contains(err.Error(), "too big") {
		t.Errorf("Save refused as too big = %v, want a 'too big' error that is not ErrNoKeyring", err)
	}
}

// TestKeyringStoreCall checks the bound on every keyring call: a Secret
// Service that never answers must not hang the client.
func TestKeyringStoreCall(t *testing.T) {
	const timeout = 50 * time.Millisecond
	tests := []struct {
		name    string
		cancel  bool // cancel the context before the call
		fn      func(block <-chan struct{}) error
		wantErr error
		wantMsg string
	}{
		{"answers", false, func(<-chan struct{}) error { return nil }, nil, ""},
		{"not found passes through", false, func(<-chan struct{}) error { return keyring.ErrNotFound }, keyring.ErrNotFound, ""},
		{"never answers", false, func(block <-chan struct{}) error { <-block; return nil }, ErrNoKeyring, "did not answer within 50ms"},
		{"context cancelled", true, func(block <-chan struct{}) error { <-block; return nil }, context.Canceled, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			block := make(chan struct{})
			defer close(block) // lets an abandoned call finish
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if tt.cancel {
				cancel()
			}
			k := &KeyringStore{Service: KeyringService, Timeout: timeout}
			done := make(chan error, 1)
			go func() { done <- k.call(ctx, func() error { return tt.fn(block) }) }()
			var err error
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				t.Fatalf("call still blocked after 5s with a %v bound", timeout)
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("call = %v, want %v", err, tt.wantErr)
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("call = %q, want it to say %q", err, tt.wantMsg)
			}
		})
	}
}

// TestKeyringStoreEntry checks what lands in the keyring: one entry per
// session key under the service "tokenlab", holding the session as JSON.
func TestKeyringStoreEntry(t *testing.T) {
	mockKeyring(t, nil)
	k := NewKeyringStore()
	s := storeTestSession("alice")
	if err := k.Save(t.Context(), s.Key(), s); err != nil {
		t.Fatalf("Save: %v", err)
	}
	val, err := keyring.Get(KeyringService, s.Key())
	if err != nil {
		t.Fatalf("no keyring entry under %q/%q: %v", KeyringService, s.Key(), err)
	}
	if len(val) > MaxSessionBytes || !strings.Contains(val, `"rt":"h.refresh-alice.s"`) {
		t.Errorf("entry = %s, want the session's JSON under %d bytes", val, MaxSessionBytes)
	}
	if s.Key() != "tokenlab|http://127.0.0.1:8080|alice" {
		t.Errorf("Key = %q, want profile|server|user", s.Key())
	}
}
