package tui

import (
	"net/http"
	"strings"
	"testing"
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
