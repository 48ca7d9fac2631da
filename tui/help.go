package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// helpModel lists every screen's keys and what the card states mean, in
// one column that fits 60 columns, scrolled when the window is short.
type helpModel struct {
	c  *common
	vp viewport.Model
}

func newHelpModel(c *common) helpModel {
	vp := viewport.New(viewport.WithWidth(c.width), viewport.WithHeight(max(c.height-2, 3)))
	vp.KeyMap = viewport.KeyMap{}
	return helpModel{c: c, vp: vp}
}

func (h helpModel) open() helpModel {
	h = h.resize()
	h.vp.GotoTop()
	return h
}

func (h helpModel) resize() helpModel {
	h.vp.SetWidth(h.c.width)
	h.vp.SetHeight(max(h.c.height-2, 3))
	h.vp.SetContent(h.content())
	return h
}

func (h helpModel) update(msg tea.Msg) (helpModel, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return h, nil
	}
	keys := h.c.keys
	switch {
	case key.Matches(k, keys.Back), key.Matches(k, keys.Help):
		return h, show(screenDashboard)
	case key.Matches(k, keys.Up):
		h.vp.ScrollUp(1)
	case key.Matches(k, keys.Down):
		h.vp.ScrollDown(1)
	}
	return h, nil
}

func (h helpModel) view() string {
	k := h.c.keys
	return h.vp.View() + "\n\n" + h.c.footer([]key.Binding{k.Up, k.Down, k.Back})
}

// helpStates are the card states, explained.
var helpStates = [][2]string{
	{StateValid, "the token is good"},
	{StateExpiring, "under a minute (access) or an hour (refresh) left"},
	{StateExpired, "past its exp: the server refuses it"},
	{StateRotated, "this refresh token replaced an older one, which is now spent"},
	{StateRevoked, "the server ended the session (logout or reuse detection); an access token shows it only when the API checks a denylist"},
	{StateUnknown, "the session ended and this API's policy cannot be read here: a stateless API still accepts the access token until exp, one with a denylist refuses it"},
}

func (h helpModel) content() string {
	s := h.c.styles
	width := max(h.c.width, 30)
	var b strings.Builder
	b.WriteString(s.Title.Render("Keys") + s.Subtle.Render(" · then card states and a glossary (↓)") + "\n")
	keyWidth := 0
	for _, sec := range h.c.keys.allKeys() {
		for _, k := range sec.keys {
			keyWidth = max(keyWidth, lipgloss.Width(k.Help().Key))
		}
	}
	for _, sec := range h.c.keys.allKeys() {
		b.WriteString("\n" + s.Label.Render(sec.title) + "\n")
		for _, k := range sec.keys {
			pad := strings.Repeat(" ", keyWidth-lipgloss.Width(k.Help().Key))
			lead := "  " + k.Help().Key + pad + "  "
			for i, l := range wrap(k.Help().Desc, width-lipgloss.Width(lead)) {
				if i == 0 {
					b.WriteString("  " + s.Help.FullKey.Render(k.Help().Key) + pad + "  " + s.Help.FullDesc.Render(l) + "\n")
				} else {
					b.WriteString(strings.Repeat(" ", lipgloss.Width(lead)) + s.Help.FullDesc.Render(l) + "\n")
				}
			}
		}
	}
	b.WriteString("\n" + s.Title.Render("Card states") + "\n")
	badgeWidth := 0
	for _, st := range helpStates {
		badgeWidth = max(badgeWidth, lipgloss.Width(s.Badge(st[0])))
	}
	for _, st := range helpStates {
		badge := s.Badge(st[0])
		lead := 2 + badgeWidth + 1
		for i, l := range wrap(st[1], width-lead) {
			if i == 0 {
				b.WriteString("  " + badge + strings.Repeat(" ", badgeWidth-lipgloss.Width(badge)+1) + s.Value.Render(l) + "\n")
			} else {
				b.WriteString(strings.Repeat(" ", lead) + s.Value.Render(l) + "\n")
			}
		}
	}
	b.WriteString("\n")
	for _, l := range wrap("The clock keys move the embedded server's clock (and the lab's); tokens age as if that time had passed.", width) {
		b.WriteString(s.Subtle.Render(l) + "\n")
	}
	b.WriteString(h.glossaryLines(width))
	return b.String()
}
