package tui

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
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
