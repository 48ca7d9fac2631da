package tui

import (
	"fmt"
	"image/color"
	"math"
	"net/http"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/tokenlab/tokenlab/mockserver"
)

// TestLoginTypingOnPrefocusedField (issue 9, point 3): the field focused
// at launch takes keys at once, without Tab first; the footer says what
// enter does; after L the password is prefilled only as at launch (here
// with none, so the field is empty).
func TestLoginTypingOnPrefocusedField(t *testing.T) {
	l := newLab(t, func(o *Options) { o.Password = "" })
	if l.m.login.active != fieldPassword {
		t.Fatalf("focus on %s, want password", fieldNames[l.m.login.active])
	}
	for _, r := range "password123" {
		l.key(string(r))
	}
	if got := l.m.login.inputs[fieldPassword].Value(); got != "password123" {
		t.Fatalf("typing on the pre-focused password field gave %q, want password123", got)
	}
	l.wantView("enter log in")
	l.login()
	l.key("L")
	if got := l.m.login.inputs[fieldPassword].Value(); got != "" {
		t.Errorf("after L the password field holds %q, want it empty", got)
	}
	if strings.Contains(l.view(), "enter select") {
		t.Errorf("the login footer still says enter select:\n%s", l.view())
	}
}

// TestSecondLaunchShowsOnlyItsOwnEvents (issue 9, point 2): the server's
// database persists between launches and its clock restarts; a launch's
// timeline holds only the events of that launch.
func TestSecondLaunchShowsOnlyItsOwnEvents(t *testing.T) {
	first := newLab(t)
	first.login()
	first.key("f", "p", "w") // a refresh, a rotation, and the clock moved 8 days ahead
	second := newLabOn(t, first.e)
	second.login()
	second.key("p")
	tl := second.timelineText()
	if n := strings.Count(tl, "server login"); n != 1 {
		t.Errorf("the second launch's timeline shows %d server logins, want its own one:\n%s", n, tl)
	}
	for _, old := range []string{"clock_moved", "rotation", "access_rejected"} {
		if strings.Contains(tl, old) {
			t.Errorf("the second launch's timeline shows the first launch's %s:\n%s", old, tl)
		}
	}
	if !strings.Contains(tl, "GET /protected 200") {
		t.Errorf("the second launch's own call is missing:\n%s", tl)
	}
}

// protectedStatus sends tok to the embedded server's /protected, as an
// attacker or a forgetful client would, and returns the status.
func protectedStatus(t *testing.T, server, tok string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, server+"/protected", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// setDenylist switches the server's access denylist through the admin API.
func setDenylist(t *testing.T, e *mockserver.Embedded, on bool) {
	t.Helper()
	body := strings.NewReader(fmt.Sprintf(`{"accessDenylist": %t}`, on))
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPut, e.URL+"/admin/settings", body)
	req.Header.Set("Authorization", "Bearer "+e.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT /admin/settings answered %d", resp.StatusCode)
	}
}

// TestAccessCardAfterLogoutTellsTheTruth (issue 9, point 1): after x the
// access card says what the server will really do with the old access
// token, and the real server's answer to it agrees.
func TestAccessCardAfterLogoutTellsTheTruth(t *testing.T) {
	for _, tc := range []struct {
		name     string
		denylist bool
		card     string // the access card's state after logout
		says     string // in the timeline
		onCard   string // on the card, which is narrower
		status   int
	}{
		{"stateless", false, StateValid, "still accepted until exp (stateless)", "still accepted until exp", http.StatusOK},
		{"denylist", true, StateRevoked, "refused (denylist)", "refused (denylist)", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t)
			setDenylist(t, l.e, tc.denylist)
			l.login()
			stolen := l.m.dash.session.AccessToken
			l.key("x")
			l.wantCards(tc.card, StateRevoked)
			if strings.Contains(l.view(), "7d left") {
				t.Errorf("the revoked refresh card still counts down:\n%s", l.view())
			}
			l.wantView(tc.onCard)
			if !strings.Contains(l.timelineText(), tc.says) {
				t.Errorf("the timeline does not say why (%q):\n%s", tc.says, l.timelineText())
			}
			if got := protectedStatus(t, l.e.URL, stolen); got != tc.status {
				t.Errorf("the card says %q, but the server answered %d to the pre-logout access token", tc.says, got)
			}
		})
	}
}

// TestExpiredRefreshIsNotRevoked (issue 9, point 1): a refresh token that
// ran out is EXPIRED, and the words say it expired, not that it was revoked.
func TestExpiredRefreshIsNotRevoked(t *testing.T) {
	l := newLab(t)
	l.login()
	l.key("w", "p") // 8 days: both tokens are past exp; the refresh is refused
	l.wantCards(StateExpired, StateExpired)
	l.wantSentence("expired", "log in")
	if strings.Contains(l.m.statusText(), "ended the session") || strings.Contains(l.m.statusText(), "revoked") {
		t.Errorf("the status mixes expiry with revocation: %q", l.m.statusText())
	}
}

// TestResizeRewrapsTimeline (issue 9, point 5): the timeline re-lays out
// when the window changes, without waiting for the next event.
func TestResizeRewrapsTimeline(t *testing.T) {
	const why = "The access token was valid, so the API answered."
	l := newLab(t)
	l.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	l.login()
	l.key("p")
	l.wantView(why)
	l.send(tea.WindowSizeMsg{Width: 60, Height: 20})
	l.wantView("so the API", "answered.") // wrapped, not cut
	l.wantFits("after shrinking")
	l.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	l.wantView(why) // one line again, not a narrow strip
}

// TestNarrowKeepsWhatMatters (issue 9, point 8): at 60 columns the
// expiry, the header clock and the way to help and out stay whole.
func TestNarrowKeepsWhatMatters(t *testing.T) {
	l := newLab(t)
	l.send(tea.WindowSizeMsg{Width: 60, Height: 20})
	l.login()
	l.key("d") // a day on: the expiries carry a date
	l.wantView("clock Jan 03 09:00:00", "expires Jan 09 09:00", "? keys & words • q quit")
	l.wantFits("60x20 after d")
}

// TestTimelineShowsTheDate (issue 9, point 8): when the day changes the
// timeline says so, so +1d and +8d do not read as seconds apart.
func TestTimelineShowsTheDate(t *testing.T) {
	l := newLab(t)
	l.login()
	l.key("d", "w")
	tl := l.m.dash.timeline.GetContent()
	for _, day := range []string{"Wed Jan 02 2030", "Thu Jan 03 2030", "Fri Jan 11 2030"} {
		if !strings.Contains(ansi.Strip(tl), day) {
			t.Errorf("the timeline does not name the day %s:\n%s", day, ansi.Strip(tl))
		}
	}
}

// contrast is the WCAG 2 contrast ratio of two colours.
func contrast(a, b color.Color) float64 {
	lum := func(c color.Color) float64 {
		r, g, bl, _ := c.RGBA()
		lin := func(v uint32) float64 {
			s := float64(v) / 0xFFFF
			if s <= 0.03928 {
				return s / 12.92
			}
			return math.Pow((s+0.055)/1.055, 2.4)
		}
		return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(bl)
	}
	la, lb := lum(a), lum(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// Terminal backgrounds the styles must read on.
var (
	darkBackground  = lipgloss.Color("#1E1E1E")
	lightBackground = lipgloss.Color("#FAFAFA")
)

// TestBadgeAndFooterContrast (issue 9, point 8): every badge's text on
// its colour and the footer's keys on the terminal reach WCAG AA (4.5:1),
// on a dark and on a light terminal; EXPIRED and REVOKED differ.
func TestBadgeAndFooterContrast(t *testing.T) {
	for _, dark := range []bool{true, false} {
		s := NewStyles(dark, false)
		bg := map[bool]color.Color{true: darkBackground, false: lightBackground}[dark]
		for _, state := range []string{StateValid, StateExpiring, StateExpired, StateRotated, StateRevoked, StateNone} {
			st := s.badges[state]
			if c := contrast(st.GetForeground(), st.GetBackground()); c < 4.5 {
				t.Errorf("dark=%t: badge %s has contrast %.2f, want at least 4.5", dark, state, c)
			}
		}
		h := s.Help
		for name, st := range map[string]lipgloss.Style{"key": h.ShortKey, "description": h.ShortDesc, "separator": h.ShortSeparator,
			"full key": h.FullKey, "full description": h.FullDesc} {
			if c := contrast(st.GetForeground(), bg); c < 4.5 {
				t.Errorf("dark=%t: the footer's %s has contrast %.2f on the terminal, want at least 4.5", dark, name, c)
			}
		}
		if s.badges[StateExpired].GetBackground() == s.badges[StateRevoked].GetBackground() {
			t.Errorf("dark=%t: EXPIRED and REVOKED have the same colour", dark)
		}
	}
}

// flat is the screen's text with its line breaks and runs of spaces
// folded, so wrapped sentences can be searched whole.
func flat(view string) string { return strings.Join(strings.Fields(view), " ") }

// TestPlayerNarrationWraps (issue 9, point 4): the player shows each
// step's narration whole, wrapped, and says which token a step sent.
func TestPlayerNarrationWraps(t *testing.T) {
	l := newLab(t)
	l.login()
	l.key("s")
	for l.m.player.list[l.m.player.cursor].Name != "reuse-detection" {
		l.key("down")
	}
	l.key("enter", "v", "n", "n", "n", "n") // the text view
	view := flat(l.view())
	for _, say := range []string{
		"The attacker tries the copy. The server sees a spent token come back and revokes the whole family.",
		"Alice's app refreshes normally; the copied token is now spent.",
	} {
		if !strings.Contains(view, say) {
			t.Errorf("the player cuts the narration %q:\n%s", say, l.view())
		}
	}
	if !strings.Contains(view, "sent the refresh token") {
		t.Errorf("the step lines do not say which token was sent:\n%s", l.view())
	}
	l.wantFits("player")
}

// TestWhoDidWhat (issue 9, point 6): the attacker's requests are the
// attacker's, each refresh names its true cause, and the timeline says
// the attacker's access token lives on.
func TestWhoDidWhat(t *testing.T) {
	l := newLab(t)
	l.login()
	mark := len(l.m.dash.entries)
	l.key("r")
	l.wantSaid(mark, "Refreshing because you pressed r")
	mark = len(l.m.dash.entries)
	l.key("f", "p")
	l.wantSaid(mark, "Refreshing because the API answered 401")
	mark = len(l.m.dash.entries)
	l.key("a")
	attackerLine := false
	for _, e := range l.m.dash.entries[mark:] {
		if e.Source == "attacker" && strings.Contains(e.What, "POST /token") {
			attackerLine = true
		}
		if e.Source == "client" && strings.Contains(e.What, "POST /token 401") && !attackerLine {
			t.Errorf("the attacker's replay is labelled client: %+v", e)
		}
		if strings.Contains(e.Why, "a refresh was asked for") {
			t.Errorf("a refresh gives no true cause: %q", e.Why)
		}
	}
	if !attackerLine {
		t.Errorf("no timeline line is the attacker's:\n%s", l.timelineText())
	}
	l.wantSaid(mark, "keeps working until it expires")
}

// wantSaid fails unless an entry after mark says want.
func (l *lab) wantSaid(mark int, want string) {
	l.tb.Helper()
	for _, e := range l.m.dash.entries[mark:] {
		if strings.Contains(e.Why, want) {
			return
		}
	}
	l.tb.Errorf("no timeline entry after %d says %q:\n%s", mark, want, l.timelineText())
}

// TestSmallerPoints (issue 9, point 9).
func TestSmallerPoints(t *testing.T) {
	l := newLab(t)
	l.login()
	t.Run("login and logout are not the token endpoint", func(t *testing.T) {
		mark := len(l.m.dash.entries)
		l.key("x")
		for _, e := range l.m.dash.entries {
			if strings.Contains(e.What, "/login") || strings.Contains(e.What, "/logout") {
				if strings.Contains(e.Why, "token endpoint") {
					t.Errorf("%s is narrated as the token endpoint: %q", e.What, e.Why)
				}
			}
		}
		_ = mark
	})
	t.Run("no stale status on other screens", func(t *testing.T) {
		status := l.m.statusText()
		if status == "" {
			t.Fatal("no status to leak")
		}
		l.key("s")
		if strings.Contains(flat(l.view()), flat(status)) {
			t.Errorf("the dashboard's status %q shows on the scenario list:\n%s", status, l.view())
		}
		l.wantView("q quit") // q quits here too, and the footer says so
		l.key("esc", "?")
		if strings.Contains(flat(l.view()), flat(status)) {
			t.Errorf("the dashboard's status %q shows on the help screen", status)
		}
		l.key("esc")
	})
	t.Run("inspector: HS256 has no JWKS, who comes first", func(t *testing.T) {
		l := newLab(t)
		l.login()
		l.key("i")
		v := l.view()
		if strings.Contains(v, "JWKS") {
			t.Errorf("the inspector sends an HS256 reader to the JWKS:\n%s", v)
		}
		l.wantView("sub ", "username")
	})
}

// TestPlayerLogoutStatusIsNotInvented (issue 9, point 4): the server
// answers a logout with 204; the player must not show the runner's
// hard-coded 200 as the server's answer.
func TestPlayerLogoutStatusIsNotInvented(t *testing.T) {
	l := newLab(t, pinnedRunner)
	l.login()
	l.key("s")
	for l.m.player.list[l.m.player.cursor].Name != "logout" {
		l.key("down")
	}
	l.key("enter", "v", "n", "n", "n", "n") // the text view
	view := l.view()
	if strings.Contains(view, "log out → 200") {
		t.Errorf("the player shows a logout answered 200; the server answers 204:\n%s", view)
	}
	l.wantView("log out → 204: logged out, the session is over · sent the refresh token")
}
