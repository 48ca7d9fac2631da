package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 19: --db postgres://user:secret@… made a SQLite file named after
// the URL and printed the password in the banner. A URL is refused, and
// never echoed.
func TestServeRefusesADatabaseURL(t *testing.T) {
	dir := t.TempDir()
	const dsn = "postgres://qa:s3cret-db-password@127.0.0.1:5432/tokenlab"
	code, stdout, stderr := runServe(t, serveSpec{dir: dir}, "--db", dsn)
	if code != exitUsage || strings.Contains(stdout+stderr, "s3cret-db-password") || !strings.Contains(stderr, "postgres:// URLs are not supported yet") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("serve left %v in its folder", entries)
	}
	if _, err := os.Stat(filepath.Join(dir, "postgres:")); err == nil {
		t.Error("a folder named after the URL was created")
	}
}
