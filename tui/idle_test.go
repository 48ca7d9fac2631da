package tui

import (
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
)

// TestTickRearmsOnlyItself: when nothing happens, the once-a-second tick
// is the only command: each tick returns exactly one new tick (no batch,
// no I/O), on every screen, and a tick that brings no new time changes
// nothing on screen.
func TestTickRearmsOnlyItself(t *testing.T) {
	l := newLab(t)
	l.login()
	tickName := cmdName(tick(l.m.c.opts.Clock))
	now := l.e.Clock.Now()

	for _, k := range []string{"", "i", "esc", "?", "esc", "s", "esc", "g", "esc", "L"} { // dashboard, inspector, help, player, family, login
		if k != "" {
			l.key(k)
		}
		before := l.view()
		next, cmd := l.m.Update(tickMsg{now: now})
		l.m = next.(Model)
		if cmd == nil {
			t.Fatalf("screen %d: a tick returned no command: the clock would stop", l.m.screen)
		}
		if got := cmdName(cmd); got != tickName {
			t.Errorf("screen %d: a tick returned %s, want only the next tick (%s)", l.m.screen, got, tickName)
		}
		if after := l.view(); after != before {
			t.Errorf("screen %d: a tick with the same time changed the screen:\n%s\n---\n%s", l.m.screen, before, after)
		}
	}

	// The tick's own command fires once, a second later, with the lab's time.
	start := time.Now()
	msg := tick(l.m.c.opts.Clock)()
	if tm, ok := msg.(tickMsg); !ok || !tm.now.Equal(now) {
		t.Errorf("the tick command returned %#v, want tickMsg{now: %v}", msg, now)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("the tick fired after %v, want about a second", d)
	}
}

// TestTickMovesCountdowns: a tick with a later time redraws the countdowns.
func TestTickMovesCountdowns(t *testing.T) {
	l := newLab(t)
	l.login()
	l.wantView("15m left")
	l.send(tickMsg{now: labStart.Add(5 * time.Minute)})
	l.wantView("10m left", "clock Jan 02 09:05:00")
	l.send(tickMsg{now: labStart.Add(14*time.Minute + 30*time.Second)})
	l.wantCards(StateExpiring, StateValid)
}

// TestSpinnerStopsWhenIdle: the spinner only runs while something is in
// flight; once idle its next frame returns no command, so nothing redraws
// beyond the tick.
func TestSpinnerStopsWhenIdle(t *testing.T) {
	l := newLab(t)
	frame := func() tea.Cmd {
		msg := l.m.c.spin.Tick().(spinner.TickMsg)
		next, cmd := l.m.Update(msg)
		l.m = next.(Model)
		return cmd
	}
	if cmd := frame(); cmd != nil {
		t.Errorf("an idle spinner frame returned %s, want nil", cmdName(cmd))
	}

	l.m.dash.busy = "calling /protected" // as during an exchange
	cmd := frame()
	if cmd == nil || !strings.Contains(cmdName(cmd), ".Tick.func") {
		t.Errorf("a busy spinner frame returned %v, want the next frame", cmd)
	}
	l.m.dash.busy = ""

	// After a whole exchange, the spinner winds down by itself.
	l.login()
	l.key("p")
	if l.m.dash.busy != "" {
		t.Fatalf("still busy after p: %q", l.m.dash.busy)
	}
	if cmd := frame(); cmd != nil {
		t.Errorf("after the exchange a spinner frame returned %s, want nil", cmdName(cmd))
	}

	// The scenario player keeps it going only while a step runs.
	l.key("s", "enter")
	if cmd := frame(); cmd != nil {
		t.Errorf("between steps a spinner frame returned %s, want nil", cmdName(cmd))
	}
}
