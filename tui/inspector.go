package tui

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/tokenlab/tokenlab/client"
)

// claimHelp explains the standard header fields and claims.
var claimHelp = map[string]string{
	"alg":       "signing algorithm; the server accepts only the one it pinned",
	"typ":       "token type: at+jwt is an access token (RFC 9068), rt+jwt a refresh token",
	"kid":       "key ID: which of the server's keys signed it",
	"iss":       "issuer: the server that made the token",
	"sub":       "subject: the user's ID",
	"aud":       "audience: who the token is for; others must refuse it",
	"exp":       "expiry: after this moment the token is refused",
	"nbf":       "not before: refused until this moment",
	"iat":       "issued at: when the server made it",
	"jti":       "JWT ID: unique per token; logs name tokens by it, never by value",
	"username":  "the user's name, for display (not a standard claim)",
	"sid":       "session ID: the refresh-token family, checked by the logout denylist",
	"fid":       "family ID: every refresh token rotated from one login shares it",
	"scope":     "what the token may be used for (OAuth)",
	"client_id": "the OAuth client the token was issued to",
}

// claimOrder puts who the token is about first, then when it lives, then
// the rest; unknown claims follow in name order.
var claimOrder = []string{"alg", "typ", "kid", "sub", "username", "exp", "iat", "nbf", "iss", "aud", "scope", "client_id", "jti", "sid", "fid"}

// inspectorModel shows one token's header and claims, each explained.
type inspectorModel struct {
	c           *common
	session     client.Session
	showRefresh bool
	vp          viewport.Model
}

func newInspectorModel(c *common) inspectorModel {
	vp := viewport.New(viewport.WithWidth(c.width), viewport.WithHeight(max(c.height-4, 3)))
	return inspectorModel{c: c, vp: vp}
}

// open shows the session's tokens, the access token first.
func (in inspectorModel) open(s client.Session) inspectorModel {
	in.session, in.showRefresh = s, false
	in = in.resize()
	in.vp.GotoTop()
	return in
}

func (in inspectorModel) resize() inspectorModel {
	in.vp.SetWidth(in.c.width)
	in.vp.SetHeight(max(in.c.height-4, 3))
	in.vp.SetContent(in.inspect())
	return in
}

func (in inspectorModel) update(msg tea.Msg) (inspectorModel, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return in, nil
	}
	keys := in.c.keys
	switch {
	case key.Matches(k, keys.Back), key.Matches(k, keys.Inspect):
		return in, show(screenDashboard)
	case key.Matches(k, keys.Tab):
		in.showRefresh = !in.showRefresh
		in.vp.SetContent(in.inspect())
		in.vp.GotoTop()
	case key.Matches(k, keys.Up):
		in.vp.ScrollUp(1)
	case key.Matches(k, keys.Down):
		in.vp.ScrollDown(1)
	}
	return in, nil
}

// token is the token in view and its name.
func (in inspectorModel) token() (which, tok string) {
	if in.showRefresh {
		return "refresh token", in.session.RefreshToken
	}
	return "access token", in.session.AccessToken
}

func (in inspectorModel) view() string {
	s := in.c.styles
	which, _ := in.token()
	title := s.Title.Render("Token inspector") + s.Subtle.Render(" · "+which)
	vp := in.vp
	vp.SetContent(in.inspect()) // times are relative to the lab's clock, which moves
	k := in.c.keys
	return truncate(title, in.c.width) + "\n\n" + vp.View() + "\n" + in.c.footer([]key.Binding{k.Tab, k.Up, k.Down, k.Back})
}

// inspect lists a token's header and claims, each explained.
func (in inspectorModel) inspect() string {
	s := in.c.styles
	_, tok := in.token()
	if tok == "" {
		return s.Subtle.Render("No token yet: log in first.")
	}
	d, err := client.Decode(tok)
	if err != nil {
		return s.Error.Render(sentence(err))
	}
	times := map[string]string{}
	for _, t := range d.Times(in.c.now) {
		if t.Problem == "" {
			times[t.Claim] = t.At.Format("2006-01-02 15:04:05 UTC") + " (" + t.Relative + ")"
		}
	}
	width := max(in.vp.Width(), 30)
	var b strings.Builder
	section := func(name string, fields map[string]any) {
		b.WriteString(s.Label.Render(name) + "\n")
		for _, k := range orderedKeys(fields) {
			val := times[k]
			if val == "" {
				raw, _ := json.Marshal(fields[k])
				val = strings.Trim(string(raw), `"`)
			}
			b.WriteString(fmt.Sprintf("  %s %s\n", s.Selected.Render(fmt.Sprintf("%-9s", k)), s.Value.Render(truncate(val, width-12))))
			if h := claimHelp[k]; h != "" {
				const indent = "            "
				for _, l := range strings.Split(ansi.Wordwrap(h, width-len(indent), ""), "\n") {
					b.WriteString(indent + s.Subtle.Render(l) + "\n")
				}
			}
		}
		b.WriteString("\n")
	}
	section("Claims", d.Claims) // what the token says first; how it is signed after
	section("Header", d.Header)
	b.WriteString(s.Label.Render("Signature") + "\n")
	for _, l := range strings.Split(ansi.Wordwrap(signatureNote(d), width-2, ""), "\n") {
		b.WriteString("  " + s.Subtle.Render(l) + "\n")
	}
	return b.String()
}

// signatureNote says who can check the signature: with HS256 only the
// holder of the shared secret (the server); with a public-key algorithm
// anyone, with the key the server publishes.
func signatureNote(d client.Decoded) string {
	if strings.HasPrefix(d.Alg(), "HS") {
		return fmt.Sprintf("%d bytes: an HMAC (%s) made with a secret only the server holds, so it is checked by the server alone; there is no public key to publish.", len(d.Signature), d.Alg())
	}
	return fmt.Sprintf("%d bytes, signed with the server's %s private key; anyone can check it with the public key the server publishes (its JWKS).", len(d.Signature), d.Alg())
}

func orderedKeys(fields map[string]any) []string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	rank := func(k string) int {
		if i := slices.Index(claimOrder, k); i >= 0 {
			return i
		}
		return len(claimOrder)
	}
	sort.Slice(keys, func(i, j int) bool {
		if ri, rj := rank(keys[i]), rank(keys[j]); ri != rj {
			return ri < rj
		}
		return keys[i] < keys[j]
	})
	return keys
}
