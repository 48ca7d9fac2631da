//go:build unix

package client

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLockDirMustBePrivate: the temp-dir fallback has a predictable name,
// so another local user can create it first; a lock folder that others
// can write, or a symlink to one, is refused before anything is written.
func TestLockDirMustBePrivate(t *testing.T) {
	shared := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(shared, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777); err != nil { // as another user would leave it in /tmp
		t.Fatal(err)
	}
	private := filepath.Join(t.TempDir(), "private")
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(private, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, dir, wantErr string
	}{
		{"writable by others", shared, "may be written by other users"},
		{"a symlink", link, "is a symlink"},
		{"private", private, ""},
		{"made by the client", filepath.Join(t.TempDir(), "new", "locks"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New("http://127.0.0.1:1", "alice", BuiltinProfiles()["tokenlab"], NewMemoryStore(), WithLockDir(tc.dir))
			if err != nil {
				t.Fatal(err)
			}
			unlock, err := c.lock(t.Context())
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("lock: %v", err)
				}
				unlock()
				return
			}
			if err == nil {
				unlock()
				t.Fatalf("the lock folder was used; want %q", tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if entries, _ := os.ReadDir(tc.dir); len(entries) != 0 {
				t.Errorf("files were written in the refused folder: %v", entries)
			}
		})
	}
}

// TestLockPIDFileDoesNotFollowSymlinks: a symlink planted where the PID
// file goes is not written through.
func TestLockPIDFileDoesNotFollowSymlinks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "locks")
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := New("http://127.0.0.1:1", "alice", BuiltinProfiles()["tokenlab"], NewMemoryStore(), WithLockDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := c.lock(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	pids, _ := filepath.Glob(filepath.Join(dir, "*.pid"))
	if len(pids) != 1 {
		t.Fatalf("PID files = %v, want one", pids)
	}
	if err := os.Remove(pids[0]); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, pids[0]); err != nil {
		t.Fatal(err)
	}
	unlock, err = c.lock(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	if b, _ := os.ReadFile(victim); string(b) != "keep me" {
		t.Fatalf("the PID write followed a planted symlink and overwrote %s with %q", victim, b)
	}
}
