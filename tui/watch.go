package tui

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/tokenlab/tokenlab/mockserver"
	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// watchModel is the watch screen (tokenlab tui --server URL --watch ID):
// the refresh-token families of one OAuth client's sessions on a tokenlab
// server and the timeline of that client's server events, read live
// through the admin API (GET /admin/events?client=ID, /admin/sessions),
// so a developer sees their own app's tokens rotate and die. The clock
// keys move the server's clock as on the dashboard. Nothing here logs in.
type watchModel struct {
	c         *common
	clientID  string
	entries   []entry
	lastEvent int64
	families  []familyView // the client's, newest first
	loading   bool
	polled    bool // one answer came
	err       string
	status    status
}

// watchMsg is one poll's answer.
type watchMsg struct {
	events   []auth.Event
	families []familyView
	err      error
}

func newWatchModel(c *common) watchModel { return watchModel{c: c, clientID: c.opts.Watch} }

// watchFamilies is how many of the client's newest families the screen
// keeps; watchSessionsPage how many sessions one poll reads to find them.
const (
	watchFamilies     = 20
	watchSessionsPage = 500
)

func (a *adminAPI) clientEvents(ctx context.Context, clientID string, after int64) ([]auth.Event, error) {
	var body struct{ Events []auth.Event }
	err := a.get(ctx, fmt.Sprintf("/admin/events?client=%s&after=%d&limit=%d", url.QueryEscape(clientID), after, eventPage), &body)
	return body.Events, err
}

// clientFamilies is the newest sessions' families of one client.
func (a *adminAPI) clientFamilies(ctx context.Context, clientID string) ([]familyView, error) {
	var body struct{ Sessions []familyView }
	if err := a.get(ctx, fmt.Sprintf("/admin/sessions?limit=%d&tokens=%d", watchSessionsPage, familyTokens), &body); err != nil {
		return nil, err
	}
	var out []familyView
	for _, f := range body.Sessions {
		if f.ClientID == clientID && len(out) < watchFamilies {
			out = append(out, f)
		}
	}
	return out, nil
}

func watchCmd(ctx context.Context, a *adminAPI, clientID string, after int64) tea.Cmd {
	return func() tea.Msg {
		evs, err := a.clientEvents(ctx, clientID, after)
		if err != nil {
			return watchMsg{err: err}
		}
		fams, err := a.clientFamilies(ctx, clientID)
		return watchMsg{events: evs, families: fams, err: err}
	}
}

// poll reads what is new; nil while a read is in flight.
func (w *watchModel) poll() tea.Cmd {
	if w.c.admin == nil || w.loading {
		return nil
	}
	w.loading = true
	return watchCmd(w.c.ctx, w.c.admin, w.clientID, w.lastEvent)
}

func (w watchModel) update(msg tea.Msg) (watchModel, tea.Cmd) {
	switch msg := msg.(type) {
	case watchMsg:
		w.loading, w.polled = false, true
		if msg.err != nil {
			w.err = "The server's admin API did not answer: " + sentence(msg.err)
			return w, nil
		}
		w.err, w.families = "", msg.families
		for _, e := range msg.events {
			if e.ID > w.lastEvent {
				w.entries = append(w.entries, serverEntry(e))
				w.lastEvent = e.ID
			}
		}
		if n := len(w.entries); n > 1000 {
			w.entries = w.entries[n-1000:]
		}
		if len(msg.events) == eventPage { // more wait: read on at once
			return w, w.poll()
		}
		return w, nil
	case clockMovedMsg:
		if msg.err != nil {
			w.status = status{"bad", sentence(msg.err)}
			return w, nil
		}
		w.c.now = msg.now
		w.status = status{"info", "The server's clock moved " + mockserver.FormatDuration(msg.by) + " forward: its tokens aged with it."}
		return w, w.poll()
	case tea.KeyPressMsg:
		return w.key(msg)
	}
	return w, nil
}

func (w watchModel) key(k tea.KeyPressMsg) (watchModel, tea.Cmd) {
	keys := w.c.keys
	r, ok := w.c.opts.Clock.(*remoteClock)
	for _, move := range []struct {
		b  key.Binding
		by time.Duration
	}{{keys.ForwardMinute, time.Minute}, {keys.Forward, moveAccess}, {keys.ForwardDay, moveDay}, {keys.ForwardWeek, moveWeek}} {
		if key.Matches(k, move.b) && ok {
			return w, remoteAdvanceCmd(w.c.ctx, r, move.by)
		}
	}
	if key.Matches(k, keys.Help) {
		return w, show(screenHelp)
	}
	return w, nil
}

// view: the header, the client's families, the timeline's newest rows.
func (w watchModel) view() string {
	s := w.c.styles
	width := max(w.c.width, 20)
	head := s.Title.Render("tokenlab") + " " + s.Subtle.Render("· watching client "+w.clientID+" · clock "+
		w.c.now.In(w.c.opts.Location).Format("Jan 02 15:04:05 MST"))
	lines := []string{truncate(head, width), ""}
	lines = append(lines, s.Title.Render(fmt.Sprintf("Families of %s's sessions", w.clientID)))
	switch {
	case !w.polled:
		lines = append(lines, s.Subtle.Render("Reading the server…"))
	case len(w.families) == 0:
		lines = append(lines, s.Subtle.Render(truncate("None yet: log in with this client (your app) and its sessions appear here.", width)))
	}
	famRoom := max(3, (w.c.height-8)/3)
	for i, f := range w.families {
		if i == famRoom {
			lines = append(lines, s.Subtle.Render(fmt.Sprintf("  … and %d older", len(w.families)-famRoom)))
			break
		}
		lines = append(lines, familyLineOf(w.c, f, width))
	}
	lines = append(lines, "", s.Title.Render("Timeline")+s.Subtle.Render(" · the server's events for this client"))
	st := w.c.statusView(w.status)
	if w.err != "" {
		st = w.c.statusView(status{"warn", w.err})
	}
	k := w.c.keys
	footer := w.c.footer([]key.Binding{named(k.ForwardMinute, "+1m"), named(k.Forward, "+16m"), named(k.ForwardDay, "+1d"),
		named(k.ForwardWeek, "+8d"), named(k.Help, "keys"), k.Quit})
	room := w.c.height - len(lines) - strings.Count(st, "\n") - 2
	var rows []string
	for i := len(w.entries) - 1; i >= 0 && len(rows) < room; i-- {
		rows = append(entryLines(w.entries[i], s, width, w.c.opts.Location), rows...)
	}
	if len(w.entries) == 0 && w.polled {
		rows = []string{s.Subtle.Render("No events of this client yet.")}
	}
	rows = rows[max(len(rows)-max(room, 0), 0):]
	lines = append(lines, rows...)
	return strings.Join(lines, "\n") + "\n" + st + "\n" + footer
}

// familyLineOf is a family in one line: who, its state, and each token
// from the login on as the server answered.
func familyLineOf(c *common, fam familyView, width int) string {
	st := c.styles
	f := familyModel{c: c}
	var chain []string
	for _, t := range slices.Backward(fam.Tokens) {
		g, style := f.stateLook(t.State)
		chain = append(chain, style.Render(g))
	}
	state := fam.State
	if fam.RevokeReason != "" {
		state += " (" + fam.RevokeReason + ")"
	}
	glyphs := strings.Join(chain, st.Subtle.Render("→"))
	head := fmt.Sprintf("family %s %s · %d token%s · ", short(fam.ID), fam.Username, fam.TokenCount, plural(fam.TokenCount))
	return firstFit(width, st.Label.Render(head)+st.Value.Render(state)+"  "+glyphs,
		st.Label.Render(fmt.Sprintf("family %s · ", short(fam.ID)))+st.Value.Render(state)+"  "+glyphs,
		st.Label.Render("family ")+st.Value.Render(state))
}
