package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/zalando/go-keyring"
)

// Store keeps sessions. Implementations: KeyringStore (the default),
// MemoryStore and FileStore.
type Store interface {
	// Load returns the session under key, or ErrNoSession.
	Load(ctx context.Context, key string) (Session, error)
	Save(ctx context.Context, key string, s Session) error
	// Delete removes the session; deleting a missing one is no error.
	Delete(ctx context.Context, key string) error
}

// Store kinds, as named by --token-store.
const (
	StoreKeyring = "keyring"
	StoreMemory  = "memory"
	StoreFile    = "file"
)

var (
	_ Store = (*KeyringStore)(nil)
	_ Store = (*MemoryStore)(nil)
	_ Store = (*FileStore)(nil)
)

// KeyringService is the service name of tokenlab's keyring entries.
const KeyringService = "tokenlab"

// KeyringStore keeps sessions in the OS keyring (Secret Service, macOS
// Keychain, Windows Credential Manager). Every call is bounded by Timeout,
// because a Secret Service can hang waiting for a prompt nobody sees.
type KeyringStore struct {
	Service string
	Timeout time.Duration
}

// NewKeyringStore returns a keyring store with a 3-second bound per call.
func NewKeyringStore() *KeyringStore {
	return &KeyringStore{Service: KeyringService, Timeout: 3 * time.Second}
}

func (k *KeyringStore) Load(ctx context.Context, key string) (Session, error) {
	var val string
	err := k.call(ctx, func() (err error) { val, err = keyring.Get(k.Service, key); return err })
	if errors.Is(err, keyring.ErrNotFound) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, err
	}
	return unmarshalSession([]byte(val))
}

func (k *KeyringStore) Save(ctx context.Context, key string, s Session) error {
	data, err := s.marshal()
	if err != nil {
		return err
	}
	return k.call(ctx, func() error { return keyring.Set(k.Service, key, string(data)) })
}

func (k *KeyringStore) Delete(ctx context.Context, key string) error {
	err := k.call(ctx, func() error { return keyring.Delete(k.Service, key) })
	if errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	return err
}

// Probe checks that the keyring answers, without changing it.
func (k *KeyringStore) Probe(ctx context.Context) error {
	_, err := k.Load(ctx, "tokenlab-probe")
	if errors.Is(err, ErrNoSession) {
		return nil
	}
	return err
}

// call runs fn with a time limit, in a goroutine because go-keyring takes
// no context. A call that times out is abandoned, not cancelled.
func (k *KeyringStore) call(ctx context.Context, fn func() error) error {
	timeout := k.Timeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	done := make(chan error, 1) // buffered: the goroutine never blocks
	go func() { done <- fn() }()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-done:
		if err == nil || errors.Is(err, keyring.ErrNotFound) {
			return err
		}
		if errors.Is(err, keyring.ErrSetDataTooBig) {
			return fmt.Errorf("the keyring refused the session as too big: %w", err)
		}
		return keyringUnavailable(err)
	case <-t.C:
		return keyringUnavailable(fmt.Errorf("the keyring did not answer within %s", timeout))
	case <-ctx.Done():
		return ctx.Err()
	}
}

// keyringUnavailable wraps a keyring failure in ErrNoKeyring with a short
// reason: no D-Bus session or no Secret Service; a locked collection is
// ErrKeyringLocked, which says to unlock it.
func keyringUnavailable(err error) error {
	msg := err.Error()
	reason := msg
	switch {
	case strings.Contains(msg, "dbus-launch"), strings.Contains(msg, "DBUS_SESSION_BUS_ADDRESS"):
		reason = "there is no D-Bus session"
	case strings.Contains(msg, "org.freedesktop.secrets"):
		reason = "no Secret Service (such as gnome-keyring) is running"
	case strings.Contains(msg, "unlock"), strings.Contains(msg, "IsLocked"):
		return keyringLocked{}
	}
	return fmt.Errorf("%w (%s)", ErrNoKeyring, reason)
}

// MemoryStore keeps sessions in memory, for one process.
type MemoryStore struct {
	mu       sync.Mutex
	sessions map[string]Session
}

func NewMemoryStore() *MemoryStore { return &MemoryStore{sessions: map[string]Session{}} }

func (m *MemoryStore) Load(_ context.Context, key string) (Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[key]
	if !ok {
		return Session{}, ErrNoSession
	}
	return s, nil
}

func (m *MemoryStore) Save(_ context.Context, key string, s Session) error {
	if _, err := s.marshal(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions[key] = s
	return nil
}

func (m *MemoryStore) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sessions, key)
	return nil
}

// FileStore keeps each session as a plaintext JSON file readable only by
// its owner (0600). Only for when asked for explicitly: anyone who can read
// the file holds the session.
type FileStore struct {
	Dir string
}

func (f *FileStore) path(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(f.Dir, "session-"+hex.EncodeToString(sum[:8])+".json")
}

// Path returns the file that holds key's session.
func (f *FileStore) Path(key string) string { return f.path(key) }

func (f *FileStore) Load(_ context.Context, key string) (Session, error) {
	data, err := os.ReadFile(f.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, err
	}
	return unmarshalSession(data)
}

// Save writes the file atomically (a temporary file, then a rename), so a
// killed process never leaves half a session.
func (f *FileStore) Save(_ context.Context, key string, s Session) error {
	data, err := s.marshal()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(f.Dir, ".session-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := errors.Join(tmp.Sync(), tmp.Close()); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), f.path(key))
}

func (f *FileStore) Delete(_ context.Context, key string) error {
	err := os.Remove(f.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
