package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Index lists which sessions exist and which one is current. It holds no
// token: it is a small non-secret file in the user's config dir, so
// commands like `tokenlab token` know where to look.
type Index struct {
	Current  string       `json:"current,omitempty"` // key of the current session
	Sessions []IndexEntry `json:"sessions"`

	path string
}

// IndexEntry names one session and where its tokens are kept.
type IndexEntry struct {
	Server   string `json:"server"`
	Profile  string `json:"profile"` // a built-in name or a profile file's path
	Username string `json:"user"`
	Store    string `json:"store"` // keyring, file or memory
	// The OAuth client settings used at login (never the secret), so later
	// commands refresh as the same client.
	ClientID  string   `json:"clientId,omitempty"`
	Scope     string   `json:"scope,omitempty"`
	Resources []string `json:"resources,omitempty"`
	// APIs are other origins allowed to receive the access token.
	APIs []string `json:"apis,omitempty"`
	// CrossOriginEndpoints accepts discovery with endpoints on another
	// origin than the issuer, as allowed at login.
	CrossOriginEndpoints bool `json:"crossOriginEndpoints,omitempty"`
}

// Key identifies the entry in the index (the profile as given, not its
// resolved name).
func (e IndexEntry) Key() string { return Key(e.Profile, e.Server, e.Username) }

// DefaultIndexPath is sessions.json in the user's config dir.
func DefaultIndexPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "tokenlab", "sessions.json"), nil
}

// LoadIndex reads the index at path; a missing file is an empty index.
func LoadIndex(path string) (*Index, error) {
	ix := &Index{path: path}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ix, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, ix); err != nil {
		return nil, fmt.Errorf("%s is damaged (%v); delete it and log in again", path, err)
	}
	return ix, nil
}

// Put adds or replaces an entry, and makes it current when asked.
func (ix *Index) Put(e IndexEntry, current bool) {
	ix.Remove(e.Key())
	ix.Sessions = append(ix.Sessions, e)
	if current {
		ix.Current = e.Key()
	}
}

// Remove drops the entry with that key.
func (ix *Index) Remove(key string) {
	kept := ix.Sessions[:0]
	for _, e := range ix.Sessions {
		if e.Key() != key {
			kept = append(kept, e)
		}
	}
	ix.Sessions = kept
	if ix.Current == key {
		ix.Current = ""
	}
}

// Find returns the session chosen by server and username: the current one
// when both are empty, else the newest entry that matches the given ones.
func (ix *Index) Find(server, username string) (IndexEntry, bool) {
	if server == "" && username == "" {
		for _, e := range ix.Sessions {
			if e.Key() == ix.Current {
				return e, true
			}
		}
	}
	for i := len(ix.Sessions) - 1; i >= 0; i-- {
		e := ix.Sessions[i]
		if (server == "" || e.Server == server) && (username == "" || e.Username == username) {
			return e, true
		}
	}
	return IndexEntry{}, false
}

// indexLockTimeout bounds the wait for another process's index update,
// which holds the lock only while it reads and writes one small file.
const indexLockTimeout = 10 * time.Second

// Update changes the index as one step among processes: under the lock
// file "index" in lockDir (the refresh locks' private folder), it reads
// the index again, applies change, and saves it, so two tokenlab
// processes that log in at once both keep their sessions. ix becomes the
// index as saved.
func (ix *Index) Update(ctx context.Context, lockDir string, change func(*Index)) error {
	ctx, cancel := context.WithTimeout(ctx, indexLockTimeout)
	defer cancel()
	unlock, err := lockIn(ctx, lockDir, "index", nil, "to write the session index")
	if err != nil {
		return err
	}
	defer unlock()
	fresh, err := LoadIndex(ix.path)
	if err != nil {
		return err
	}
	change(fresh)
	if err := fresh.write(); err != nil {
		return err
	}
	*ix = *fresh
	return nil
}

// write saves the index atomically, readable only by its owner: a new
// file of a random name in the same folder, created with O_EXCL (so a
// file or symlink planted there is never written through), then renamed
// over the index.
func (ix *Index) write() error {
	data, err := json.MarshalIndent(ix, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(ix.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(ix.path)+".*.tmp") // O_CREATE|O_EXCL, mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename, there is nothing left to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := errors.Join(tmp.Sync(), tmp.Close()); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), ix.path)
}
