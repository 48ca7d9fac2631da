package tui

import (
	"context"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/tokenlab/tokenlab/mockserver"
)

// TestInspectorDebugger: against the real embedded server the inspector
// checks the signature (✓), shows the encoded token and each part; a
// claim edited (sub → bob) makes the check ✗; sent to /protected, the
// forgery is refused with 401 and the server's reason, in the status and
// in the timeline.
func TestInspectorDebugger(t *testing.T) {
	l := newLab(t)
	l.login()
	l.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	l.key("i")
	l.wantView("Payload (claims)", "✓ signature valid")
	l.wantInspection("Signature", "✓ Signature valid", "HS256 secret", "Header", "Encoded · header.payload.signature")
	l.key("tab")
	l.wantView("refresh token · ✓ signature valid")
	l.key("tab")

	l.key("S") // the token as signed: accepted
	l.wantView("GET /protected → 200: the API accepted the token as the server signed it.")
	l.key("e")
	names := l.m.insp.claimNames()
	for names[l.m.insp.cursor] != "sub" {
		l.key("down")
	}
	l.wantView("› sub")
	l.key("enter")
	if !l.m.insp.typing {
		t.Fatal("enter on a claim did not open the editor")
	}
	l.wantView("edit sub:")
	for range len(l.m.insp.input.Value()) {
		l.send(keyPress("backspace"))
	}
	for _, r := range "bob" {
		l.key(string(r))
	}
	l.key("enter")
	l.wantView("access token (forged) · ✗ signature invalid", "✎ edited; the server signed", "S send")
	l.wantInspection("✗ Signature invalid: the signature does not match")
	if l.m.insp.claimText("sub") != "bob" {
		t.Fatalf("sub = %q after the edit, want bob", l.m.insp.claimText("sub"))
	}
	mark := len(l.m.dash.entries)
	l.key("S")
	l.wantView("GET /protected → 401", "invalid_token", "access_rejected")
	l.wantTimeline(mark, "access_rejected")
	if !strings.Contains(l.m.insp.status.text, "signature") {
		t.Errorf("the refusal does not say the signature was wrong: %q", l.m.insp.status.text)
	}

	// Moving exp by a duration: +1d on an expired token is still refused.
	l.key("u")
	l.wantView("✓ signature valid")
	l.key("e")
	names = l.m.insp.claimNames()
	for names[l.m.insp.cursor] != "exp" {
		l.key("down")
	}
	l.key("enter")
	for range len(l.m.insp.input.Value()) {
		l.send(keyPress("backspace"))
	}
	for _, r := range "+1d" {
		l.key(string(r))
	}
	l.key("enter")
	l.wantView("(expires in 1d)", "✗ signature invalid")
	l.key("S")
	l.wantView("GET /protected → 401")
}

// TestInspectorAgainstAnotherAPI: without the server's secret the
// inspector says the HS256 signature is not checked, and why.
func TestInspectorHS256WithoutSecret(t *testing.T) {
	l := newLab(t, func(o *Options) { o.Secrets = Secrets{} })
	l.login()
	l.key("i")
	l.wantView("signature not checked")
	l.wantInspection("HS256: the secret is the server's; not checked")
}

// TestInspectorChecksJWKS: an ES256 server's tokens are checked against
// its published JWKS.
func TestInspectorChecksJWKS(t *testing.T) {
	e, err := startTestServer(context.Background(), func(c *mockserver.Config) { c.Alg = "ES256" })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	l := newLabOn(t, e)
	l.login()
	l.key("i")
	l.wantView("✓ signature valid")
	l.wantInspection("Signature valid: checked with the public key the server publishes")
	l.key("e", "enter", "x", "enter")
	l.wantView("✗ signature invalid")
}

// wantInspection fails unless the inspector's whole text (not only the
// part in view) holds each of want.
func (l *lab) wantInspection(want ...string) {
	l.tb.Helper()
	in := ansi.Strip(l.m.insp.inspect())
	for _, w := range want {
		if !strings.Contains(flat(in), flat(w)) {
			l.tb.Errorf("the inspector lacks %q:\n%s", w, in)
		}
	}
}
