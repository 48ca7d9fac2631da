package tui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/mockserver"
)

// Token states shown on the cards.
const (
	StateValid    = "VALID"
	StateExpiring = "EXPIRING"
	StateExpired  = "EXPIRED"
	StateRotated  = "ROTATED"
	StateRevoked  = "REVOKED"
	StateNone     = "NONE"
)

// Clock moves offered by the keys.
const (
	moveAccess = 16 * time.Minute
	moveDay    = 24 * time.Hour
	moveWeek   = 8 * 24 * time.Hour
)

type dashboardModel struct {
	timeline viewport.Model
	follow   bool // keep the newest entry in view
}

func newDashboardModel() dashboardModel {
	vp := viewport.New(viewport.WithWidth(80), viewport.WithHeight(8))
	vp.KeyMap = viewport.KeyMap{} // the dashboard's own keys scroll it
	return dashboardModel{timeline: vp, follow: true}
}

func (d *dashboardModel) resize(width, height int) {
	d.timeline.SetWidth(width)
	d.timeline.SetHeight(max(height, 1))
	if d.follow {
		d.timeline.GotoBottom()
	}
}

func (d *dashboardModel) setEntries(es []entry, s Styles) {
	var lines []string
	day := ""
	for _, e := range es {
		// A line with the date whenever the day changes: the clock keys
		// jump days, and 09:00 then 09:00 would read as no time at all.
		if date := e.At.Format("Mon Jan 02 2006"); date != day {
			day = date
			lines = append(lines, s.Subtle.Render(truncate("── "+date+" ──", max(d.timeline.Width(), 1))))
		}
		lines = append(lines, entryLines(e, s, d.timeline.Width())...)
	}
	d.timeline.SetContentLines(lines)
	if d.follow {
		d.timeline.GotoBottom()
	}
}

// entryLines renders one timeline entry: time, source and what, then the
// why, wrapped under its own column so no narration is cut.
func entryLines(e entry, s Styles, width int) []string {
	tone := map[string]lipgloss.Style{"good": s.Good, "warn": s.Warn, "bad": s.Bad}[e.Tone]
	if e.Tone == "info" || e.Tone == "" {
		tone = s.Info
	}
	prefix := s.Subtle.Render(e.At.Format("15:04:05")) + " " + s.Label.Render(fmt.Sprintf("%-6s", e.Source)) + " " +
		tone.Render(fmt.Sprintf("%-19s", truncate(e.What, 19))) + " "
	indent := lipgloss.Width(prefix)
	room := width - indent
	if room < 20 { // too narrow for a column: the why goes on its own lines
		return append([]string{truncate(prefix, width)}, strings.Split(lipgloss.NewStyle().Width(max(width-2, 1)).Render(e.Why), "\n")...)
	}
	why := strings.Split(lipgloss.NewStyle().Width(room).Render(e.Why), "\n")
	lines := []string{prefix + s.Value.Render(strings.TrimRight(why[0], " "))}
	for _, w := range why[1:] {
		lines = append(lines, strings.Repeat(" ", indent)+s.Value.Render(strings.TrimRight(w, " ")))
	}
	return lines
}

// timelineHeight is what is left of the window for the timeline.
func (m Model) timelineHeight() int {
	return m.height - 1 /* header */ - cardHeight - 1 /* title */ - 1 /* status */ - 1 /* help */
}

const cardHeight = 8 // 6 lines and the border

func (m Model) updateDashboard(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case actionDoneMsg:
		return m.actionDone(msg)
	case attackDoneMsg:
		return m.attackDone(msg)
	case clockMovedMsg:
		m.busy = ""
		if msg.err != nil {
			m.setStatus("bad", sentence(msg.err))
			return m, nil
		}
		m.now = msg.now
		m.addEntries(entry{At: msg.now, Source: "lab", What: "clock +" + mockserver.FormatDuration(msg.by), Tone: "warn",
			Why: "Time jumped forward; the cards show what that did to each token."})
		m.setStatus("info", "The clock moved "+mockserver.FormatDuration(msg.by)+" forward.")
		return m, m.serverEvents()
	case tea.KeyPressMsg:
		return m.dashboardKey(msg)
	}
	return m, nil
}

func (m Model) dashboardKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch {
	case key.Matches(k, m.keys.Help):
		m.back, m.screen = m.screen, screenHelp
		return m, nil
	case key.Matches(k, m.keys.Inspect):
		m.insp = newInspectorModel(m.session, m.width, m.height-4)
		m.back, m.screen = m.screen, screenInspector
		return m, nil
	case key.Matches(k, m.keys.Scenarios):
		m.screen = screenPlayer
		return m, nil
	case key.Matches(k, m.keys.Login):
		m.screen = screenLogin
		return m, m.login.focus()
	case key.Matches(k, m.keys.Up):
		m.dash.follow = false
		m.dash.timeline.ScrollUp(1)
		return m, nil
	case key.Matches(k, m.keys.Down):
		m.dash.timeline.ScrollDown(1)
		m.dash.follow = m.dash.timeline.AtBottom()
		return m, nil
	case key.Matches(k, m.keys.Forward), key.Matches(k, m.keys.ForwardDay), key.Matches(k, m.keys.ForwardWeek):
		if m.opts.Embedded == nil {
			m.setStatus("warn", "The clock keys move the embedded server's clock; "+m.opts.Server+" keeps its own time.")
			return m, nil
		}
		d := map[string]time.Duration{"f": moveAccess, "d": moveDay, "w": moveWeek}[k.String()]
		return m, advanceCmd(m.opts.Embedded.Clock, d)
	}
	if m.busy != "" {
		return m, nil // one exchange at a time keeps the timeline readable
	}
	if m.client == nil || m.ended != endNone {
		for _, b := range []key.Binding{m.keys.Protected, m.keys.Refresh, m.keys.Attack, m.keys.Logout} {
			if key.Matches(k, b) {
				m.setStatus("warn", "No session: press L to log in.")
			}
		}
		return m, nil
	}
	switch {
	case key.Matches(k, m.keys.Protected):
		url := m.client.Server() + m.protectedPath()
		m, spin := m.startBusy("calling " + m.protectedPath())
		return m, tea.Batch(spin, callCmd(m.ctx, m.client, url))
	case key.Matches(k, m.keys.Refresh):
		m, spin := m.startBusy("refreshing")
		return m, tea.Batch(spin, refreshCmd(m.ctx, m.client))
	case key.Matches(k, m.keys.Logout):
		m, spin := m.startBusy("logging out")
		return m, tea.Batch(spin, logoutCmd(m.ctx, m.client))
	case key.Matches(k, m.keys.Attack):
		stolen, what := m.prevRefresh, "the spent refresh token from before the last rotation"
		if stolen == "" {
			stolen, what = m.session.RefreshToken, "the current refresh token, before its owner uses it"
		}
		m.addEntries(entry{At: m.now, Source: "lab", What: "attacker replay", Tone: "bad",
			Why: "An attacker sends " + what + "."})
		m, spin := m.startBusy("attacker replaying")
		return m, tea.Batch(spin, attackCmd(m.ctx, m.client, stolen))
	}
	return m, nil
}

func (m Model) protectedPath() string {
	if p := m.opts.Profile.Paths.Protected; p != "" {
		return p
	}
	return "/protected"
}

// adopt takes the client's session after an exchange, noting a rotation.
func (m *Model) adopt(s client.Session) {
	if s.RefreshToken == "" {
		return
	}
	if m.session.RefreshToken != "" && s.RefreshToken != m.session.RefreshToken {
		m.prevRefresh = m.session.RefreshToken
	}
	m.session = s
}

func (m Model) actionDone(msg actionDoneMsg) (tea.Model, tea.Cmd) {
	m.busy = ""
	switch {
	case errors.Is(msg.err, client.ErrLoginRequired):
		m.endSession(endOf(msg.err))
		m.setStatus("bad", sentence(msg.err))
	case msg.what == "logout" && msg.err != nil:
		m.endSession(endLogout) // the server revoked the session, or this client forgot it: either way it is over
		m.setStatus("bad", sentence(msg.err))
	case msg.err != nil:
		m.setStatus("bad", sentence(msg.err))
	case msg.what == "logout":
		m.endSession(endLogout)
		m.setStatus("info", "Logged out: the refresh token is revoked on the server; the access card says what the API does with the access token. Press L to log in again.")
	default:
		m.adopt(msg.session)
		text := msg.what + " done."
		if msg.status != 0 {
			text = fmt.Sprintf("%s → %d.", msg.what, msg.status)
		}
		m.setStatus(map[bool]string{true: "good", false: "bad"}[msg.status < 400], text)
	}
	return m, m.serverEvents()
}

func (m Model) attackDone(msg attackDoneMsg) (tea.Model, tea.Cmd) {
	m.busy = ""
	var ae *client.APIError
	switch {
	case msg.replayErr == nil:
		m.setStatus("warn", "The server accepted the attacker's token: a spent token was inside the grace window, or the token was still unused.")
	case errors.As(msg.replayErr, &ae):
		m.setStatus("bad", "The server refused the replay ("+ae.Code+").")
	default:
		m.setStatus("bad", sentence(msg.replayErr))
	}
	if errors.Is(msg.refreshErr, client.ErrLoginRequired) {
		m.endSession(endRevoked)
		m.setStatus("bad", "Reuse detected: the whole family is revoked, the attacker's copy and yours. Press L to log in again.")
	} else if msg.refreshErr == nil {
		m.adopt(msg.session)
	}
	return m, m.serverEvents()
}

func (m Model) dashboardView() string {
	s := m.styles
	header := m.header()
	half := max((m.width-1)/2, 20)
	access := m.card("ACCESS TOKEN", m.session.AccessToken, m.accessState(), m.accessFate(), half)
	refresh := m.card("REFRESH TOKEN", m.session.RefreshToken, m.refreshState(), "", m.width-half-1)
	cards := lipgloss.JoinHorizontal(lipgloss.Top, access, " ", refresh)
	title := s.Label.Render("Timeline") + s.Subtle.Render("  (↑/↓ scroll)")
	status := m.statusLine()
	if m.busy != "" {
		status = m.spin.View() + " " + m.busy + "…"
	}
	timeline := m.dash.timeline // a copy: a long status takes its lines from the timeline
	if extra := lipgloss.Height(status) - 1; extra > 0 {
		timeline.SetHeight(max(timeline.Height()-extra, 1))
		if m.dash.follow {
			timeline.GotoBottom()
		}
	}
	return strings.Join([]string{truncate(header, m.width), cards, title, timeline.View(), status,
		m.footer(dashboardHelp{m.keys}.ShortHelp())}, "\n")
}

// header names the lab, who is logged in where, and the lab's clock; when
// narrow it drops the server and profile first, the clock last.
func (m Model) header() string {
	s := m.styles
	clock := "clock " + m.now.Format("Jan 02 15:04:05")
	who := []string{"not logged in"}
	if m.client != nil {
		who = []string{m.session.Username + " @ " + strings.TrimPrefix(m.client.Server(), "http://") + " (" + m.opts.Profile.Name + ")",
			m.session.Username}
	}
	for _, w := range append(who, "") {
		text := "· " + w + " · " + clock
		if w == "" {
			text = "· " + clock
		}
		if line := s.Title.Render("tokenlab") + " " + s.Subtle.Render(text); lipgloss.Width(line) <= m.width {
			return line
		}
	}
	return truncate(s.Title.Render("tokenlab")+" "+s.Subtle.Render(clock), m.width)
}

func (m Model) accessState() string {
	if m.ended != endNone && m.ended != endExpired && m.policy.accessDenylist {
		return StateRevoked // the API checks the session on every call
	}
	// Otherwise a JWT access token is stateless: the API checks only its
	// signature and exp, so it lives on after the session ends.
	return tokenState(m.session.AccessToken, m.now, false, false, time.Minute)
}

func (m Model) refreshState() string {
	switch {
	case m.ended == endExpired:
		return StateExpired
	case m.ended != endNone:
		return StateRevoked
	}
	return tokenState(m.session.RefreshToken, m.now, false, m.prevRefresh != "", time.Hour)
}

// accessFate says, once the session ended, what the API will do with the
// access token still in hand; "" while the session lives.
func (m Model) accessFate() string {
	exp := expiry(m.session.AccessToken)
	switch {
	case m.ended == endNone || m.session.AccessToken == "":
		return ""
	case !exp.IsZero() && !m.now.Before(exp):
		return "refused: past its exp"
	case m.ended != endExpired && m.policy.accessDenylist:
		return "refused (denylist)"
	case m.policy.known:
		return "still accepted until exp (stateless)"
	}
	return "may be accepted until exp (stateless APIs do)"
}

// tokenState judges a token at now. soon is how close to exp counts as
// expiring.
func tokenState(tok string, now time.Time, revoked, rotated bool, soon time.Duration) string {
	if tok == "" {
		return StateNone
	}
	if revoked {
		return StateRevoked
	}
	exp := expiry(tok)
	switch {
	case !exp.IsZero() && !now.Before(exp):
		return StateExpired
	case !exp.IsZero() && exp.Sub(now) <= soon:
		return StateExpiring
	case rotated:
		return StateRotated
	}
	return StateValid
}

func expiry(tok string) time.Time {
	d, err := client.Decode(tok)
	if err != nil {
		return time.Time{}
	}
	return d.Expiry()
}

// card renders one token: claims, a lifetime bar and where it is kept.
// note, when set, is the card's last line: what the API will do with it.
func (m Model) card(title, tok, state, note string, width int) string {
	s := m.styles
	inner := max(width-4, 10)
	lines := []string{s.Title.Render(title) + "  " + s.Badge(state)}
	d, err := client.Decode(tok)
	if tok == "" || err != nil {
		lines = append(lines, s.Subtle.Render("no token: press L to log in"))
	} else {
		lines = append(lines, m.cardClaims(d, inner)...)
	}
	if note != "" { // after the session: what the API does replaces how it is kept
		lines = lines[:min(len(lines), cardHeight-4)]
		for _, l := range strings.Split(ansi.Wordwrap(note, inner, ""), "\n") {
			lines = append(lines, s.Warn.Render(l))
		}
	}
	for len(lines) < cardHeight-2 {
		lines = append(lines, "")
	}
	box := s.Card
	if state == StateExpired || state == StateRevoked {
		box = box.BorderForeground(lipgloss.NoColor{})
	}
	for i, l := range lines {
		lines[i] = truncate(l, inner)
	}
	return box.Width(width).Render(strings.Join(lines[:cardHeight-2], "\n"))
}

func (m Model) cardClaims(d client.Decoded, inner int) []string {
	s := m.styles
	str := func(k string) string { v, _ := d.Claims[k].(string); return v }
	var iat, exp time.Time
	for _, t := range d.Times(m.now) {
		switch t.Claim {
		case "iat":
			iat = t.At
		case "exp":
			exp = t.At
		}
	}
	id := "sub " + str("sub")
	if u := str("username"); u != "" {
		id += " · " + u
	}
	if f := str("fid"); f != "" {
		id += " · family " + short(f)
	}
	left := "—"
	if !exp.IsZero() {
		left = "expired " + client.HumanDuration(m.now.Sub(exp)) + " ago"
		if m.now.Before(exp) {
			left = client.HumanDuration(exp.Sub(m.now)) + " left"
		}
	}
	return []string{
		s.Label.Render(id) + s.Subtle.Render(" · jti "+short(str("jti"))),
		m.cardTimes(iat, exp, inner),
		m.bar(iat, exp, inner-lipgloss.Width(left)-1) + " " + s.Value.Render(left),
		s.Subtle.Render(d.Typ() + " · " + d.Alg() + " · kept in " + client.StoreName(m.opts.Store)),
	}
}

// cardTimes shows when a token was issued and when it expires; when both
// do not fit, the expiry alone, never cut.
func (m Model) cardTimes(iat, exp time.Time, inner int) string {
	s := m.styles
	expires := s.Label.Render("expires ") + s.Value.Render(stamp(exp, m.now))
	if both := s.Label.Render("issued ") + s.Value.Render(stamp(iat, m.now)) + "  " + expires; lipgloss.Width(both) <= inner {
		return both
	}
	return expires
}

// bar drains from full at iat to empty at exp.
func (m Model) bar(iat, exp time.Time, width int) string {
	width = max(width, 4)
	frac := 0.0
	if total := exp.Sub(iat); total > 0 && m.now.Before(exp) {
		frac = float64(exp.Sub(m.now)) / float64(total)
	}
	full := int(frac*float64(width) + 0.5)
	full = min(max(full, 0), width)
	return m.styles.BarFull.Render(strings.Repeat("█", full)) + m.styles.BarEmpty.Render(strings.Repeat("░", width-full))
}

// stamp shows a time briefly: the clock time today, the date otherwise.
func stamp(t, now time.Time) string {
	if t.IsZero() {
		return "—"
	}
	if t.Format("2006-01-02") == now.Format("2006-01-02") {
		return t.Format("15:04:05")
	}
	return t.Format("Jan 02 15:04")
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8] + "…"
	}
	return id
}
