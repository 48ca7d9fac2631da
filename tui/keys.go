package tui

import (
	"slices"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
)

// keyMap holds every binding; help shows them short and in full.
type keyMap struct {
	Protected, Refresh, Forward, ForwardDay, ForwardWeek, Attack, Logout, Login key.Binding
	Scenarios, Inspect, Help, Quit, Back, Up, Down, Next, RunAll, Tab, Submit   key.Binding
	LogIn                                                                       key.Binding
}

func newKeyMap() keyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return keyMap{
		Protected:   b([]string{"p"}, "p", "call /protected"),
		Refresh:     b([]string{"r"}, "r", "refresh now"),
		Forward:     b([]string{"f"}, "f", "clock +16m"),
		ForwardDay:  b([]string{"d"}, "d", "clock +1d"),
		ForwardWeek: b([]string{"w"}, "w", "clock +8d"),
		Attack:      b([]string{"a"}, "a", "replay old refresh token (attacker)"),
		Logout:      b([]string{"x"}, "x", "log out"),
		Login:       b([]string{"L"}, "L", "log in again"),
		Scenarios:   b([]string{"s"}, "s", "scenarios"),
		Inspect:     b([]string{"i"}, "i", "inspect tokens"),
		Help:        b([]string{"?"}, "?", "help"),
		Quit:        b([]string{"q", "ctrl+c"}, "q", "quit"),
		Back:        b([]string{"esc"}, "esc", "back"),
		Up:          b([]string{"up", "k"}, "↑/k", "up"),
		Down:        b([]string{"down", "j"}, "↓/j", "down"),
		Next:        b([]string{"n", "space"}, "n/space", "next step"),
		RunAll:      b([]string{"R"}, "R", "run to the end"),
		Tab:         b([]string{"tab"}, "tab", "switch"),
		Submit:      b([]string{"enter"}, "enter", "play"),
		LogIn:       b([]string{"enter"}, "enter", "log in"),
	}
}

// dashboardHelp is the dashboard's key map for the help bubble.
type dashboardHelp struct{ k keyMap }

// ShortHelp fits in 80 columns, so ? and q are always on screen; ? shows
// every key with its full description.
func (h dashboardHelp) ShortHelp() []key.Binding {
	short := func(b key.Binding, desc string) key.Binding { b.SetHelp(b.Help().Key, desc); return b }
	return []key.Binding{short(h.k.Protected, "call API"), short(h.k.Refresh, "refresh"), short(h.k.Forward, "+16m"),
		short(h.k.Attack, "attack"), h.k.Scenarios, short(h.k.Help, "all keys"), h.k.Quit}
}

func (h dashboardHelp) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{h.k.Protected, h.k.Refresh, h.k.Attack, h.k.Logout, h.k.Login},
		{h.k.Forward, h.k.ForwardDay, h.k.ForwardWeek},
		{h.k.Scenarios, h.k.Inspect, h.k.Up, h.k.Down, h.k.Help, h.k.Quit},
	}
}

// bindings is a fixed list of bindings as a help key map.
type bindings []key.Binding

func (b bindings) ShortHelp() []key.Binding  { return b }
func (b bindings) FullHelp() [][]key.Binding { return [][]key.Binding{b} }

// footer shows a screen's short help on one line: when it is too wide the
// keys before the last two (help and quit, or back) go first, so the way
// to every key and out always stays.
func (m Model) footer(keys []key.Binding) string {
	keys = slices.Clone(keys)
	whole := m.help
	whole.SetWidth(0) // measure without the bubble's own cut
	for len(keys) > 2 {
		if v := whole.ShortHelpView(keys); lipgloss.Width(v) <= m.width {
			return v
		}
		keys = slices.Delete(keys, len(keys)-3, len(keys)-2)
	}
	return m.help.ShortHelpView(keys)
}
