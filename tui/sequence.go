package tui

import (
	"charm.land/bubbles/v2/key"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/internal/termtext"
)

// sequenceLines draws a login's steps as a sequence diagram in text: the
// client, the authorization server and the API as lifelines, each HTTP
// exchange as an arrow there and back, the browser's part as dashed
// arrows and the client's own steps as notes. It is drawn from the
// client's events as they come, so it fills in while the flow runs.
func sequenceLines(steps []entry, p client.Profile, width int, s Styles) []string {
	width = max(width, 40)
	cols := [3]int{2, width / 2, width - 3}
	names := [3]string{"client", "authorization server", "API"}
	head := []rune(strings.Repeat(" ", width))
	for i, n := range names {
		start := max(min(cols[i]-len(n)/2, width-len(n)), 0)
		copy(head[start:], []rune(n))
	}
	lines := []string{s.Title.Render(strings.TrimRight(string(head), " ")), lifelines(cols, width)}
	protected := p.Paths.Protected
	if protected == "" {
		protected = "/protected"
	}
	for _, e := range steps {
		if x := e.Exchange; x != nil {
			to := 1
			if pathOf(x.URL) == protected {
				to = 2
			}
			lines = append(lines,
				s.Info.Render(arrow(cols, width, 0, to, termtext.Escape(x.Method+" "+pathOf(x.URL)), false)),
				answerStyle(s, x.Status).Render(arrow(cols, width, to, 0, exchangeSummary(x), false)))
			continue
		}
		switch e.What {
		case "waiting for browser":
			lines = append(lines, s.Subtle.Render(arrow(cols, width, 0, 1, "browser: log in, approve", true)))
		case "code received", "browser refused":
			lines = append(lines, s.Subtle.Render(arrow(cols, width, 1, 0, "browser: "+e.What, true)))
		case "device approved", "device denied":
			lines = append(lines, s.Subtle.Render(arrow(cols, width, 1, 1, "user on another device: "+strings.TrimPrefix(e.What, "device "), true)))
		default:
			lines = append(lines, s.Subtle.Render(note(cols, width, e.What)))
		}
	}
	return append(lines, lifelines(cols, width))
}

func answerStyle(s Styles, status int) lipgloss.Style {
	if status >= 400 {
		return s.Bad
	}
	return s.Good
}

func lifelines(cols [3]int, width int) string {
	row := []rune(strings.Repeat(" ", width))
	for _, c := range cols {
		row[c] = '│'
	}
	return strings.TrimRight(string(row), " ")
}

// arrow draws from lifeline a to lifeline b with its label on the shaft;
// a == b is a note on that lifeline.
func arrow(cols [3]int, width, a, b int, label string, dashed bool) string {
	row := []rune(lifelines(cols, width) + strings.Repeat(" ", width))[:width]
	if a == b {
		text := []rune("◆ " + label)
		at := cols[a] + 2
		copy(row[at:min(at+len(text), width)], text)
		return strings.TrimRight(string(row), " ")
	}
	from, to := cols[a], cols[b]
	lo, hi := min(from, to), max(from, to)
	shaft := '─'
	if dashed {
		shaft = '┄'
	}
	for i := lo + 1; i < hi; i++ {
		row[i] = shaft
	}
	if to > from {
		row[hi-1] = '▶'
	} else {
		row[lo+1] = '◀'
	}
	text := []rune(" " + label + " ")
	room := hi - lo - 4
	if len(text) > room {
		text = []rune(truncate(string(text), max(room, 1)))
	}
	start := lo + 2 + max((room-len(text))/2, 0)
	copy(row[start:], text)
	return strings.TrimRight(string(row), " ")
}

// note is one of the client's own steps, beside its lifeline.
func note(cols [3]int, width int, text string) string {
	row := []rune(lifelines(cols, width))
	t := []rune(" " + text)
	room := cols[1] - cols[0] - 2
	if len(t) > room {
		t = []rune(truncate(string(t), room))
	}
	copy(row[cols[0]+1:], t)
	return string(row)
}

// seqSaw adds a login's event to its diagram's steps: the exchanges and
// the flow's own steps (the request events are drawn with their answers).
func seqSaw(seq []entry, e labEvent) []entry {
	if e.Kind == client.EventRequest || e.Kind == client.EventStoreWrite {
		return seq
	}
	en, ok := clientEntry(e, narration{})
	if !ok {
		return seq
	}
	seq = append(seq, en)
	if len(seq) > 60 { // a long device wait polls many times: its newest steps
		seq = seq[len(seq)-60:]
	}
	return seq
}

// seqView is the running flow's sequence diagram on the login screen.
func (l loginModel) seqView() string {
	s := l.c.styles
	k := l.c.keys
	lines := sequenceLines(l.seq, l.c.opts.Profile, l.c.width, s)
	room := max(l.c.height-4, 3)
	if len(lines) > room { // the newest steps; the names stay on top
		lines = append(lines[:1], lines[len(lines)-room+1:]...)
	}
	title := s.Title.Render("Login sequence") + s.Subtle.Render(" · fills in as the flow runs")
	return truncate(title, l.c.width) + "\n\n" + strings.Join(lines, "\n") + "\n\n" +
		l.c.footer([]key.Binding{named(k.Tab, "the flow's screen"), named(k.Back, "cancel"), k.ForceQuit})
}
