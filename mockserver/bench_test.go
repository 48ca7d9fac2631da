package mockserver

import (
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/auth"
	"github.com/tokenlab/tokenlab/mockserver/sqlite"
)

// benchAlgs are the algorithms the server signs with.
var benchAlgs = []string{"HS256", "RS256", "ES256", "EdDSA"}

// benchNow is the frozen instant the micro-benchmarks sign and verify at.
var benchNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// memSettings is an in-memory settingStore, so key loading needs no
// database in the signing benchmarks.
type memSettings map[string][]byte

func (m memSettings) SettingOrInit(_ context.Context, key string, value []byte) ([]byte, error) {
	if v, ok := m[key]; ok {
		return v, nil
	}
	m[key] = value
	return value, nil
}

// benchTokens returns the server's tokens type for alg on a frozen clock.
func benchTokens(tb testing.TB, alg string) *tokens {
	tb.Helper()
	db := memSettings{}
	access, err := loadSigner(tb.Context(), db, "access", alg, "")
	if err != nil {
		tb.Fatal(err)
	}
	refresh, err := loadSigner(tb.Context(), db, "refresh", alg, "")
	if err != nil {
		tb.Fatal(err)
	}
	return newTokens("http://127.0.0.1:8080", "tokenlab", access, refresh, func() time.Time { return benchNow })
}

var benchFamily = familyRef{id: "0123456789abcdef0123456789abcdef"}

// BenchmarkSign signs one access token per iteration.
func BenchmarkSign(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg, func(b *testing.B) {
			tk := benchTokens(b, alg)
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := tk.signAccess("1", "alice", benchFamily, benchNow, 15*time.Minute); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerify verifies one access token per iteration: the work of a
// request to a protected route, less HTTP.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg, func(b *testing.B) {
			tk := benchTokens(b, alg)
			raw, _, err := tk.signAccess("1", "alice", benchFamily, benchNow, 15*time.Minute)
			if err != nil {
				b.Fatal(err)
			}
			// First use: the signature and every claim are checked. Later
			// uses of the same token text hit the verified cache.
			for _, v := range []struct {
				name   string
				verify func(string) (*AccessClaims, error)
			}{{"first", tk.checkAccess}, {"again", tk.verifyAccess}} {
				b.Run(v.name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						c, err := v.verify(raw)
						if err != nil {
							b.Fatal(err)
						}
						if c.Username != "alice" {
							b.Fatalf("verified claims name %q, want alice", c.Username)
						}
					}
				})
			}
		})
	}
}

// BenchmarkRefreshTransaction is the store's side of a refresh with
// rotation: each iteration redeems the current token of one chain and
// stores its successor, in one write transaction on a SQLite file in WAL
// mode. The successor is minted cheaply (no JWT signing) so that the figure
// is the transaction's.
func BenchmarkRefreshTransaction(b *testing.B) {
	ctx := b.Context()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "tokenlab.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	u, err := db.CreateUser(ctx, "alice", []byte("not a real hash"), benchNow)
	if err != nil {
		b.Fatal(err)
	}
	fam := auth.Family{ID: "family-1", UserID: u.ID, Username: u.Username,
		CreatedAt: benchNow, ExpiresAt: benchNow.Add(30 * 24 * time.Hour)}
	seq := 0
	mint := func(auth.Family) (auth.RefreshToken, error) {
		seq++
		jti := "jti-" + strconv.Itoa(seq)
		sum := sha256.Sum256([]byte(jti))
		return auth.RefreshToken{JTI: jti, Hash: sum[:], IssuedAt: benchNow, ExpiresAt: benchNow.Add(7 * 24 * time.Hour)}, nil
	}
	cur, _ := mint(fam)
	if err := db.StartSession(ctx, fam, auth.RefreshToken{JTI: cur.JTI, FamilyID: fam.ID, Hash: cur.Hash,
		IssuedAt: cur.IssuedAt, ExpiresAt: cur.ExpiresAt}, benchNow); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		res, err := db.Redeem(ctx, auth.RedeemRequest{JTI: cur.JTI, Now: benchNow,
			Rotate: true, DetectReuse: true, Mint: mint})
		if err != nil {
			b.Fatal(err)
		}
		if res.Successor.JTI == "" || res.Successor.JTI == cur.JTI {
			b.Fatalf("redeem of %s gave no successor", cur.JTI)
		}
		cur = res.Successor
	}
}

// BenchmarkRefreshHTTP is one client refreshing with rotation, one request
// after another, through the real /token route on loopback. Allocations
// include the client's (it runs in the same process).
func BenchmarkRefreshHTTP(b *testing.B) {
	ts := newTestServer(b)
	_, refresh := ts.login(b)
	b.ReportAllocs()
	for b.Loop() {
		r := ts.do(b, http.MethodPost, "/token", tokenRequest{Token: refresh})
		if r.Status != http.StatusOK {
			b.Fatalf("refresh: %d %s", r.Status, r.Raw)
		}
		next := r.str("refreshToken")
		if next == "" || next == refresh {
			b.Fatalf("refresh did not rotate: %s", r.Raw)
		}
		refresh = next
	}
}

// BenchmarkProtectedHandler is the server's own work for one GET /protected
// with a cached token: every middleware and the handler, no network and no
// client (the access log goes to a text handler writing to io.Discard, as a
// server that logs requests would format them).
func BenchmarkProtectedHandler(b *testing.B) {
	ts := newTestServer(b, func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil)) })
	access, _ := ts.login(b)
	req := httptest.NewRequest(http.MethodGet, "/protected", nil)
	req.RemoteAddr = "127.0.0.1:54321"
	req.Header.Set("Authorization", "Bearer "+access)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		ts.Server.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
