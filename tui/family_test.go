package tui

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/mockserver"
)

// TestFamilyGraph: against the real embedded server, log in, refresh
// twice, let the attacker replay the spent token: the family view shows
// the three tokens of the chain joined by rotations, the replayed one
// marked, and the family revoked with its reason; before the attack it
// shows the live family, and it follows keys pressed on it.
func TestFamilyGraph(t *testing.T) {
	l := newLab(t)
	l.login()
	l.key("r", "r")
	l.key("g")
	if l.m.screen != screenFamily {
		t.Fatalf("g opened screen %d, want the family graph", l.m.screen)
	}
	l.wantView("Token family", "VALID", "alive: 3 tokens", "● active", "○ used", "│ rotated", "(login)")
	if got := strings.Count(l.view(), "issued "); got != 3 {
		t.Errorf("the graph shows %d tokens, want 3:\n%s", got, l.view())
	}
	if strings.Contains(l.view(), "REPLAYED") {
		t.Errorf("a token is marked replayed before any replay:\n%s", l.view())
	}

	// The attack, pressed on the graph itself: it re-reads the family.
	replayed := l.m.dash.prevRefresh
	l.key("a")
	if l.m.screen != screenFamily {
		t.Fatalf("a left the family graph (screen %d)", l.m.screen)
	}
	v := l.view()
	l.wantView("REVOKED", "(reuse_detected)", "▲ REPLAYED at", "reuse detected", "Reuse detected: the whole family is revoked")
	if strings.Contains(l.view(), "to see it drawn") {
		t.Errorf("the graph's status points to the graph:\n%s", l.view())
	}
	if got := len(regexp.MustCompile(`✗ [0-9a-f]{8} `).FindAllString(v, -1)); got != 3 {
		t.Errorf("%d tokens are shown revoked, want all 3:\n%s", got, v)
	}
	// The mark sits right under the token the attacker replayed.
	jti := familyJTI(t, replayed)
	lines := strings.Split(v, "\n")
	for i, line := range lines {
		if strings.Contains(line, "▲ REPLAYED") {
			if i == 0 || !strings.Contains(lines[i-1], jti[:8]) {
				t.Errorf("the replay mark is not under the replayed token %s:\n%s", jti[:8], v)
			}
		}
	}
	if !regexp.MustCompile(`(?s)\(login\).*│ rotated.*│ rotated`).MatchString(v) {
		t.Errorf("the chain is not drawn login → rotation → rotation:\n%s", v)
	}
	l.key("esc")
	if l.m.screen != screenDashboard {
		t.Errorf("esc went to screen %d, want the dashboard", l.m.screen)
	}
}

func familyJTI(t *testing.T, refresh string) string {
	t.Helper()
	d, err := decodeForTest(refresh)
	if err != nil {
		t.Fatal(err)
	}
	jti, _ := d["jti"].(string)
	if len(jti) < 8 {
		t.Fatalf("refresh token without a jti: %v", d)
	}
	return jti
}

func decodeForTest(tok string) (map[string]any, error) {
	d, err := client.Decode(tok)
	return d.Claims, err
}

// TestFamilyGraphGraceReplay: a spent token that comes back inside the
// grace window gets the same successor again and revokes nothing; the
// graph marks where it hit and says so, and the family stays alive.
func TestFamilyGraphGraceReplay(t *testing.T) {
	secrets := NewSecrets()
	e, err := startTestServer(context.Background(), func(c *mockserver.Config) { secrets.Configure(c); c.Policy.ReuseGrace = time.Minute })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	l := newLabOn(t, e, func(o *Options) { o.Secrets = secrets })
	l.login()
	l.key("r", "g", "a")
	l.wantView("VALID", "alive: 3 tokens", "▲ sent again at", "inside the grace window", "no revocation")
	if strings.Contains(l.view(), "REVOKED") {
		t.Errorf("a grace-window replay shows the family revoked:\n%s", l.view())
	}
}
