package tui

import (
	"context"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/tokenlab/tokenlab/client"
)

// TestInspectorShowsTheIDToken (issue 14, point 8): after a login with
// openid (the browser flow against the embedded server), tab reaches the
// ID token the server issued, its signature checked with the server's
// published key; a session without one cycles access ↔ refresh only.
func TestInspectorShowsTheIDToken(t *testing.T) {
	l := newLab(t, func(o *Options) {
		o.OpenBrowser = func(ctx context.Context, u string) error { return fillAuthorizeForm(ctx, u, "approve") }
	})
	l.key("down", "right", "enter")
	if l.m.screen != screenDashboard {
		t.Fatalf("the PKCE login did not end on the dashboard: %q", l.m.statusText())
	}
	idt := l.m.dash.session.IDToken
	if idt == "" {
		t.Fatal("the server issued no ID token for the openid login")
	}
	d, err := client.Decode(idt)
	if err != nil {
		t.Fatal(err)
	}
	l.key("i", "tab", "tab")
	if !l.m.insp.showID {
		t.Fatalf("tab twice does not show the ID token:\n%s", l.view())
	}
	nonce, _ := d.Claims["nonce"].(string)
	l.wantView("Token inspector · ID token", "at_hash", "azp")
	if all := ansi.Strip(l.m.insp.inspect()); nonce == "" || !strings.Contains(all, nonce) {
		t.Errorf("the ID token's nonce %q is not in the inspector:\n%s", nonce, all)
	}
	l.wantView("✓ signature valid")
	l.key("tab")
	l.wantView("Token inspector · access token")

	// A password login in the tokenlab dialect brings none: tab goes back and forth.
	p := newLab(t)
	p.login()
	p.key("i", "tab", "tab")
	p.wantView("Token inspector · access token")
}
