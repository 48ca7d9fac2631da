package mockserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// /admin/sessions answers a bounded page however many sessions and
// rotations there are, pages by cursor without gaps or repeats, and
// filters by user and family.
func TestAdminSessionsPaged(t *testing.T) {
	ts := newTestServer(t, func(c *Config) {
		c.Users = append(c.Users, Credentials{Username: "bob", Password: "password456"})
	})
	ctx := t.Context()
	alice, err := ts.DB.UserByName(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	const many = 260
	now := ts.Clock.Now()
	for i := range many {
		f := auth.Family{ID: fmt.Sprintf("fam-%04d", i), UserID: alice.ID, Username: "alice",
			CreatedAt: now.Add(time.Duration(i%7) * time.Second), ExpiresAt: now.Add(time.Hour)}
		tok := auth.RefreshToken{JTI: fmt.Sprintf("jti-%04d", i), FamilyID: f.ID, Hash: []byte{1}, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := ts.DB.StartSession(ctx, f, tok, now); err != nil {
			t.Fatal(err)
		}
	}
	// One long chain: bob rotates 150 times.
	r := ts.do(t, http.MethodPost, "/login", map[string]string{"username": "bob", "password": "password456"})
	refresh := r.str("refreshToken")
	for range 150 {
		r = ts.do(t, http.MethodPost, "/token", map[string]string{"token": refresh})
		if r.Status != http.StatusOK {
			t.Fatalf("refresh: %d %s", r.Status, r.Raw)
		}
		refresh = r.str("refreshToken")
	}
	bobFamily := claimsFID(t, ts, refresh)

	type page struct {
		Sessions []sessionView `json:"sessions"`
		Next     string        `json:"next"`
	}
	get := func(query string) (page, int) {
		t.Helper()
		r := ts.admin(t, http.MethodGet, "/admin/sessions"+query, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("/admin/sessions%s: %d %s", query, r.Status, r.Raw)
		}
		var p page
		decodeInto(t, r.Raw, &p)
		return p, len(r.Raw)
	}

	first, size := get("")
	if len(first.Sessions) != sessionsDefaultLimit || first.Next == "" {
		t.Fatalf("first page: %d sessions, next %q; want %d and a cursor", len(first.Sessions), first.Next, sessionsDefaultLimit)
	}
	t.Logf("default page: %d bytes for %d sessions", size, len(first.Sessions))

	seen := map[string]bool{}
	pages, next := 0, ""
	for {
		p, _ := get("?limit=64&after=" + url.QueryEscape(next))
		pages++
		for _, s := range p.Sessions {
			if seen[s.ID] {
				t.Fatalf("session %s appears on two pages", s.ID)
			}
			seen[s.ID] = true
		}
		if p.Next == "" {
			break
		}
		next = p.Next
		if pages > 20 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != many+1 {
		t.Errorf("paging saw %d sessions, want %d", len(seen), many+1)
	}

	bob, _ := get("?user=bob")
	if len(bob.Sessions) != 1 || bob.Sessions[0].ID != bobFamily || bob.Next != "" {
		t.Fatalf("?user=bob: %+v", bob)
	}
	chain := bob.Sessions[0]
	if chain.TokenCount != 151 || len(chain.Tokens) != tokensDefaultLimit || chain.Tokens[0].ParentJTI == "" {
		t.Errorf("bob's chain: tokenCount %d, %d tokens listed; want 151 and %d, newest first with parentJti",
			chain.TokenCount, len(chain.Tokens), tokensDefaultLimit)
	}
	one, _ := get("?family=fam-0007&tokens=0")
	if len(one.Sessions) != 1 || one.Sessions[0].ID != "fam-0007" || len(one.Sessions[0].Tokens) != 0 || one.Sessions[0].TokenCount != 1 {
		t.Errorf("?family=fam-0007&tokens=0: %+v", one)
	}
	for _, bad := range []string{"?limit=501", "?limit=0", "?after=nonsense", "?tokens=1001"} {
		if r := ts.admin(t, http.MethodGet, "/admin/sessions"+bad, nil); r.Status != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", bad, r.Status, r.Raw)
		}
	}
}

func claimsFID(t *testing.T, ts *testServer, refresh string) string {
	t.Helper()
	c, err := ts.tokens().verifyRefresh(refresh)
	var te *Error
	if err != nil && !(errors.As(err, &te) && te.Code == codeTokenExpired) {
		t.Fatal(err)
	}
	return c.FamilyID
}

func decodeInto(t *testing.T, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
}
