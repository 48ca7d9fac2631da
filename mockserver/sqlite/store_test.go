package sqlite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func hash(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

// chain is one family whose tokens are named t0, t1, … by their jti.
type chain struct {
	db  *DB
	fam auth.Family
	n   int
}

var families int // names each test family; the tests in this file do not run in parallel

func newChain(t *testing.T, db *DB, sessionMax time.Duration) *chain {
	t.Helper()
	u, err := db.UserByName(t.Context(), "alice")
	if errors.Is(err, auth.ErrNotFound) {
		u, err = db.CreateUser(t.Context(), "alice", []byte("$2a$hash"), t0)
	}
	if err != nil {
		t.Fatal(err)
	}
	families++
	c := &chain{db: db, fam: auth.Family{ID: fmt.Sprintf("fam-%d", families), UserID: u.ID, Username: "alice",
		CreatedAt: t0, ExpiresAt: t0.Add(sessionMax)}}
	first := auth.RefreshToken{JTI: c.fam.ID + "-t0", FamilyID: c.fam.ID, Hash: hash(c.fam.ID + "-t0"), IssuedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := db.StartSession(t.Context(), c.fam, first, t0); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *chain) redeem(t *testing.T, jti string, now time.Time, grace time.Duration) (auth.Redeemed, error) {
	t.Helper()
	return c.db.Redeem(t.Context(), auth.RedeemRequest{JTI: jti, Now: now, Rotate: true, DetectReuse: true, Grace: grace,
		Mint: func(f auth.Family) (auth.RefreshToken, error) {
			c.n++
			j := fmt.Sprintf("%s-t%d", f.ID, c.n)
			return auth.RefreshToken{JTI: j, Hash: hash(j), IssuedAt: now, ExpiresAt: now.Add(time.Hour)}, nil
		}})
}

func TestRedeemOutcomes(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	t.Run("rotation, reuse and revocation", func(t *testing.T) {
		c := newChain(t, db, 24*time.Hour)
		first := c.fam.ID + "-t0"
		r, err := c.redeem(t, first, t0.Add(time.Minute), 0)
		if err != nil || r.Successor.ParentJTI != first || r.Old.UsedAt.IsZero() {
			t.Fatalf("first redeem: %+v %v", r, err)
		}
		if _, err := c.redeem(t, first, t0.Add(2*time.Minute), 0); !errors.Is(err, auth.ErrReused) {
			t.Fatalf("replay: %v, want ErrReused", err)
		}
		if _, err := c.redeem(t, r.Successor.JTI, t0.Add(3*time.Minute), 0); !errors.Is(err, auth.ErrRevoked) {
			t.Fatalf("successor after reuse: %v, want ErrRevoked", err)
		}
		f, err := db.Family(t.Context(), c.fam.ID)
		if err != nil || !f.Revoked() || f.RevokeReason != "reuse_detected" {
			t.Fatalf("family after reuse: %+v %v", f, err)
		}
	})
	t.Run("grace window", func(t *testing.T) {
		c := newChain(t, db, 24*time.Hour)
		first := c.fam.ID + "-t0"
		if _, err := c.redeem(t, first, t0, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		if r, err := c.redeem(t, first, t0.Add(10*time.Second), 10*time.Second); err != nil || !r.Grace {
			t.Fatalf("inside the window: %+v %v", r, err)
		}
		if _, err := c.redeem(t, first, t0.Add(11*time.Second), 10*time.Second); !errors.Is(err, auth.ErrReused) {
			t.Fatalf("past the window: %v", err)
		}
	})
	t.Run("expiry and session max", func(t *testing.T) {
		c := newChain(t, db, 30*time.Minute)
		first := c.fam.ID + "-t0"
		if _, err := c.redeem(t, first, t0.Add(30*time.Minute), 0); !errors.Is(err, auth.ErrSessionExpired) {
			t.Fatalf("at the session's end: %v", err)
		}
		c2 := newChain(t, db, 24*time.Hour)
		if _, err := c2.redeem(t, c2.fam.ID+"-t0", t0.Add(time.Hour), 0); !errors.Is(err, auth.ErrExpired) {
			t.Fatalf("at the token's end: %v", err)
		}
	})
	t.Run("an unknown jti is an unknown token", func(t *testing.T) {
		_, err := db.Redeem(t.Context(), auth.RedeemRequest{JTI: "never-issued", Now: t0, Rotate: true,
			Mint: func(auth.Family) (auth.RefreshToken, error) {
				t.Fatal("no successor for an unknown token")
				return auth.RefreshToken{}, nil
			}})
		if !errors.Is(err, auth.ErrNotFound) {
			t.Fatalf("unknown: %v", err)
		}
	})
}

func TestReopenKeepsDataAndMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	c := newChain(t, db, time.Hour)
	secret, err := db.SettingOrInit(t.Context(), "k", []byte("first"))
	if err != nil || !bytes.Equal(secret, []byte("first")) {
		t.Fatalf("setting: %q %v", secret, err)
	}
	db.Close()
	db, err = Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if again, _ := db.SettingOrInit(t.Context(), "k", []byte("second")); !bytes.Equal(again, []byte("first")) {
		t.Fatalf("a stored setting must survive: %q", again)
	}
	if _, err := db.Family(t.Context(), c.fam.ID); err != nil {
		t.Fatalf("family after reopen: %v", err)
	}
	if ok, err := db.IntegrityCheck(t.Context()); err != nil || ok != "ok" {
		t.Fatalf("integrity: %q %v", ok, err)
	}
	var n int
	files, _ := fs.Glob(migrations, "migrations/*.sql")
	if err := db.read.QueryRowContext(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(files) {
		t.Fatalf("migrations recorded: %d, want one per file (%d) %v", n, len(files), err)
	}
}

func TestMemoryDatabaseIsOneDatabase(t *testing.T) {
	db, err := Open(t.Context(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.CreateUser(t.Context(), "bob", []byte("h"), t0); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser(t.Context(), "bob", []byte("h"), t0); !errors.Is(err, auth.ErrUserExists) {
		t.Fatalf("second bob: %v", err)
	}
	if u, err := db.UserByName(t.Context(), "bob"); err != nil || u.Username != "bob" {
		t.Fatalf("read back: %+v %v", u, err)
	}
}

func TestDatabaseFileIsPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	newChain(t, db, time.Hour) // writes, so the WAL exists
	for _, p := range []string{path, path + "-wal"} {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if mode := info.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %o, want 600: it holds signing keys and password hashes", filepath.Base(p), mode)
		}
	}
}

// allSessions returns the first 100 sessions, newest first, each with up
// to 10 000 of its tokens: all of them, for the tests' small databases.
func allSessions(ctx context.Context, db *DB) ([]auth.PagedSession, error) {
	page, err := db.SessionsPage(ctx, auth.SessionQuery{Limit: 100, Tokens: 10000})
	return page.Sessions, err
}
