package tui

import (
	"image/color"

	"charm.land/bubbles/v2/help"

	"charm.land/lipgloss/v2"
)

// Styles are every style of the TUI, built once from the terminal's
// background and NO_COLOR. Nothing else in the package makes styles.
type Styles struct {
	Title, Subtle, Label, Value, Error, Note, Selected lipgloss.Style
	Card                                               lipgloss.Style
	BarFull, BarEmpty                                  lipgloss.Style
	Good, Warn, Bad, Info                              lipgloss.Style
	// The three parts of an encoded JWT, coloured as jwt.io does.
	JWTHeader, JWTPayload, JWTSignature lipgloss.Style
	badges                              map[string]lipgloss.Style
	// Help styles the footer and the help screen's keys.
	Help help.Styles
}

// NewStyles returns styles for a dark or light background; noColor gives
// plain text (borders and layout stay).
func NewStyles(dark, noColor bool) Styles {
	ld := lipgloss.LightDark(dark)
	c := func(light, darkc string) color.Color { return ld(lipgloss.Color(light), lipgloss.Color(darkc)) }
	fg := func(col color.Color) lipgloss.Style {
		if noColor {
			return lipgloss.NewStyle()
		}
		return lipgloss.NewStyle().Foreground(col)
	}
	badge := func(col color.Color) lipgloss.Style {
		if noColor {
			return lipgloss.NewStyle().Bold(true)
		}
		return lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#FFFFFF")).Background(col).Padding(0, 1)
	}
	green, amber, red, blue, purple := c("#00875F", "#04B575"), c("#AF5F00", "#FFB86C"), c("#D7005F", "#FF5F87"), c("#005FAF", "#5FAFFF"), c("#5F00D7", "#AF87FF")
	s := Styles{
		Title:    fg(purple).Bold(true),
		Subtle:   fg(c("#8A8A8A", "#6C6C6C")),
		Label:    fg(c("#6C6C6C", "#9E9E9E")),
		Value:    fg(c("#262626", "#E4E4E4")),
		Error:    fg(red).Bold(true),
		Note:     fg(blue),
		Selected: fg(purple).Bold(true),
		Card:     lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).Padding(0, 1),
		BarFull:  fg(green),
		BarEmpty: fg(c("#D0D0D0", "#3A3A3A")),
		Good:     fg(green),
		Warn:     fg(amber),
		Bad:      fg(red),
		Info:     fg(blue),
		// jwt.io's red, purple and cyan, darker on a light background.
		JWTHeader:    fg(c("#C8004F", "#FB015B")),
		JWTPayload:   fg(c("#8700AF", "#D63AFF")),
		JWTSignature: fg(c("#00759A", "#00B9F1")),
	}
	s.Help = help.Styles{}
	if !noColor { // at least 4.5:1 on the terminal's background
		key, desc := fg(c("#3A3A3A", "#C6C6C6")), fg(c("#585858", "#A8A8A8"))
		s.Help = help.Styles{ShortKey: key, ShortDesc: desc, ShortSeparator: desc, Ellipsis: desc,
			FullKey: key, FullDesc: desc, FullSeparator: desc}
	}
	if !noColor {
		s.Card = s.Card.BorderForeground(c("#BCBCBC", "#4E4E4E"))
	}
	// Badges are white on a strong colour, the same on dark and light
	// terminals, each at least 4.5:1 (WCAG AA). EXPIRED is grey (time ran
	// out), REVOKED red (the server ended it).
	s.badges = map[string]lipgloss.Style{
		StateValid: badge(lipgloss.Color("#007A55")), StateExpiring: badge(lipgloss.Color("#A35200")),
		StateExpired: badge(lipgloss.Color("#5F5F5F")), StateRotated: badge(lipgloss.Color("#005FAF")),
		StateRevoked: badge(lipgloss.Color("#C8004F")), StateNone: badge(lipgloss.Color("#6C6C6C")),
		StateUnknown: badge(lipgloss.Color("#6C6C6C")),
	}
	return s
}

// Badge renders a token state.
func (s Styles) Badge(state string) string { return s.badges[state].Render(state) }
