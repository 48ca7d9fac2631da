package tui

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// serverSettings reads the real server's settings through its admin API.
func serverSettings(t *testing.T, l *lab) map[string]any {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, l.e.URL+"/admin/settings", nil)
	req.Header.Set("Authorization", "Bearer "+l.e.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSettingsScreen (issue 17, point 15): , shows the server's settings;
// a change is made on the real server, lands in the timeline with what it
// means, and the tokens follow it: no rotation after rotation is off; a
// 2m access token turns EXPIRING after m (clock +1m).
func TestSettingsScreen(t *testing.T) {
	l := newLab(t)
	l.login()
	l.key(",")
	if l.m.screen != screenSettings {
		t.Fatalf(", opened screen %d, want the settings", l.m.screen)
	}
	l.wantView("Lab settings", "access TTL", "15m", "rotation", "reuse detection", "access denylist")
	l.key("down", "down") // rotation
	l.key("enter")
	if got := serverSettings(t, l)["rotation"]; got != false {
		t.Fatalf("the server's rotation is %v after the change", got)
	}
	l.wantSentence("rotation is now off")
	if !strings.Contains(l.timelineText(), "lab setting rotation | Rotation off: Refresh tokens are not rotated") {
		t.Errorf("the change is not in the timeline with its meaning:\n%s", l.timelineText())
	}
	l.key("up", "up", "left", "left") // access TTL: 15m → 5m → 2m
	if got := serverSettings(t, l)["accessTtl"]; got != "2m" {
		t.Fatalf("the server's access TTL is %v", got)
	}
	l.key("esc")
	before := l.m.dash.session.RefreshToken
	l.key("r")
	if l.m.dash.session.RefreshToken != before {
		t.Errorf("with rotation off the refresh still rotated the refresh token")
	}
	l.wantCards(StateValid, StateValid)
	l.wantView("2m left")
	l.key("m")
	l.wantCards(StateExpiring, StateValid)
}

// TestGlossary (issue 17, point 19): ? ends with a glossary of the lab's
// words, each in at most two lines at 60 columns, the dashboard's jargon
// among them; the dashboard's footer points there.
func TestGlossary(t *testing.T) {
	l := newLab(t)
	l.send(tea.WindowSizeMsg{Width: 60, Height: 20})
	l.login()
	l.wantView("? keys & words")
	l.key("?")
	content := ansi.Strip(l.m.help.content())
	_, gloss, ok := strings.Cut(content, "Glossary\n")
	if !ok {
		t.Fatalf("the help has no glossary:\n%s", content)
	}
	for _, term := range []string{"access token", "refresh token", "rotation", "family", "reuse detection", "grace window",
		"stateless", "denylist", "PKCE", "device code", "sub", "jti", "at+jwt"} {
		lines := 0
		for _, line := range strings.Split(gloss, "\n") {
			if strings.HasPrefix(line, "  "+term) && lines == 0 || lines > 0 && strings.HasPrefix(line, "                  ") {
				lines++
			} else if lines > 0 {
				break
			}
		}
		if lines == 0 || lines > 2 {
			t.Errorf("%q takes %d lines at 60 columns, want 1 or 2:\n%s", term, lines, gloss)
		}
	}
}
