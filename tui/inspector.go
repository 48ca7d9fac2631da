package tui

import (
	"encoding/json"
	"fmt"
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
	"kid":       "key ID: which of the server's keys signed it (see JWKS)",
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

type inspectorModel struct {
	showRefresh bool
	session     client.Session
	view        viewport.Model
}

func newInspectorModel(s client.Session, width, height int) inspectorModel {
	vp := viewport.New(viewport.WithWidth(width), viewport.WithHeight(max(height, 3)))
	return inspectorModel{session: s, view: vp}
}

func (in *inspectorModel) resize(width, height int) {
	in.view.SetWidth(width)
	in.view.SetHeight(max(height, 3))
}

func (m Model) updateOverlay(msg tea.Msg) (tea.Model, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return m, nil
	}
	switch {
	case key.Matches(k, m.keys.Back), key.Matches(k, m.keys.Help) && m.screen == screenHelp,
		key.Matches(k, m.keys.Inspect) && m.screen == screenInspector:
		m.screen = m.back
	case m.screen == screenInspector && key.Matches(k, m.keys.Tab):
		m.insp.showRefresh = !m.insp.showRefresh
		m.insp.view.GotoTop()
	case m.screen == screenInspector:
		_, tok := m.insp.token()
		m.insp.view.SetContent(m.inspect(tok)) // the viewport scrolls over what it holds
		var cmd tea.Cmd
		m.insp.view, cmd = m.insp.view.Update(msg)
		return m, cmd
	}
	return m, nil
}

// token is the token in view and its name.
func (in inspectorModel) token() (which, tok string) {
	if in.showRefresh {
		return "refresh token", in.session.RefreshToken
	}
	return "access token", in.session.AccessToken
}

func (m Model) inspectorView() string {
	s := m.styles
	which, tok := m.insp.token()
	title := s.Title.Render("Token inspector") + s.Subtle.Render(" · "+which+" (tab: the other one)")
	m.insp.view.SetContent(m.inspect(tok))
	help := m.help.ShortHelpView([]key.Binding{m.keys.Tab, m.keys.Up, m.keys.Down, m.keys.Back})
	return title + "\n\n" + m.insp.view.View() + "\n" + help
}

// inspect lists a token's header and claims, each explained.
func (m Model) inspect(tok string) string {
	s := m.styles
	if tok == "" {
		return s.Subtle.Render("No token yet: log in first.")
	}
	d, err := client.Decode(tok)
	if err != nil {
		return s.Error.Render(sentence(err))
	}
	times := map[string]string{}
	for _, t := range d.Times(m.now) {
		if t.Problem == "" {
			times[t.Claim] = t.At.Format("2006-01-02 15:04:05 UTC") + " (" + t.Relative + ")"
		}
	}
	var b strings.Builder
	section := func(name string, fields map[string]any) {
		b.WriteString(s.Label.Render(name) + "\n")
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			val := times[k]
			if val == "" {
				raw, _ := json.Marshal(fields[k])
				val = strings.Trim(string(raw), `"`)
			}
			b.WriteString(fmt.Sprintf("  %s %s\n", s.Selected.Render(fmt.Sprintf("%-9s", k)), s.Value.Render(val)))
			if h := claimHelp[k]; h != "" {
				const indent = "            "
				for _, l := range strings.Split(ansi.Wordwrap(h, max(m.insp.view.Width()-len(indent), 20), ""), "\n") {
					b.WriteString(indent + s.Subtle.Render(l) + "\n")
				}
			}
		}
		b.WriteString("\n")
	}
	section("Header", d.Header)
	section("Claims", d.Claims)
	sig := fmt.Sprintf("%d bytes, checked by the server with its %s key; the client cannot check it and does not need to.", len(d.Signature), d.Alg())
	b.WriteString(s.Label.Render("Signature") + "\n")
	for _, l := range strings.Split(ansi.Wordwrap(sig, max(m.insp.view.Width()-2, 20), ""), "\n") {
		b.WriteString("  " + s.Subtle.Render(l) + "\n")
	}
	return b.String()
}

func (m Model) helpView() string {
	s := m.styles
	var b strings.Builder
	b.WriteString(s.Title.Render("Keys") + "\n\n")
	b.WriteString(m.help.FullHelpView(dashboardHelp{m.keys}.FullHelp()) + "\n\n")
	b.WriteString(s.Title.Render("Card states") + "\n")
	for _, st := range [][2]string{
		{StateValid, "the token is good"},
		{StateExpiring, "under a minute (access) or an hour (refresh) left"},
		{StateExpired, "past its exp: the server refuses it"},
		{StateRotated, "this refresh token replaced an older one, which is now spent"},
		{StateRevoked, "the server ended the session (logout or reuse detection)"},
	} {
		b.WriteString("  " + s.Badge(st[0]) + " " + s.Value.Render(st[1]) + "\n")
	}
	b.WriteString("\n" + s.Subtle.Render("The clock keys move the embedded server's clock (and the lab's); tokens age as if that time had passed.") + "\n")
	b.WriteString(s.Subtle.Render("esc or ? to go back") + "\n")
	return b.String()
}
