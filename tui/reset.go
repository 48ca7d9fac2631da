package tui

import (
	"context"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/mockserver"
)

// ctrl+r resets the lab for the next class: the embedded server starts
// again on a new database (Options.Reset), the session kept for it is
// removed, and the lab opens on a fresh login screen. The first ctrl+r
// asks; the second, at once after it, resets.

// resetDoneMsg is the new embedded server, or why there is none.
type resetDoneMsg struct {
	e   *mockserver.Embedded
	err error
}

// resetCmd removes the session kept for the old server (of no further
// use: the new one knows none of its tokens), then resets the server.
func resetCmd(ctx context.Context, reset func(context.Context) (*mockserver.Embedded, error), st client.Store, key string) tea.Cmd {
	return func() tea.Msg {
		if key != "" {
			delCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			st.Delete(delCtx, key) // best effort: a left-over entry names a server that is gone
			cancel()
		}
		e, err := reset(ctx)
		return resetDoneMsg{e: e, err: err}
	}
}

// resetKey handles ctrl+r; ok is false for any other key (which also
// withdraws a reset that was asked for).
func (m Model) resetKey(k tea.KeyPressMsg) (Model, tea.Cmd, bool) {
	if !key.Matches(k, m.c.keys.Reset) {
		m.resetAsked = false
		return m, nil, false
	}
	if m.c.opts.Reset == nil || m.c.opts.Embedded == nil {
		m.dash.status = status{"warn", "ctrl+r resets the embedded lab only; " + m.c.opts.Server + " is not the lab's to wipe."}
		return m, nil, true
	}
	if !m.resetAsked {
		m.resetAsked = true
		text := "Press ctrl+r again to reset the lab: a new database, every session and event gone, a fresh login screen."
		m.dash.status, m.login.status = status{"warn", text}, status{"warn", text}
		return m, nil, true
	}
	m.resetAsked = false
	if m.login.cancel != nil {
		m.login.cancel() // a browser or device login of the old server
	}
	if m.player.play != nil {
		m.player.play.Close()
		m.player.play = nil
	}
	stored := ""
	if m.dash.client != nil {
		stored = m.dash.client.Key()
	}
	m.dash.busy = "resetting the lab"
	return m, resetCmd(m.c.ctx, m.c.opts.Reset, m.c.opts.Store, stored), true
}

// resetDone starts the lab again on the new server, keeping the window's
// size and the choices remembered.
func (m Model) resetDone(msg resetDoneMsg) (Model, tea.Cmd) {
	if msg.err != nil {
		m.dash.busy = ""
		m.dash.status = status{"bad", "The lab could not be reset: " + sentence(msg.err)}
		return m, nil
	}
	opts := m.c.opts
	if opts.Clock == Clock(opts.Embedded.Clock) {
		opts.Clock = msg.e.Clock
	}
	opts.Embedded = msg.e
	why := m.dash.why
	fresh := New(m.c.ctx, opts)
	fresh.c.width, fresh.c.height, fresh.c.styles = m.c.width, m.c.height, m.c.styles
	fresh.c.help = m.c.help
	fresh.dash.why, fresh.firstRun = why, false
	fresh.login = fresh.login.restyle().resize()
	fresh.dash = fresh.dash.resize()
	fresh.login.status = status{"good", "The lab was reset: a new database at " + msg.e.URL + ". Log in to start again."}
	return fresh, fresh.Init()
}
