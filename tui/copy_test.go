package tui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/mockserver"
)

// TestCopyThenOldAccessToken (issue 17, point 18): c copies the access
// token (OSC 52) and says which; after logout, p sends the access token
// kept from the session, and the lab shows the real server's answer: 200
// while stateless, 401 with the denylist, the same as a curl with the
// copied token gets.
func TestCopyThenOldAccessToken(t *testing.T) {
	for _, tc := range []struct {
		name     string
		denylist bool
		status   int
		says     string
	}{
		{"stateless", false, http.StatusOK, "→ 200: the API still accepts it"},
		{"denylist", true, http.StatusUnauthorized, "→ 401: the API refuses it now"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t)
			setDenylist(t, l.e, tc.denylist)
			l.login()
			l.key("c")
			if l.clipboard != l.m.dash.session.AccessToken {
				t.Fatalf("c put %d characters on the clipboard, not the access token", len(l.clipboard))
			}
			l.wantSentence("Copied the access token (jti ")
			if strings.Contains(l.view(), l.clipboard) {
				t.Errorf("the copied token is shown on screen")
			}
			l.key("x", "p")
			l.wantSentence(tc.says)
			if !strings.Contains(l.timelineText(), "client GET /protected ") {
				t.Errorf("the old token's call is not in the timeline:\n%s", l.timelineText())
			}
			if got := protectedStatus(t, l.e.URL, l.clipboard); got != tc.status {
				t.Errorf("the lab says %q; curl with the copied token gets %d", tc.says, got)
			}
		})
	}
}

// TestInspectorCopiesTheTokenInView (issue 17, point 18).
func TestInspectorCopiesTheTokenInView(t *testing.T) {
	l := newLab(t)
	l.login()
	l.key("i", "tab", "c")
	if l.clipboard != l.m.dash.session.RefreshToken {
		t.Fatalf("c in the inspector on the refresh token copied something else")
	}
	if !strings.Contains(l.m.insp.status.text, "Copied the refresh token") {
		t.Errorf("the inspector's status says %q", l.m.insp.status.text)
	}
}

// TestResetTheLab (issue 17, point 18): ctrl+r twice starts the lab again
// on a new server and database: a fresh login screen, an empty timeline,
// the old session gone from the store and unknown to the new server.
func TestResetTheLab(t *testing.T) {
	var servers []*mockserver.Embedded
	l := newLab(t, func(o *Options) {
		o.Reset = func(ctx context.Context) (*mockserver.Embedded, error) {
			e, err := startTestServer(ctx)
			if err == nil {
				servers = append(servers, e)
				e.Clock.Set(labStart)
			}
			return e, err
		}
	})
	t.Cleanup(func() {
		for _, e := range servers {
			e.Close()
		}
	})
	l.login()
	l.key("r")
	old := l.m.dash.session
	key := l.m.dash.client.Key()
	l.send(keyPress("ctrl+r"))
	l.wantSentence("Press ctrl+r again")
	l.send(keyPress("ctrl+r"))
	if len(servers) != 1 {
		t.Fatalf("ctrl+r twice started %d servers, want 1", len(servers))
	}
	if l.m.screen != screenLogin || len(l.m.dash.entries) != 0 || l.m.dash.client != nil {
		t.Fatalf("after the reset: screen %d, %d timeline rows, client %v; want a fresh login screen", l.m.screen, len(l.m.dash.entries), l.m.dash.client != nil)
	}
	l.wantView("The lab was reset", servers[0].URL)
	if _, err := l.store.Load(t.Context(), key); !errors.Is(err, client.ErrNoSession) {
		t.Errorf("the old session is still in the store: %v", err)
	}
	body, _ := json.Marshal(map[string]string{"token": old.RefreshToken})
	resp, err := http.Post(servers[0].URL+"/token", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the new server answered %d to the old refresh token, want 401 (it signs with other keys and knows no family)", resp.StatusCode)
	}
	l.login()
	l.key("p")
	l.wantTimeline(0, "GET /protected 200")
}
