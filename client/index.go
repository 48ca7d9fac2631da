package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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

// Save writes the index atomically, readable only by its owner.
func (ix *Index) Save() error {
	data, err := json.MarshalIndent(ix, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(ix.path), 0o700); err != nil {
		return err
	}
	tmp := ix.path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, ix.path)
}
