package tui

import (
	"context"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/tokenlab/tokenlab/client"
)

// TestWatchAClient (issue 15, point 6): against a tokenlab server with an
// admin token, --watch CLIENT shows that client's families and server
// events as the server holds them, live on each tick, and the clock keys
// move the server's clock. Another client's sessions stay out.
func TestWatchAClient(t *testing.T) {
	e, err := startTestServer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	if err := e.Clock.Set(labStart); err != nil {
		t.Fatal(err)
	}
	admin := newAdminAPI(e.URL, e.AdminToken)
	profile, _ := client.ResolveProfile("tokenlab")
	l := &lab{tb: t, e: e}
	l.m = New(t.Context(), Options{Server: e.URL, AdminToken: e.AdminToken, Watch: "tokenlab", Profile: profile,
		Store: client.NewMemoryStore(), Location: time.UTC})
	l.run(l.m.Init())
	l.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	if l.m.screen != screenWatch {
		t.Fatalf("--watch opened screen %d, want the watch screen", l.m.screen)
	}
	l.wantView("watching client tokenlab", "None yet", "No events of this client yet.")

	// The app: an OAuth client "tokenlab" that logs in, refreshes, and has its old refresh token replayed.
	oauth, _ := client.ResolveProfile("oauth2")
	oauth.OAuth.ClientID = "tokenlab"
	app, err := client.New(e.URL, "alice", oauth, client.NewMemoryStore(), client.WithClock(e.Clock))
	if err != nil {
		t.Fatal(err)
	}
	first, err := app.Login(t.Context(), "password123")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	app.Replay(t.Context(), first.RefreshToken) // a spent token comes back: reuse detected
	// Another client's login (the tokenlab dialect's) is not this client's.
	other, _ := client.New(e.URL, "alice", profile, client.NewMemoryStore(), client.WithClock(e.Clock))
	if _, err := other.Login(t.Context(), "password123"); err != nil {
		t.Fatal(err)
	}

	l.send(tickMsg{now: labStart}) // live: the next tick reads what happened
	fam, err := admin.family(t.Context(), familyOf(first.RefreshToken))
	if err != nil {
		t.Fatal(err)
	}
	if fam.ClientID != "tokenlab" || fam.State != "revoked" {
		t.Fatalf("the server says the family is %s, of client %q", fam.State, fam.ClientID)
	}
	l.wantView("family "+short(fam.ID)+" alice · 2 tokens · revoked (reuse_detected)",
		"server   reuse_detected", "server   family_revoked", "server   rotation")
	if len(l.m.watch.families) != 1 {
		t.Errorf("the watch shows %d families; the client has 1 (the other login is another client's)", len(l.m.watch.families))
	}
	logins := 0
	for _, en := range l.m.watch.entries {
		if en.What == "login" {
			logins++
		}
	}
	if logins != 1 {
		t.Errorf("the watch's timeline holds %d logins; the client logged in once (the other login is another client's)", logins)
	}
	compareGolden(t, "watch-80x24.golden", masked(l.view()))

	// The clock keys move the server's clock.
	l.key("f")
	var clock clockAnswer
	if err := admin.get(t.Context(), "/admin/clock", &clock); err != nil {
		t.Fatal(err)
	}
	if !clock.Now.Equal(labStart.Add(moveAccess)) {
		t.Errorf("after f the server's clock reads %s, want %s", clock.Now, labStart.Add(moveAccess))
	}
	l.wantView("clock Jan 02 09:16:00 UTC", "The server's clock moved 16m forward")
	l.wantFits("watch")
}
