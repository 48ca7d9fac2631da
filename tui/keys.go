package tui

import (
	"slices"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
)

// keyMap holds every binding of every screen: screens match keys only
// through it (key.Matches), and help shows them from it.
type keyMap struct {
	// Dashboard.
	Protected, Refresh, Forward, ForwardDay, ForwardWeek, Attack, Logout, Login key.Binding
	Scenarios, Inspect, Family, Why, Help, Quit, ForceQuit                      key.Binding
	Copy, Reset, Settings, ForwardMinute, Request                               key.Binding
	// Moving about.
	Back, Up, Down key.Binding
	// The timeline's pages and ends.
	PageUp, PageDown, Top, Bottom key.Binding
	// Login form.
	NextField, PrevField, LogIn, FlowNext, FlowPrev key.Binding
	// Inspector.
	Tab, Edit, Apply, Send, Undo key.Binding
	// Scenario player.
	Play, Next, RunAll, TextView key.Binding
	// Request view.
	Earlier, Later key.Binding
}

func newKeyMap() keyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return keyMap{
		Protected:     b([]string{"p"}, "p", "call /protected"),
		Refresh:       b([]string{"r"}, "r", "refresh now"),
		Forward:       b([]string{"f"}, "f", "clock +16m"),
		ForwardDay:    b([]string{"d"}, "d", "clock +1d"),
		ForwardWeek:   b([]string{"w"}, "w", "clock +8d"),
		Attack:        b([]string{"a"}, "a", "attacker replays an old refresh token"),
		Logout:        b([]string{"x"}, "x", "log out"),
		Login:         b([]string{"L"}, "L", "log in again"),
		Settings:      b([]string{","}, ",", "lab settings: lifetimes, rotation, reuse detection, denylist"),
		ForwardMinute: b([]string{"m"}, "m", "clock +1m (to watch EXPIRING)"),
		Reset:         b([]string{"ctrl+r"}, "ctrl+r", "reset the lab (twice): a new database, a fresh login screen"),
		Request:       b([]string{"enter"}, "enter", "the HTTP request and answer of the timeline's last row in view (tab: the login's diagram)"),
		Copy:          b([]string{"c"}, "c", "copy the token (OSC 52): the access token; in the inspector, the one in view"),
		Scenarios:     b([]string{"s"}, "s", "scenarios"),
		Inspect:       b([]string{"i"}, "i", "inspect tokens"),
		Family:        b([]string{"g"}, "g", "the refresh-token family as a graph"),
		Why:           b([]string{"t"}, "t", "why two tokens (show or hide; remembered)"),
		Help:          b([]string{"?"}, "?", "all keys"),
		Quit:          b([]string{"q", "ctrl+c"}, "q", "quit"),
		ForceQuit:     b([]string{"ctrl+c"}, "ctrl+c", "quit"),
		Back:          b([]string{"esc"}, "esc", "back"),
		Up:            b([]string{"up", "k"}, "↑/k", "up"),
		Down:          b([]string{"down", "j"}, "↓/j", "down"),
		PageUp:        b([]string{"pgup"}, "pgup", "timeline: a page up"),
		PageDown:      b([]string{"pgdown"}, "pgdn", "timeline: a page down"),
		Top:           b([]string{"home"}, "home", "timeline: the first row"),
		Bottom:        b([]string{"end"}, "end", "timeline: the newest row, and follow new rows"),
		NextField:     b([]string{"tab", "down"}, "tab/↓", "next field"),
		PrevField:     b([]string{"shift+tab", "up"}, "⇧tab/↑", "previous field"),
		LogIn:         b([]string{"enter"}, "enter", "log in"),
		FlowNext:      b([]string{"right", "l", "space"}, "←/→", "choose the login flow (on the flow row)"),
		FlowPrev:      b([]string{"left", "h"}, "←", "previous flow"),
		Tab:           b([]string{"tab"}, "tab", "the other token"),
		Edit:          b([]string{"e"}, "e", "edit a claim (forge the token)"),
		Apply:         b([]string{"enter"}, "enter", "edit the claim / apply the edit"),
		Send:          b([]string{"S"}, "S", "send the token in view to the API"),
		Undo:          b([]string{"u"}, "u", "undo the edits"),
		Play:          b([]string{"enter"}, "enter", "play"),
		Next:          b([]string{"n", "space"}, "n/space", "next step"),
		RunAll:        b([]string{"R"}, "R", "run to the end, pausing at each step"),
		Earlier:       b([]string{"left", "h"}, "←", "the request before"),
		Later:         b([]string{"right", "l"}, "→", "the request after"),
		TextView:      b([]string{"v"}, "v", "the steps as text, or the scenario's dashboard"),
	}
}

// dashboardShort is the dashboard's footer: ? and q always stay.
func (k keyMap) dashboardShort() []key.Binding {
	short := func(b key.Binding, desc string) key.Binding { b.SetHelp(b.Help().Key, desc); return b }
	return []key.Binding{short(k.Protected, "call API"), short(k.Refresh, "refresh"), short(k.Forward, "+16m"),
		short(k.Attack, "attack"), k.Scenarios, short(k.Help, "keys & words"), k.Quit}
}

// helpSection is one screen's keys, as the help screen lists them.
type helpSection struct {
	title string
	keys  []key.Binding
}

// allKeys is every screen's keys, for the help screen.
func (k keyMap) allKeys() []helpSection {
	return []helpSection{
		{"Dashboard", []key.Binding{k.Protected, k.Refresh, k.ForwardMinute, k.Forward, k.ForwardDay, k.ForwardWeek, k.Attack,
			k.Logout, k.Login, k.Copy, k.Inspect, k.Family, k.Why, k.Scenarios, k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom,
			k.Settings, k.Request, k.Reset, k.Help, k.Quit}},
		{"Request view", []key.Binding{k.Earlier, k.Later, k.Up, k.Down, named(k.Tab, "the last login's sequence diagram"), k.Back}},
		{"Lab settings", []key.Binding{k.Up, k.Down, named(k.Apply, "change the setting (←/→ too)"), k.Back}},
		{"Family graph", []key.Binding{k.Refresh, k.Attack, k.Forward, k.Protected, k.Logout, k.Up, k.Down, k.Back}},
		{"Login", []key.Binding{k.FlowNext, k.NextField, k.PrevField, k.LogIn, named(k.Back, "back; cancels a browser or device login"), k.ForceQuit}},
		{"Inspector", []key.Binding{k.Tab, k.Edit, k.Apply, k.Send, k.Undo, k.Copy, k.Up, k.Down, k.Back}},
		{"Scenario player", []key.Binding{k.Up, k.Down, k.Play, k.Next, k.RunAll, k.TextView, named(k.Family, "the scenario's family as a graph (or its cards)"), k.Back, k.Quit}},
	}
}

// footer shows a screen's short help on one line: when it is too wide the
// keys before the last two (help and quit, or back) go first, so the way
// to every key and out always stays.
func (c *common) footer(keys []key.Binding) string {
	keys = slices.Clone(keys)
	whole := c.help
	whole.SetWidth(0) // measure without the bubble's own cut
	for len(keys) > 2 {
		if v := whole.ShortHelpView(keys); lipgloss.Width(v) <= c.width {
			return v
		}
		keys = slices.Delete(keys, len(keys)-3, len(keys)-2)
	}
	return c.help.ShortHelpView(keys)
}
