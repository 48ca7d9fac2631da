package client

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
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
	ix.Put(a, false)
	ix.Put(b, true)
	ix.Put(a, false) // replaced, not doubled
	if err := ix.Save(); err != nil {
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
