package tui

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// hostileToken is a JWT whose header and claims carry C1 controls (U+009B
// is a one-byte CSI) and bidi controls, as a hostile server could sign.
func hostileToken(t *testing.T) string {
	t.Helper()
	part := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	header := part(map[string]any{"alg": "HS256", "typ": "at+jwt\u009b2J"})
	claims := part(map[string]any{"sub": "a\u009b2Jb", "username": "evil\u202egnp.exe", "jti": "j\u2066x",
		"fid": "f\u0085", "exp": 1893553445, "iat": 1893552545, "note\u202e": "x\u009by"})
	return header + "." + claims + ".c2ln"
}

// TestClaimViewsEscapeControls: the inspector and the dashboard's cards
// show a token's claims and header with C1 and bidi controls escaped.
func TestClaimViewsEscapeControls(t *testing.T) {
	l := newLab(t)
	l.login()
	tok := hostileToken(t)
	l.m.dash.session.AccessToken = tok
	raw := func(s string) bool { return strings.ContainsAny(s, "\u009b\u202e\u2066\u0085") }
	if v := l.view(); raw(v) || !strings.Contains(v, `a\u009b2Jb`) {
		t.Errorf("the dashboard shows the claims raw:\n%q", v)
	}
	l.key("i")
	l.m.insp.session.AccessToken = tok
	in := ansi.Strip(l.m.insp.inspect())
	if raw(in) {
		t.Errorf("the inspector shows the claims raw:\n%q", in)
	}
	for _, want := range []string{`a\u009b2Jb`, `evil\u202egnp.exe`, `note\u202e`, `at+jwt\u009b2J`} {
		if !strings.Contains(in, want) {
			t.Errorf("the inspector lacks %q:\n%s", want, in)
		}
	}
}
