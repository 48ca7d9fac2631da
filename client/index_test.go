package client

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestIndexRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cfg", "sessions.json")
	ix, err := LoadIndex(path)
	if err != nil || len(ix.Sessions) != 0 {
		t.Fatalf("a missing index is empty: %v %+v", err, ix)
	}
	a := IndexEntry{Server: "http://a", Profile: "tokenlab", Username: "alice", Store: StoreKeyring}
	b := IndexEntry{Server: "http://b", Profile: "oauth2", Username: "bob", Store: StoreFile, ClientID: "cli", Scope: "read"}
	err = ix.Update(t.Context(), filepath.Join(t.TempDir(), "locks"), func(ix *Index) {
		ix.Put(a, false)
		ix.Put(b, true)
		ix.Put(a, false) // replaced, not doubled
	})
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("index file mode: %v %v", info, err)
	}
	again, err := LoadIndex(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Sessions) != 2 {
		t.Fatalf("sessions: %+v", again.Sessions)
	}
	if cur, ok := again.Find("", ""); !ok || !reflect.DeepEqual(cur, b) {
		t.Fatalf("current = %+v, want %+v", cur, b)
	}
	if got, ok := again.Find("http://a", ""); !ok || !reflect.DeepEqual(got, a) {
		t.Fatalf("Find by server = %+v", got)
	}
	if _, ok := again.Find("http://c", ""); ok {
		t.Fatal("Find must not match another server")
	}
	again.Remove(b.Key())
	if _, ok := again.Find("", ""); ok && again.Current != "" {
		t.Fatal("removing the current session must clear current")
	}
	os.WriteFile(path, []byte("{not json"), 0o600)
	if _, err := LoadIndex(path); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("a damaged index must say so: %v", err)
	}
}

// TestIndexWriteIgnoresPlantedTemp: a symlink planted at the old fixed
// temp name (sessions.json.tmp) is neither followed nor used: the index
// goes through a new file of a random name.
func TestIndexWriteIgnoresPlantedTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sessions.json")
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, path+".tmp"); err != nil {
		t.Fatal(err)
	}
	ix, _ := LoadIndex(path)
	err := ix.Update(t.Context(), filepath.Join(dir, "locks"), func(ix *Index) {
		ix.Put(IndexEntry{Server: "http://a", Profile: "tokenlab", Username: "alice", Store: StoreFile}, true)
	})
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "keep me" {
		t.Fatalf("the symlink's target was written: %q", data)
	}
	if info, err := os.Lstat(path); err != nil || !info.Mode().IsRegular() {
		t.Fatalf("the index is not a regular file: %v %v", info, err)
	}
	if again, err := LoadIndex(path); err != nil || len(again.Sessions) != 1 {
		t.Fatalf("index after the write: %+v %v", again, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".sessions.json.") {
			t.Errorf("a temp file was left behind: %s", e.Name())
		}
	}
}

// TestIndexConcurrentUpdates: writers that each hold their own copy of
// the index, as separate processes do, all keep their entry: each update
// reads the index again under the lock.
func TestIndexConcurrentUpdates(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sessions.json")
	locks := filepath.Join(dir, "locks")
	const n = 20
	var copies []*Index
	for range n {
		ix, err := LoadIndex(path) // all read the empty index first
		if err != nil {
			t.Fatal(err)
		}
		copies = append(copies, ix)
	}
	var wg sync.WaitGroup
	for i, ix := range copies {
		wg.Go(func() {
			err := ix.Update(t.Context(), locks, func(ix *Index) {
				ix.Put(IndexEntry{Server: "http://s", Profile: "tokenlab", Username: fmt.Sprintf("user%d", i), Store: StoreFile}, true)
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	final, err := LoadIndex(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(final.Sessions) != n {
		t.Errorf("the index holds %d sessions, want all %d writers'", len(final.Sessions), n)
	}
}
