package tui

import (
	"strings"

	"charm.land/lipgloss/v2"
)

// glossary is the lab's words, each said in at most two lines at 60
// columns, under the keys on the help screen (?); the dashboard's jargon
// (sub, jti, at+jwt) is here too.
var glossary = [][2]string{
	{"access token", "Short-lived key sent to the API on every call; the API checks it by itself."},
	{"refresh token", "Long-lived key sent only to the auth server, to get new access tokens."},
	{"rotation", "Each refresh returns a new refresh token; the old one is spent."},
	{"family", "All refresh tokens descended from one login; revoked together."},
	{"reuse detection", "A spent refresh token coming back revokes its whole family."},
	{"grace window", "A moment in which a spent token may come back (a lost answer) unpunished."},
	{"stateless", "Checked from the token alone (signature, exp…), no database: not recallable."},
	{"denylist", "Ended sessions the API checks on each call, so their access tokens die at once."},
	{"PKCE", "Browser login where a one-time secret proves the code came back to its app."},
	{"device code", "Login for a device without a browser: approve its short code elsewhere."},
	{"sub", "Subject: the user the token speaks for, as an id (the name follows it)."},
	{"jti", "The token's own id: how the server tells tokens apart and spots a reuse."},
	{"at+jwt, rt+jwt", "The typ header: access or refresh, so neither passes for the other."},
}

// glossaryLines renders the glossary to width.
func (h helpModel) glossaryLines(width int) string {
	s := h.c.styles
	termWidth := 0
	for _, g := range glossary {
		termWidth = max(termWidth, lipgloss.Width(g[0]))
	}
	lead := 2 + termWidth + 2
	var b strings.Builder
	b.WriteString("\n" + s.Title.Render("Glossary") + "\n")
	for _, g := range glossary {
		for i, l := range wrap(g[1], width-lead) {
			if i == 0 {
				b.WriteString("  " + s.Selected.Render(g[0]) + strings.Repeat(" ", termWidth-lipgloss.Width(g[0])+2) + s.Value.Render(l) + "\n")
			} else {
				b.WriteString(strings.Repeat(" ", lead) + s.Value.Render(l) + "\n")
			}
		}
	}
	return b.String()
}
