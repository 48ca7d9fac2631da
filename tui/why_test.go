package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// TestWhyTwoTokens: on the first run (no prefs file) the dashboard
// explains why there are two tokens, with their real lifetimes; the next
// run starts with it hidden; t shows it again, and that is remembered.
func TestWhyTwoTokens(t *testing.T) {
	prefsFile := filepath.Join(t.TempDir(), "tokenlab", "tui.json")
	withPrefs := func(o *Options) { o.PrefsFile = prefsFile }

	first := newLab(t, withPrefs)
	first.login()
	first.wantView("Why two?", "lives 15m", "lives 7d") // at 80×24 the short form: the timeline keeps its room
	first.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	first.wantView("Why two tokens?", "t hides this", "sent to the API with every call", "It lives 15m",
		"sent only to the auth server", "It lives 7d", "rotated and revoked")
	first.wantFits("dashboard with the explanation")
	first.wantCardsIntact()
	if data, err := os.ReadFile(prefsFile); err != nil || !strings.Contains(string(data), `"whyTwoTokens": false`) {
		t.Errorf("after the first run's start the prefs file holds %q (%v), want the explanation hidden next time", data, err)
	}
	for _, size := range goldenSizes {
		first.send(size)
		first.wantFits("dashboard with the explanation")
		first.wantCardsIntact()
		if !strings.Contains(first.view(), "lives 15m") {
			t.Errorf("at %dx%d the explanation lacks the access token's lifetime:\n%s", size.Width, size.Height, first.view())
		}
		if got := first.m.dash.timeline.Height(); got < 5 {
			t.Errorf("at %dx%d the explanation leaves %d timeline lines", size.Width, size.Height, got)
		}
	}

	second := newLab(t, withPrefs)
	second.login()
	if strings.Contains(second.view(), "Why two") {
		t.Errorf("the second run shows the explanation without being asked:\n%s", second.view())
	}
	second.key("t")
	second.wantView("Why two?")
	if data, _ := os.ReadFile(prefsFile); !strings.Contains(string(data), `"whyTwoTokens": true`) {
		t.Errorf("t was not remembered: %q", data)
	}
	third := newLab(t, withPrefs)
	third.login()
	third.wantView("Why two?")
	third.key("t")
	if strings.Contains(third.view(), "Why two") {
		t.Errorf("t did not hide the explanation:\n%s", third.view())
	}
}
