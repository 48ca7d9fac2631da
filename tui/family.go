package tui

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// familyModel draws the current login's refresh-token family as a graph:
// each token, its state, the rotation that made its child, where a spent
// token came back, and how the family ended. It reads the family from the
// embedded server's admin API and reads it again whenever a server event
// touches the family, so the picture follows the keys pressed (the
// dashboard's action keys work here too).
type familyModel struct {
	c       *common
	fid     string // the family in view: the fid claim of the session's refresh token
	fam     familyView
	loaded  bool
	loading bool
	err     string
	// replays are the spent tokens that came back, by jti, from the
	// server's reuse_detected and grace refresh events.
	replays map[string]replayMark
	vp      viewport.Model
	// openedWith is the dashboard's status when the graph opened: shown
	// here only once a key pressed here changed it.
	openedWith string
	// policy is the server's, as the dashboard last read it (set by the
	// root before each view): it decides what the access tokens do now.
	policy policy
}

// accessAfterRevoke says what a revoked family means for the access
// tokens already issued: the family holds only refresh tokens.
func (f familyModel) accessAfterRevoke() string {
	switch {
	case !f.policy.known:
		return "Access tokens already issued may still work until their exp: this API's policy is unknown here."
	case f.policy.accessDenylist:
		return "Its access tokens are refused too: the API checks a denylist of revoked sessions."
	}
	return "Access tokens already issued still work until their exp: the API checks them without the database."
}

// replayMark is a spent token sent again: reuse detected (the family
// died), or inside the grace window (the same successor again).
type replayMark struct {
	at    time.Time
	grace bool
}

type familyMsg struct {
	fid string
	fam familyView
	err error
}

func newFamilyModel(c *common) familyModel {
	vp := viewport.New(viewport.WithWidth(c.width), viewport.WithHeight(max(c.height-4, 3)))
	vp.KeyMap = viewport.KeyMap{}
	return familyModel{c: c, replays: map[string]replayMark{}, vp: vp}
}

func familyCmd(ctx context.Context, a *adminAPI, fid string) tea.Cmd {
	return func() tea.Msg {
		fam, err := a.family(ctx, fid)
		return familyMsg{fid: fid, fam: fam, err: err}
	}
}

// familyOf is the family ID a refresh token names (the mock server's fid
// claim); "" when the token is not a JWT or names none.
func familyOf(refresh string) string {
	d, err := client.Decode(refresh)
	if err != nil {
		return ""
	}
	fid, _ := d.Claims["fid"].(string)
	return fid
}

// open shows the family of the session's refresh token.
func (f familyModel) open(refresh string) (familyModel, tea.Cmd) {
	fid := familyOf(refresh)
	if fid != f.fid {
		f.fam, f.loaded = familyView{}, false
	}
	f.fid, f.err = fid, ""
	f.vp.GotoTop()
	f = f.resize()
	return f, f.fetch()
}

func (f *familyModel) fetch() tea.Cmd {
	if f.fid == "" || f.c.admin == nil || f.loading {
		return nil
	}
	f.loading = true
	return familyCmd(f.c.ctx, f.c.admin, f.fid)
}

// saw notes the replays among new server events; when one touches the
// family in view (or the clock moved, which ages its tokens) and the
// graph is in front, it reads the family again.
func (f familyModel) saw(events []auth.Event, inFront bool) (familyModel, tea.Cmd) {
	relevant := false
	for _, e := range events {
		switch {
		case e.Kind == auth.EventReuseDetected:
			f.replays[e.JTI] = replayMark{at: e.At}
		case e.Kind == auth.EventRefresh && e.Reason == "reuse_grace":
			f.replays[e.JTI] = replayMark{at: e.At, grace: true}
		}
		if e.FamilyID == f.fid && f.fid != "" || e.Kind == auth.EventClock {
			relevant = true
		}
	}
	if len(f.replays) > 1000 { // bounded: the oldest marks matter least
		f.replays = map[string]replayMark{}
	}
	if !relevant || !inFront {
		return f, nil
	}
	return f, f.fetch()
}

func (f familyModel) resize() familyModel {
	f.vp.SetWidth(f.c.width)
	f.vp.SetHeight(max(f.c.height-4, 3))
	f.vp.SetContent(f.graph())
	return f
}

func (f familyModel) update(msg tea.Msg) (familyModel, tea.Cmd) {
	switch msg := msg.(type) {
	case familyMsg:
		f.loading = false
		if msg.fid != f.fid {
			return f, f.fetch() // the login changed while reading
		}
		if msg.err != nil {
			f.err = sentence(msg.err)
		} else {
			f.fam, f.loaded, f.err = msg.fam, true, ""
		}
		f.vp.SetContent(f.graph())
		return f, nil
	case tea.KeyPressMsg:
		keys := f.c.keys
		switch {
		case key.Matches(msg, keys.Back), key.Matches(msg, keys.Family):
			return f, show(screenDashboard)
		case key.Matches(msg, keys.Up):
			f.vp.ScrollUp(1)
		case key.Matches(msg, keys.Down):
			f.vp.ScrollDown(1)
		}
	}
	return f, nil
}

// view is the graph; status is the dashboard's (the action keys work
// here and report there), statusKey what it says, unrendered.
func (f familyModel) view(statusKey, status string) string {
	s := f.c.styles
	title := s.Title.Render("Token family")
	if f.fid != "" {
		title = firstFit(f.c.width, title+s.Subtle.Render(" · family "+short(f.fid)+" · "+f.fam.Username+" · refresh tokens"),
			title+s.Subtle.Render(" · family "+short(f.fid)), title)
	}
	if statusKey == f.openedWith {
		status = ""
	}
	vp := f.vp
	vp.SetContent(f.graph()) // states and times follow the lab's clock
	if extra := lipgloss.Height(status) - 1; extra > 0 {
		vp.SetHeight(max(vp.Height()-extra, 1))
	}
	k := f.c.keys
	footer := f.c.footer([]key.Binding{named(k.Refresh, "refresh"), named(k.Attack, "attack"), named(k.Forward, "+16m"),
		named(k.Protected, "call API"), k.Up, k.Down, k.Back})
	if status == "" {
		vp.SetHeight(vp.Height() + 1)
		return title + "\n\n" + vp.View() + "\n" + footer
	}
	return title + "\n\n" + vp.View() + "\n" + status + "\n" + footer
}

// familyStates: each token state's glyph, word and style, so the states
// differ without colour too.
func (f familyModel) stateLook(state string) (glyph string, style lipgloss.Style) {
	s := f.c.styles
	switch state {
	case auth.StateActive:
		return "●", s.Good
	case auth.StateUsed:
		return "○", s.Info
	case auth.StateRevoked:
		return "✗", s.Bad
	}
	return "◌", s.Subtle // expired
}

// graph is the family: a summary of how it stands, a legend, then each
// token from the login down, a rotation joining parent and child.
func (f familyModel) graph() string {
	s := f.c.styles
	width := max(f.c.width, 30)
	var lines []string
	add := func(style lipgloss.Style, text string) {
		for _, l := range wrap(text, width) {
			lines = append(lines, style.Render(l))
		}
	}
	switch {
	case f.c.admin == nil:
		add(s.Subtle, "The family graph reads the embedded server's records; "+f.c.opts.Server+" does not show its own.")
		return strings.Join(lines, "\n")
	case f.fid == "":
		add(s.Subtle, "No login yet, so no family: press esc, log in, then g again.")
		return strings.Join(lines, "\n")
	case f.err != "":
		add(s.Error, f.err)
		return strings.Join(lines, "\n")
	case !f.loaded:
		add(s.Subtle, "Reading the family from the server…")
		return strings.Join(lines, "\n")
	}
	lines = append(lines, f.summary(width)...)
	lines = append(lines, "")
	for _, l := range f.legend(width) {
		lines = append(lines, l)
	}
	lines = append(lines, "")
	tokens := append([]familyNode(nil), f.fam.Tokens...)
	sort.SliceStable(tokens, func(i, j int) bool {
		if !tokens[i].IssuedAt.Equal(tokens[j].IssuedAt) {
			return tokens[i].IssuedAt.Before(tokens[j].IssuedAt)
		}
		return tokens[i].ParentJTI == "" && tokens[j].ParentJTI != ""
	})
	known := map[string]bool{}
	for _, t := range tokens {
		known[t.JTI] = true
	}
	children := map[string][]familyNode{}
	var roots []familyNode
	for _, t := range tokens {
		if t.ParentJTI == "" || !known[t.ParentJTI] {
			roots = append(roots, t)
			continue
		}
		children[t.ParentJTI] = append(children[t.ParentJTI], t)
	}
	if f.fam.TokenCount > len(tokens) {
		add(s.Subtle, fmt.Sprintf("(%d older tokens not shown: only the newest %d)", f.fam.TokenCount-len(tokens), len(tokens)))
	}
	for _, r := range roots {
		lines = f.drawNode(lines, r, "", "", children, width)
	}
	return strings.Join(lines, "\n")
}

// summary says how the family stands: alive, revoked and why, or expired.
func (f familyModel) summary(width int) []string {
	s := f.c.styles
	fam := f.fam
	var badge, text string
	switch {
	case fam.RevokedAt != nil:
		badge = s.Badge(StateRevoked)
		why := map[string]string{
			"reuse_detected": "a spent refresh token came back (▲). The server cannot tell thief from owner, so every refresh token of this login died, the attacker's and yours.",
			"logout":         "the owner logged out, which ends every refresh token of this login.",
			"code_reused":    "the authorization code that started it was used twice, so every refresh token of this login died.",
		}[fam.RevokeReason]
		if why == "" {
			why = "the server ended it: no refresh token of it refreshes any more."
		}
		why += " " + f.accessAfterRevoke()
		text = " at " + f.c.stamp(*fam.RevokedAt) + " (" + fam.RevokeReason + "): " + why
	case fam.State == auth.StateExpired:
		badge = s.Badge(StateExpired)
		text = " the session's time ran out at " + f.c.stamp(fam.ExpiresAt) + ": no token of it refreshes any more."
	default:
		badge = s.Badge(StateValid)
		text = fmt.Sprintf(" alive: %d token%s; only the newest unused one (●) may refresh. The session ends at %s at the latest, however often it rotates.",
			fam.TokenCount, plural(fam.TokenCount), f.c.stamp(fam.ExpiresAt))
	}
	lead := lipgloss.Width(badge)
	body := wrap(strings.TrimSpace(text), width-lead-1)
	out := []string{badge + " " + s.Value.Render(body[0])}
	for _, l := range wrap(strings.Join(body[1:], " "), width) {
		if l != "" {
			out = append(out, s.Value.Render(l))
		}
	}
	return out
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// legend names each glyph, wrapped so no entry is cut.
func (f familyModel) legend(width int) []string {
	s := f.c.styles
	var items []string
	for _, st := range []string{auth.StateActive, auth.StateUsed, auth.StateRevoked, auth.StateExpired} {
		g, style := f.stateLook(st)
		items = append(items, style.Render(g+" "+st))
	}
	items = append(items, s.Error.Render("▲ replayed"))
	var lines []string
	line := ""
	for _, it := range items {
		switch {
		case line == "":
			line = it
		case lipgloss.Width(line)+2+lipgloss.Width(it) <= width:
			line += "  " + it
		default:
			lines = append(lines, line)
			line = it
		}
	}
	return append(lines, line)
}

// drawNode draws a token and, below it, its children: one child hangs
// straight below (a chain of rotations), several branch (├─ └─).
func (f familyModel) drawNode(lines []string, n familyNode, lead, cont string, children map[string][]familyNode, width int) []string {
	s := f.c.styles
	glyph, style := f.stateLook(n.State)
	head := lead + style.Render(glyph) + " " + s.Value.Render(n.JTI[:min(8, len(n.JTI))]) + "  " +
		s.Subtle.Render("issued "+f.c.stamp(n.IssuedAt)) + "  " + style.Render(n.State)
	if n.State == auth.StateRevoked && n.UsedAt != nil {
		head += s.Subtle.Render(" (spent before)")
	}
	if n.ParentJTI == "" {
		head += s.Subtle.Render("  (login)")
	}
	lines = append(lines, firstFit(width, head, lead+style.Render(glyph)+" "+s.Value.Render(n.JTI[:min(8, len(n.JTI))])+"  "+style.Render(n.State)))
	indent := cont + "  "
	if r, ok := f.replays[n.JTI]; ok {
		text := "▲ REPLAYED at " + f.c.stamp(r.at) + ": this spent token was sent again → reuse detected, family revoked"
		mark := s.Error
		if r.grace {
			text, mark = "▲ sent again at "+f.c.stamp(r.at)+", inside the grace window: the same successor again, no revocation", s.Warn
		}
		for _, l := range wrap(text, width-lipgloss.Width(indent)) {
			lines = append(lines, indent+mark.Render(l))
		}
	}
	kids := children[n.JTI]
	rotated := "rotated"
	if n.UsedAt != nil {
		rotated += " " + f.c.stamp(*n.UsedAt)
	}
	switch len(kids) {
	case 0:
		return lines
	case 1:
		lines = append(lines, cont+s.Subtle.Render("│ "+rotated))
		return f.drawNode(lines, kids[0], cont, cont, children, width)
	}
	lines = append(lines, cont+s.Subtle.Render("│ "+rotated+": more than one successor"))
	for i, k := range kids {
		branch, under := "├─", "│ "
		if i == len(kids)-1 {
			branch, under = "└─", "  "
		}
		lines = f.drawNode(lines, k, cont+s.Subtle.Render(branch), cont+s.Subtle.Render(under), children, width)
	}
	return lines
}
