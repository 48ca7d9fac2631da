package tui

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/scenarios"
)

// TestLoginScreen: the lab opens on the login screen, prefilled with the
// embedded server's demo user and the focus on the password, so enter
// logs in.
func TestLoginScreen(t *testing.T) {
	l := newLab(t)
	if l.m.screen != screenLogin {
		t.Fatalf("screen = %d, want the login screen", l.m.screen)
	}
	if l.m.login.active != fieldPassword {
		t.Errorf("focus on field %s, want password", fieldNames[l.m.login.active])
	}
	l.wantView("Embedded mock server at "+l.e.URL, "Demo user: alice / password password123",
		"› password", "•••••••••••", "alice", "tokenlab", "Tokens will be kept in: memory")
	for _, line := range strings.Split(l.view(), "\n") {
		if strings.HasPrefix(line, "› password") && !strings.Contains(line, "•••••••••••") || strings.Contains(line, "password  password123") {
			t.Errorf("the password field shows the password in clear: %q", line)
		}
	}
	// q types into the form instead of quitting; ctrl+c quits.
	l.key("q")
	if l.quit {
		t.Fatal("q quit from the login screen, where it is a letter of a password")
	}
	l.key("ctrl+c")
	if !l.quit {
		t.Fatal("ctrl+c did not quit")
	}
}

// TestDashboardWalk is the lab's story in one session: log in, call the
// API, expire the access token, watch the reactive refresh and rotation,
// let an attacker replay the spent refresh token, log in again, log out.
func TestDashboardWalk(t *testing.T) {
	l := newLab(t)
	l.login()

	t.Run("login shows two valid cards", func(t *testing.T) {
		l.wantCards(StateValid, StateValid)
		l.wantTimeline(0, "POST /login 200", "login")
		l.wantView("alice @ 127.0.0.1:", "clock Jan 02 09:00:00", "15m left", "7d left", "kept in memory", "Logged in.")
		if l.m.dash.session.RefreshToken == "" || l.m.dash.session.AccessToken == "" {
			t.Fatalf("no session after login: %+v", l.m.dash.session)
		}
	})

	t.Run("p calls the protected route", func(t *testing.T) {
		mark := len(l.m.dash.entries)
		l.key("p")
		l.wantTimeline(mark, "GET /protected 200")
		l.wantView("GET /protected 200", "/protected → 200.")
		if l.m.dash.busy != "" {
			t.Errorf("still busy: %q", l.m.dash.busy)
		}
		l.wantCards(StateValid, StateValid)
	})

	t.Run("f expires the access token", func(t *testing.T) {
		l.key("f")
		l.wantCards(StateExpired, StateValid)
		l.wantView("clock Jan 02 09:16:00", "clock +16m", "expired 1m ago", "The clock moved 16m forward.")
	})

	t.Run("p after expiry: 401, refresh, rotation, retried 200", func(t *testing.T) {
		before := l.m.dash.session
		mark := len(l.m.dash.entries)
		l.key("p")
		l.wantTimeline(mark, "GET /protected 401", "refresh", "POST /token 200", "rotation", "GET /protected 200")
		l.wantTimeline(mark, "access_rejected", "refresh", "rotation")
		l.wantCards(StateValid, StateRotated)
		if l.m.dash.session.RefreshToken == before.RefreshToken || l.m.dash.prevRefresh != before.RefreshToken {
			t.Errorf("the rotation was not noted: prevRefresh is not the old refresh token")
		}
		l.wantView("GET /protected 200", "15m left", "/protected → 200.")
	})

	t.Run("a: the attacker's replay revokes the family", func(t *testing.T) {
		mark := len(l.m.dash.entries)
		l.key("a")
		l.wantCards(StateValid, StateRevoked) // stateless: the access token lives on until exp
		l.wantTimeline(mark, "replay", "POST /token 401")
		l.wantTimeline(mark, "reuse_detected", "family_revoked")
		l.wantTimeline(mark, "session ended")
		l.wantSentence("Reuse detected", "log in")
		l.wantView("REVOKED", "family_revoked", "log in")
		l.key("p") // the access token in hand still works (stateless): the lab shows it
		l.wantSentence("The old access token → 200")
		l.key("r")
		l.wantSentence("No session", "log in")
	})

	t.Run("L logs in again", func(t *testing.T) {
		l.key("L")
		if l.m.screen != screenLogin {
			t.Fatalf("screen = %d after L, want login", l.m.screen)
		}
		l.key("esc") // no way back to a revoked dashboard
		if l.m.screen != screenLogin {
			t.Fatalf("esc left the login screen for a revoked session")
		}
		// The demo password is prefilled again, as at launch (issue 17,
		// point 10); typing it replaces the prefilled one.
		for _, r := range "password123" {
			l.key(string(r))
		}
		l.login()
		l.wantCards(StateValid, StateValid)
		if l.m.dash.prevRefresh != "" || l.m.dash.ended != endNone {
			t.Errorf("the new session inherits the old one's state: prev %t ended %t", l.m.dash.prevRefresh != "", l.m.dash.ended != endNone)
		}
	})

	t.Run("x logs out", func(t *testing.T) {
		key := l.m.dash.client.Key()
		mark := len(l.m.dash.entries)
		l.key("x")
		l.wantSentence("Logged out", "log in")
		l.wantCards(StateValid, StateRevoked)
		l.wantTimeline(mark, "POST /logout", "logout")
		if _, err := l.store.Load(t.Context(), key); !errors.Is(err, client.ErrNoSession) {
			t.Errorf("the store still answers %v after logout, want no session", err)
		}
		l.key("r")
		l.wantSentence("No session", "log in")
	})

	if l.quit {
		t.Error("the TUI quit during the walk")
	}
	l.key("q")
	if !l.quit {
		t.Error("q on the dashboard did not quit")
	}
}

// TestErrorsAreSentences: failures show as one sentence in the status
// line, the screen stays, and the program keeps running.
func TestErrorsAreSentences(t *testing.T) {
	t.Run("server stopped", func(t *testing.T) {
		l := newLab(t)
		l.login()
		l.stopServer()
		for _, k := range []string{"p", "r", "x"} {
			l.key(k)
			l.wantSentence("annot reach", "is the server running?")
			if l.m.screen != screenDashboard || l.m.dash.busy != "" {
				t.Errorf("after %s: screen %d, busy %q", k, l.m.screen, l.m.dash.busy)
			}
			l.wantView("annot reach")
		}
		// The client forgot the session even though the server could not
		// be told: the refresh card says it is over; the access token
		// still lives until its exp.
		l.wantCards(StateValid, StateRevoked)
	})

	t.Run("keyring locked at login", func(t *testing.T) {
		st := newSwitchStore()
		st.locked.Store(true)
		l := newLab(t, func(o *Options) { o.Store = st })
		l.key("enter")
		if l.m.screen != screenLogin {
			t.Fatalf("screen = %d, want to stay on the login screen", l.m.screen)
		}
		l.wantSentence("keyring is locked", "--token-store memory")
		l.wantView("keyring", "--token-store", "file.") // the whole sentence, wrapped
	})

	t.Run("keyring locked after login", func(t *testing.T) {
		st := newSwitchStore()
		l := newLab(t, func(o *Options) { o.Store = st })
		l.login()
		st.locked.Store(true)
		l.key("r")
		l.wantSentence("keyring is locked", "--token-store memory")
		l.wantView("keyring", "--token-store", "file.")
		if l.m.screen != screenDashboard {
			t.Errorf("screen = %d, want the dashboard", l.m.screen)
		}
	})

	t.Run("session revoked elsewhere", func(t *testing.T) {
		l := newLab(t)
		l.login()
		// Another device logs the same session out on the server.
		other := client.NewMemoryStore()
		c, err := client.New(l.e.URL, "alice", l.m.c.opts.Profile, other)
		if err != nil {
			t.Fatal(err)
		}
		if err := other.Save(t.Context(), c.Key(), l.m.dash.session); err != nil {
			t.Fatal(err)
		}
		if err := c.Logout(t.Context()); err != nil {
			t.Fatal(err)
		}
		l.key("r")
		l.wantSentence("The server revoked the session", "log in")
		l.wantCards(StateValid, StateRevoked) // no denylist: the access token lives on
		l.wantView("log in")
	})

	t.Run("wrong password", func(t *testing.T) {
		l := newLab(t, func(o *Options) { o.Password = "not-the-password" })
		l.key("enter")
		if l.m.screen != screenLogin {
			t.Fatalf("screen = %d, want to stay on the login screen", l.m.screen)
		}
		l.wantSentence("401")
		l.wantTimeline(0, "login_failed")
	})

	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		l := newLab(t)
		l.m.c.ctx = ctx
		l.login()
		cancel()
		l.key("p")
		l.wantSentence("Cancelled")
	})
}

// TestInspector shows both tokens' header and claims, explained.
func TestInspector(t *testing.T) {
	l := newLab(t)
	l.login()
	l.key("i")
	if l.m.screen != screenInspector {
		t.Fatalf("screen = %d after i, want the inspector", l.m.screen)
	}
	l.wantView("Token inspector · access token", "Payload (claims)", "sub", "username", "alice",
		"exp", "2030-01-02 09:15:00 UTC (expires in 15m)")
	in := ansi.Strip(l.m.insp.inspect())
	for _, want := range []string{"Header", "alg", "HS256", "typ", "at+jwt", "signing algorithm"} {
		if !strings.Contains(in, want) {
			t.Errorf("the inspector lacks %q:\n%s", want, in)
		}
	}
	l.key("tab")
	l.wantView("Token inspector · refresh token", "2030-01-09 09:00:00 UTC (expires in 7d)")
	l.wantInspection("rt+jwt")
	for range 40 { // scroll to the end: the family and the signature's explanation
		l.key("down")
	}
	l.wantView("Encoded", "header.payload.signature")
	if in := ansi.Strip(l.m.insp.inspect()); !strings.Contains(in, "fid") || !strings.Contains(in, "checked by the server") {
		t.Errorf("the refresh token's inspection lacks its family or its signature note:\n%s", in)
	}
	l.key("tab")
	l.wantView("access token", "Payload (claims)")
	l.key("esc")
	if l.m.screen != screenDashboard {
		t.Fatalf("esc from the inspector: screen %d, want the dashboard", l.m.screen)
	}
	l.key("i", "i")
	if l.m.screen != screenDashboard {
		t.Fatalf("i toggles the inspector: screen %d, want the dashboard", l.m.screen)
	}
}

// TestHelpScreen lists every screen's keys and every card state (issue 9,
// point 7), in lines that fit 60 columns, scrolled when the window is short.
func TestHelpScreen(t *testing.T) {
	l := newLab(t)
	l.send(tea.WindowSizeMsg{Width: 60, Height: 20})
	l.login()
	l.key("?")
	if l.m.screen != screenHelp {
		t.Fatalf("screen = %d after ?, want help", l.m.screen)
	}
	content := ansi.Strip(l.m.help.content())
	for _, sec := range newKeyMap().allKeys() {
		if !strings.Contains(content, sec.title) {
			t.Errorf("help lacks the %s section", sec.title)
		}
		for _, b := range sec.keys {
			want := b.Help().Key
			if !strings.Contains(content, want) || !strings.Contains(flat(content), flat(b.Help().Desc)) {
				t.Errorf("help lacks %s's key %q %q", sec.title, want, b.Help().Desc)
			}
		}
	}
	for _, want := range []string{"Card states", StateValid, StateExpiring, StateExpired, StateRotated, StateRevoked,
		"ctrl+c", "n/space", "run to the end", "the other token", "tokens age as if that time had passed."} {
		if !strings.Contains(content, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	for i, line := range strings.Split(content, "\n") {
		if w := lipgloss.Width(line); w > 60 {
			t.Errorf("help line %d is %d wide at 60 columns: %q", i+1, w, line)
		}
	}
	// The card-state descriptions start in one column.
	col := -1
	for _, line := range strings.Split(content, "\n") {
		for _, st := range helpStates {
			if strings.HasPrefix(strings.TrimSpace(line), st[0]) {
				c := strings.Index(line, st[1][:10])
				if col >= 0 && c != col {
					t.Errorf("card-state descriptions do not line up: %q at %d, want %d", line, c, col)
				}
				col = c
			}
		}
	}
	l.wantFits("help at 60x20")
	l.wantView("esc back")
	for range 160 {
		l.key("down")
	}
	l.wantView("at+jwt, rt+jwt") // the glossary's last word: the end is reachable
	l.key("?")
	if l.m.screen != screenDashboard {
		t.Fatalf("? again: screen %d, want the dashboard", l.m.screen)
	}
}

// TestPlayer picks reuse-detection, steps once, runs it to the end and
// goes back, without touching the dashboard's session.
func TestPlayer(t *testing.T) {
	sc, err := scenarios.Builtin("reuse-detection")
	if err != nil {
		t.Fatal(err)
	}
	l := newLab(t)
	l.login()
	session := l.m.dash.session
	l.key("s")
	if l.m.screen != screenPlayer {
		t.Fatalf("screen = %d after s, want the player", l.m.screen)
	}
	// Every built-in is listed; the list scrolls with the cursor.
	for i, name := range scenarios.BuiltinNames {
		l.wantView("› " + name)
		if i < len(scenarios.BuiltinNames)-1 {
			l.key("down")
		}
	}
	for range scenarios.BuiltinNames {
		l.key("up")
	}
	l.wantView("› basic-login")
	l.key("down", "down", "down")
	l.wantView("› reuse-detection")
	l.key("enter")
	if l.m.player.play == nil {
		t.Fatalf("no play started; status %q", l.m.statusText())
	}
	l.wantView("reuse-detection", "A refresh token is copied by an attacker", "Press n or space")
	l.key("v") // the steps as text
	l.wantView("·  1 login")
	l.key("n")
	l.wantView("✓  1 log in as alice → 200", sc.Steps[0].Say, "·  2 save")
	l.key("space")
	l.wantView("✓  2 save")
	l.key("R")
	for !l.m.player.play.Done() { // R pauses at each step: the pause's end, sent by hand
		l.send(stagePauseMsg{play: l.m.player.play})
	}
	if !l.m.player.play.Done() || len(l.m.player.results) != len(sc.Steps) {
		t.Fatalf("after R: %d of %d steps", len(l.m.player.results), len(sc.Steps))
	}
	l.wantSentence("All 7 steps passed")
	if len(sc.Steps) != 7 {
		t.Errorf("reuse-detection has %d steps; the end-to-end test expects 7", len(sc.Steps))
	}
	l.wantView("✓  7 GET /protected → 200", "All 7 steps passed")
	l.key("esc")
	if l.m.player.play != nil {
		t.Fatal("esc did not close the play")
	}
	l.wantView("› reuse-detection")
	l.key("esc")
	if l.m.screen != screenDashboard {
		t.Fatalf("esc from the list: screen %d, want the dashboard", l.m.screen)
	}
	if !reflect.DeepEqual(l.m.dash.session, session) {
		t.Error("the scenario changed the dashboard's session")
	}
	l.wantCards(StateValid, StateValid)
}
