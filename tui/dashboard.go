package tui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/mockserver"
)

// Clock moves offered by the keys.
const (
	moveAccess = 16 * time.Minute
	moveDay    = 24 * time.Hour
	moveWeek   = 8 * 24 * time.Hour
)

// dashboardModel is the dashboard: it owns the session (the client and
// its tokens), the server's policy as last read, and the timeline of what
// happened to them.
type dashboardModel struct {
	c *common

	// The session and what happened to it.
	client      *client.Client
	session     client.Session
	prevRefresh string     // the refresh token before the last rotation: the attacker's copy
	ended       sessionEnd // how the session ended; "" while it lives
	kept        kept       // where the tokens are now (the store, or forgotten)
	policy      policy     // the server's, read with its events

	// The timeline: client and server events in time order.
	entries      []entry
	timeline     viewport.Model
	follow       bool    // keep the newest entry in view
	unseen       int     // rows added since the reader scrolled up (scroll.go)
	eventsReady  bool    // lastEvent is known: this launch's events come after it
	lastEvent    int64   // last server event shown
	eventsFailed bool    // the last read of server events failed
	pending      []entry // lab rows waiting for the server's events of their action (order.go)
	rowStart     []int   // each entry's first line in the timeline, for the request view

	why bool // "why two tokens" is shown under the cards
	// onStage: the cards of a playing scenario (stage.go), whose client
	// the learner's keys do not drive.
	onStage bool

	busy   string
	status status
}

func newDashboardModel(c *common) dashboardModel {
	vp := viewport.New(viewport.WithWidth(80), viewport.WithHeight(8))
	vp.KeyMap = viewport.KeyMap{} // the dashboard's own keys scroll it
	return dashboardModel{c: c, timeline: vp, follow: true}
}

// live reports whether a session is in hand.
func (d dashboardModel) live() bool { return d.client != nil && d.ended == endNone }

// resize re-lays out the timeline for the window (and new styles).
func (d dashboardModel) resize() dashboardModel {
	d.timeline.SetWidth(d.c.width)
	d.timeline.SetHeight(max(d.timelineHeight(), 1))
	d.render()
	return d
}

// timelineHeight is what is left of the window for the timeline.
func (d dashboardModel) timelineHeight() int {
	return d.c.height - 1 /* header */ - cardHeight - 1 /* title */ - 1 /* status */ - 1 /* help */ - d.whyHeight()
}

func (d dashboardModel) whyHeight() int {
	if w := d.why2(); w != "" {
		return lipgloss.Height(w)
	}
	return 0
}

// minTimeline is the fewest timeline lines the explanation leaves; below
// it the explanation takes its compact form, so at 80×24 the last
// action's rows stay on screen.
const minTimeline = 10

// why2 is the "why two tokens" explanation as it fits now, "" when hidden.
func (d dashboardModel) why2() string {
	if !d.why {
		return ""
	}
	base := d.c.height - 1 - cardHeight - 1 - 1 - 1
	full := d.whyView(d.c.width, false)
	if base-lipgloss.Height(full) >= minTimeline {
		return full
	}
	return d.whyView(d.c.width, true)
}

// addEntries adds to the timeline in time order (client and server events
// arrive separately) and keeps the view at its end.
func (d *dashboardModel) addEntries(es ...entry) {
	if !d.follow {
		d.unseen += len(es)
	}
	for _, e := range es {
		i := len(d.entries)
		for i > 0 && d.entries[i-1].At.After(e.At) {
			i--
		}
		d.entries = slices.Insert(d.entries, i, e)
	}
	if n := len(d.entries); n > 1000 {
		d.entries = d.entries[n-1000:]
	}
	d.render()
}

// render wraps every entry to the timeline's width.
func (d *dashboardModel) render() {
	s := d.c.styles
	var lines []string
	day := ""
	d.rowStart = d.rowStart[:0]
	for _, e := range d.entries {
		// A line with the date whenever the day changes: the clock keys
		// jump days, and 09:00 then 09:00 would read as no time at all.
		if date := e.At.In(d.c.opts.Location).Format("Mon Jan 02 2006"); date != day {
			day = date
			lines = append(lines, s.Subtle.Render(truncate("── "+date+" ──", max(d.timeline.Width(), 1))))
		}
		d.rowStart = append(d.rowStart, len(lines))
		lines = append(lines, entryLines(e, s, d.timeline.Width(), d.c.opts.Location)...)
	}
	d.timeline.SetContentLines(lines)
	if d.follow {
		d.timeline.GotoBottom()
	}
}

// entryLines renders one timeline entry: time, source and what, then the
// why, wrapped under its own column so no narration is cut.
func entryLines(e entry, s Styles, width int, loc *time.Location) []string {
	tone := map[string]lipgloss.Style{"good": s.Good, "warn": s.Warn, "bad": s.Bad}[e.Tone]
	if e.Tone == "info" || e.Tone == "" {
		tone = s.Info
	}
	prefix := s.Subtle.Render(e.At.In(loc).Format("15:04:05")) + " " + s.Label.Render(fmt.Sprintf("%-8s", e.Source)) + " " +
		tone.Render(fmt.Sprintf("%-19s", truncate(e.What, 19))) + " "
	indent := lipgloss.Width(prefix)
	room := width - indent
	if room < 30 { // too narrow for a readable column: the why goes under the row, across the width
		lines := []string{truncate(prefix, width)}
		for _, w := range strings.Split(lipgloss.NewStyle().Width(max(width-2, 1)).Render(e.Why), "\n") {
			lines = append(lines, "  "+s.Value.Render(strings.TrimRight(w, " ")))
		}
		return lines
	}
	why := strings.Split(lipgloss.NewStyle().Width(room).Render(e.Why), "\n")
	lines := []string{prefix + s.Value.Render(strings.TrimRight(why[0], " "))}
	for _, w := range why[1:] {
		lines = append(lines, strings.Repeat(" ", indent)+s.Value.Render(strings.TrimRight(w, " ")))
	}
	return lines
}

// serverEvents fetches the server's new events (and policy).
func (d dashboardModel) serverEvents() tea.Cmd {
	if d.c.admin == nil || !d.eventsReady {
		return nil
	}
	return serverEventsCmd(d.c.ctx, d.c.admin, d.lastEvent)
}

func (d dashboardModel) update(msg tea.Msg) (dashboardModel, tea.Cmd) {
	switch msg := msg.(type) {
	case eventsBaselineMsg:
		if msg.err != nil {
			d.appendNow(entry{At: d.c.now, Source: "lab", What: "no server events", Tone: "warn",
				Why: "The embedded server's events could not be read: " + sentence(msg.err)})
			return d, nil
		}
		d.lastEvent, d.policy, d.eventsReady = msg.last, msg.policy, true
		return d, nil
	case clientEventMsg:
		if en, ok := clientEntry(labEvent(msg), narration{client.StoreName(d.c.opts.Store), d.c.opts.Profile, expiry(d.session.AccessToken)}); ok {
			d.addEntries(en)
		}
		return d, waitEvent(d.c.events)
	case serverEventMsg:
		return d.serverEventsRead(msg), nil
	case actionDoneMsg:
		return d.actionDone(msg)
	case attackDoneMsg:
		return d.attackDone(msg)
	case storeCheckedMsg:
		return d.storeChecked(msg), nil
	case oldAccessMsg:
		return d.oldAccessDone(msg)
	case clockMovedMsg:
		d.busy = ""
		if msg.err != nil {
			d.status = status{"bad", sentence(msg.err)}
			return d, nil
		}
		d.c.now = msg.now
		d.addEntries(entry{At: msg.now, Source: "lab", What: "clock +" + mockserver.FormatDuration(msg.by), Tone: "warn",
			Why: "Time jumped forward; the cards show what that did to each token."})
		d.status = status{"info", "The clock moved " + mockserver.FormatDuration(msg.by) + " forward."}
		return d, d.serverEvents()
	case tea.KeyPressMsg:
		return d.key(msg)
	}
	return d, nil
}

func (d dashboardModel) serverEventsRead(msg serverEventMsg) dashboardModel {
	if msg.err != nil && !d.eventsFailed { // said once, in the timeline: the status keeps the action's outcome
		d.appendNow(entry{At: d.c.now, Source: "lab", What: "no server events", Tone: "warn",
			Why: "The embedded server's events could not be read: " + sentence(msg.err)})
	}
	d.eventsFailed = msg.err != nil
	if msg.err == nil {
		d.policy = msg.policy
	}
	for _, e := range msg.events {
		if e.ID <= d.lastEvent {
			continue // two fetches overlapped
		}
		d.addEntries(serverEntry(e))
		d.lastEvent = e.ID
	}
	d.flushPending()
	return d
}

func (d dashboardModel) key(k tea.KeyPressMsg) (dashboardModel, tea.Cmd) {
	keys := d.c.keys
	switch {
	case key.Matches(k, keys.Help):
		return d, show(screenHelp)
	case key.Matches(k, keys.Inspect):
		return d, show(screenInspector)
	case key.Matches(k, keys.Scenarios):
		return d, show(screenPlayer)
	case key.Matches(k, keys.Family):
		return d, show(screenFamily)
	case key.Matches(k, keys.Why):
		d.why = !d.why
		d = d.resize()
		return d, savePrefsCmd(d.c.opts.PrefsFile, prefs{WhyTwoTokens: d.why})
	case key.Matches(k, keys.Login):
		return d, show(screenLogin)
	case key.Matches(k, keys.Settings):
		return d, show(screenSettings)
	case key.Matches(k, keys.Request):
		return d, show(screenRequest)
	case key.Matches(k, keys.ForwardMinute):
		return d.moveClock(time.Minute)
	case key.Matches(k, keys.Copy):
		var cmd tea.Cmd
		d.status, cmd = copyToken("access token", d.session.AccessToken)
		return d, cmd
	case key.Matches(k, keys.Up), key.Matches(k, keys.Down), key.Matches(k, keys.PageUp), key.Matches(k, keys.PageDown),
		key.Matches(k, keys.Top), key.Matches(k, keys.Bottom):
		d.scroll(k)
		return d, nil
	case key.Matches(k, keys.Forward):
		return d.moveClock(moveAccess)
	case key.Matches(k, keys.ForwardDay):
		return d.moveClock(moveDay)
	case key.Matches(k, keys.ForwardWeek):
		return d.moveClock(moveWeek)
	}
	if d.busy != "" {
		return d, nil // one exchange at a time keeps the timeline readable
	}
	if !d.live() && key.Matches(k, keys.Protected) {
		return d.sendOldAccess()
	}
	if !d.live() {
		for _, b := range []key.Binding{keys.Refresh, keys.Attack, keys.Logout} {
			if key.Matches(k, b) {
				d.status = status{"warn", "No session: press L to log in."}
			}
		}
		return d, nil
	}
	ctx, acting := d.c.ctx, d.c.acting
	switch {
	case key.Matches(k, keys.Protected):
		return d.start("calling "+d.protectedPath(), callCmd(ctx, acting, d.client, d.client.Server()+d.protectedPath()))
	case key.Matches(k, keys.Refresh):
		return d.start("refreshing", refreshCmd(ctx, acting, d.client))
	case key.Matches(k, keys.Logout):
		return d.start("logging out", logoutCmd(ctx, acting, d.client))
	case key.Matches(k, keys.Attack):
		stolen, what := d.prevRefresh, "the spent refresh token from before the last rotation"
		if stolen == "" {
			stolen, what = d.session.RefreshToken, "the current refresh token, before its owner uses it"
		}
		d.appendNow(entry{At: d.c.now, Source: "attacker", What: "replay", Tone: "bad",
			Why: "An attacker who stole " + what + " sends it to the token endpoint."})
		return d.start("attacker replaying", attackCmd(ctx, acting, d.client, stolen))
	}
	return d, nil
}

// acts reports whether k is one of the keys that act on the session or
// the clock: they work on the family graph too, which shows what they did.
func (d dashboardModel) acts(k tea.KeyPressMsg) bool {
	keys := d.c.keys
	for _, b := range []key.Binding{keys.Protected, keys.Refresh, keys.ForwardMinute, keys.Forward, keys.ForwardDay, keys.ForwardWeek, keys.Attack, keys.Logout} {
		if key.Matches(k, b) {
			return true
		}
	}
	return false
}

// bottomRow is the entry on the timeline's last line in view: the row
// enter opens in the request view.
func (d dashboardModel) bottomRow() int {
	last := d.timeline.YOffset() + d.timeline.Height() - 1
	row := -1
	for i, start := range d.rowStart {
		if start <= last {
			row = i
		}
	}
	return row
}

// statusKey says what statusLine shows, unrendered.
func (d dashboardModel) statusKey() string {
	return d.busy + "\x00" + d.status.tone + "\x00" + d.status.text
}

// drawHint is the attack status's pointer to the family graph: the graph
// leaves it out, being what it points to.
const drawHint = " Press g to see it drawn."

// statusLine is the dashboard's status, or what is in flight; on the
// family graph without the hint to open it.
func (d dashboardModel) statusLine(onGraph bool) string {
	if onGraph && d.busy == "" {
		st := d.status
		st.text = strings.Replace(st.text, drawHint, "", 1)
		return d.c.statusView(st)
	}
	if d.busy != "" {
		return d.c.busyView(d.busy)
	}
	return d.c.statusView(d.status)
}

func (d dashboardModel) start(what string, cmd tea.Cmd) (dashboardModel, tea.Cmd) {
	d.busy = what
	return d, tea.Batch(d.c.spin.Tick, cmd)
}

func (d dashboardModel) moveClock(by time.Duration) (dashboardModel, tea.Cmd) {
	if r, ok := d.c.opts.Clock.(*remoteClock); ok && d.c.opts.Embedded == nil {
		return d, remoteAdvanceCmd(d.c.ctx, r, by)
	}
	if d.c.opts.Embedded == nil {
		d.status = status{"warn", "The clock keys move the embedded server's clock, or a tokenlab server's with --admin-token; " + d.c.opts.Server + " keeps its own time."}
		return d, nil
	}
	return d, advanceCmd(d.c.opts.Embedded.Clock, by)
}

func (d dashboardModel) protectedPath() string {
	if p := d.c.opts.Profile.Paths.Protected; p != "" {
		return p
	}
	return "/protected"
}

// adoptLogin takes a new session: the old one's history stays in the
// timeline, its state goes.
func (d dashboardModel) adoptLogin(msg loginDoneMsg) (dashboardModel, tea.Cmd) {
	d.client, d.c.opts.Profile = msg.client, msg.profile
	d.session, d.prevRefresh, d.ended, d.kept = msg.session, "", endNone, keptInStore
	d.status = status{"good", "Logged in. Press p to call the protected route, f to move the clock, ? for every key."}
	return d, d.serverEvents()
}

// adopt takes the client's session after an exchange, noting a rotation.
func (d *dashboardModel) adopt(s client.Session) {
	if s.RefreshToken == "" {
		return
	}
	if d.session.RefreshToken != "" && s.RefreshToken != d.session.RefreshToken {
		d.prevRefresh = d.session.RefreshToken
	}
	d.session = s
}

func (d dashboardModel) actionDone(msg actionDoneMsg) (dashboardModel, tea.Cmd) {
	d.busy = ""
	switch {
	case errors.Is(msg.err, client.ErrLoginRequired):
		d.endSession(endOf(msg.err))
		d.status = status{"bad", sentence(msg.err)}
	case msg.what == "logout" && msg.err != nil:
		d.endSession(endLogout) // the server revoked the session, or this client forgot it: either way it is over
		d.status = status{"bad", sentence(msg.err)}
	case msg.err != nil:
		d.status = status{"bad", sentence(msg.err)}
	case msg.what == "logout":
		d.endSession(endLogout)
		d.status = status{"info", "Logged out: the refresh token is revoked on the server; the access card says what the API does with the access token. Press L to log in again."}
	default:
		d.adopt(msg.session)
		text := msg.what + " done."
		if msg.status != 0 {
			text = fmt.Sprintf("%s → %d.", msg.what, msg.status)
		}
		d.status = status{map[bool]string{true: "good", false: "bad"}[msg.status < 400], text}
	}
	return d, tea.Batch(d.serverEvents(), d.checkStore())
}

func (d dashboardModel) attackDone(msg attackDoneMsg) (dashboardModel, tea.Cmd) {
	d.busy = ""
	var ae *client.APIError
	switch {
	case msg.replayErr == nil:
		d.status = status{"warn", "The server accepted the attacker's token: a spent token was inside the grace window, or the token was still unused."}
	case errors.As(msg.replayErr, &ae):
		d.status = status{"bad", "The server refused the replay (" + ae.Code + ")."}
	default:
		d.status = status{"bad", sentence(msg.replayErr)}
	}
	if errors.Is(msg.refreshErr, client.ErrLoginRequired) {
		d.endSession(endRevoked)
		d.status = status{"bad", "Reuse detected: the whole family is revoked, the attacker's copy and yours." + drawHint + " Press L to log in again."}
	} else if msg.refreshErr == nil {
		d.adopt(msg.session)
	}
	d.afterServer(d.attackerAccessEntry(msg.replayErr == nil))
	return d, tea.Batch(d.serverEvents(), d.checkStore())
}

// attackerAccessEntry says what becomes of access tokens in the
// attacker's hands: refresh-token revocation does not reach them.
func (d dashboardModel) attackerAccessEntry(gotTokens bool) entry {
	held := "Any access token the attacker stole earlier"
	if gotTokens {
		held = "The access token the attacker just received"
	}
	why := held + " keeps working until it expires: revoking refresh tokens stops only refreshes."
	if d.policy.accessDenylist {
		why = "The API checks a denylist: once the family is revoked, " + strings.ToLower(held[:1]) + held[1:] + " is refused too."
	}
	return entry{At: d.c.now, Source: "lab", What: "attacker's access", Tone: "warn", Why: why}
}

func (d dashboardModel) view() string {
	width := d.c.width
	half := max((width-1)/2, 20)
	access := d.card("ACCESS TOKEN", d.session.AccessToken, d.accessState(), d.accessFate(), half)
	refresh := d.card("REFRESH TOKEN", d.session.RefreshToken, d.refreshState(), "", width-half-1)
	cards := lipgloss.JoinHorizontal(lipgloss.Top, access, " ", refresh)
	title := d.timelineTitle()
	st := d.c.statusView(d.status)
	if d.busy != "" {
		st = d.c.busyView(d.busy)
	}
	timeline := d.timeline // a copy: a long status takes its lines from the timeline
	if extra := lipgloss.Height(st) - 1; extra > 0 {
		timeline.SetHeight(max(timeline.Height()-extra, 1))
		if d.follow {
			timeline.GotoBottom()
		}
	}
	parts := []string{d.header(), cards}
	if why := d.why2(); why != "" {
		parts = append(parts, why)
	}
	return strings.Join(append(parts, title, timeline.View(), st, d.c.footer(d.c.keys.dashboardShort())), "\n")
}

// header names the lab, who is logged in where, and the lab's clock; when
// narrow it drops the server and profile first, the clock last.
func (d dashboardModel) header() string {
	s := d.c.styles
	clock := "clock " + d.c.now.In(d.c.opts.Location).Format("Jan 02 15:04:05 MST") // the zone named: the inspector shows UTC
	who := []string{"not logged in"}
	if d.client != nil {
		who = []string{d.session.Username + " @ " + strings.TrimPrefix(d.client.Server(), "http://") + " (" + d.c.opts.Profile.Name + ")",
			d.session.Username}
	}
	for _, w := range append(who, "") {
		text := "· " + w + " · " + clock
		if w == "" {
			text = "· " + clock
		}
		if line := s.Title.Render("tokenlab") + " " + s.Subtle.Render(text); lipgloss.Width(line) <= d.c.width {
			return line
		}
	}
	return truncate(s.Title.Render("tokenlab")+" "+s.Subtle.Render(clock), d.c.width)
}
