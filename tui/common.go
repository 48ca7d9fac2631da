package tui

import (
	"strings"
	"sync/atomic"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// status is a screen's last outcome or error, one sentence and its tone
// (good, bad, warn, info). Each screen keeps its own, so none leaks onto
// another.
type status struct{ tone, text string }

// statusView shows a status coloured by its tone, wrapped to the window in
// at most three lines: a cut sentence would lose what to do next.
func (c *common) statusView(st status) string {
	if st.text == "" {
		return ""
	}
	style := map[string]lipgloss.Style{"good": c.styles.Good, "bad": c.styles.Error, "warn": c.styles.Warn}[st.tone]
	if st.tone == "info" || st.tone == "" {
		style = c.styles.Note
	}
	width := max(c.width, 20)
	lines := strings.Split(ansi.Wrap(st.text, width, ""), "\n")
	if len(lines) > 3 {
		lines = append(lines[:2], truncate(strings.Join(lines[2:], " "), width))
	}
	for i, l := range lines {
		lines[i] = style.Render(strings.TrimRight(l, " "))
	}
	return strings.Join(lines, "\n")
}

// busyView is the spinner and what is in flight.
func (c *common) busyView(what string) string { return c.spin.View() + " " + what + "…" }

// wrap word-wraps text to width (at least 10), trailing spaces trimmed.
func wrap(text string, width int) []string {
	lines := strings.Split(ansi.Wrap(text, max(width, 10), ""), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " ")
	}
	return lines
}

func truncate(s string, width int) string { return ansi.Truncate(s, width, "…") }

// acting says on whose behalf the client's next requests go out, and why:
// the client's event callback stamps each event with it, so the timeline
// can say "attacker" and "because you pressed r". Commands set it before
// they call the client; one exchange runs at a time.
type acting struct{ v atomic.Pointer[cause] }

type cause struct {
	actor string // "client" (you) or "attacker"
	why   string // the reason for an asked-for refresh, in words
}

func (a *acting) set(actor, why string) { a.v.Store(&cause{actor: actor, why: why}) }

func (a *acting) get() cause {
	if c := a.v.Load(); c != nil {
		return *c
	}
	return cause{actor: "client"}
}
