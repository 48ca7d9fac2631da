package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/mockserver/auth"
	"github.com/tokenlab/tokenlab/scenarios"
)

// stageModel is the dashboard of a playing scenario: the same cards,
// timeline and family the learner's dashboard shows, drawn from what the
// scenario's own server did (its events, policy and families through its
// admin API) and from its client's session, with the step's narration
// above them. It is read after each step, never guessed from the step.
type stageModel struct {
	c           *common
	admin       *adminAPI // the scenario's server; nil when its admin API is out of reach
	now         time.Time // the scenario's clock
	session     client.Session
	gone        bool   // the client no longer holds the session
	prev        string // the refresh token before the last rotation
	policy      policy
	entries     []entry
	lastEvent   int64
	seen        int // client events already in the timeline
	fid         string
	fam         familyView
	famErr      string
	replays     map[string]replayMark // spent tokens that came back, from the server's events
	graph       bool                  // g: the whole family graph instead of the cards
	name, about string                // the scenario, and what it teaches
	steps, done int
	step        string // what the last step did
	say         string // its narration
	readErr     string
}

// stageRead is what was read of the scenario's world after a step.
type stageRead struct {
	stage  scenarios.Stage
	events []auth.Event
	policy policy
	fid    string
	fam    familyView
	famErr error
	err    error
}

// readStage reads the play's world and its server's new events, policy
// and the session's family. It runs right after Next in the same command:
// a Play is not read while a step runs.
func readStage(ctx context.Context, play *scenarios.Play, seen int, after int64, fid string) stageRead {
	st := play.Stage(ctx, seen)
	r := stageRead{stage: st, fid: fid}
	if f := familyOf(st.Session.RefreshToken); f != "" {
		r.fid = f
	}
	if st.AdminToken == "" {
		return r
	}
	a := newAdminAPI(st.Server, st.AdminToken)
	if r.events, r.err = a.events(ctx, after); r.err != nil {
		return r
	}
	r.policy, r.err = a.policy(ctx)
	if r.fid != "" {
		r.fam, r.famErr = a.family(ctx, r.fid)
	}
	return r
}

// took adds what a step did and what was read after it.
func (s stageModel) took(res *scenarios.StepResult, r stageRead) stageModel {
	if res != nil {
		s.done = res.N
		s.step, s.say = stepSummary(*res), strings.Join(strings.Fields(res.Say), " ")
		if res.Status == scenarios.Failed {
			s.step += " — " + strings.Join(res.Failures, "; ")
		}
	}
	s.now = r.stage.Now
	if r.err != nil {
		s.readErr = "The scenario server's events could not be read: " + sentence(r.err)
	} else {
		s.readErr, s.policy = "", r.policy
	}
	if tok := r.stage.Session.RefreshToken; tok != "" {
		switch {
		case familyOf(tok) != familyOf(s.session.RefreshToken):
			s.prev = "" // a new login: nothing of it rotated yet
		case tok != s.session.RefreshToken:
			s.prev = s.session.RefreshToken
		}
		s.session, s.gone = r.stage.Session, false
	} else if s.session.RefreshToken != "" {
		s.gone = true // logged out or refused: the card keeps the last tokens and says they are gone
	}
	// The client's rows first: its request is what the server's rows answer.
	var add []entry
	for _, e := range r.stage.Events {
		actor := "client"
		if e.Actor != "" && e.Actor != scenarios.DefaultClient {
			actor = e.Actor
		}
		n := narration{store: "memory", profile: s.c.opts.Profile, accessExpiry: expiry(s.session.AccessToken)}
		if en, ok := clientEntry(labEvent{Event: e.Event, cause: cause{actor: actor}}, n); ok {
			add = append(add, en)
		}
	}
	s.seen += len(r.stage.Events)
	if r.stage.AdminToken != "" && s.admin == nil {
		s.admin = newAdminAPI(r.stage.Server, r.stage.AdminToken)
	}
	if s.replays == nil {
		s.replays = map[string]replayMark{}
	}
	for _, e := range r.events {
		if e.Kind == auth.EventReuseDetected || e.Kind == auth.EventRefresh && e.Reason == "reuse_grace" {
			s.replays[e.JTI] = replayMark{at: e.At, grace: e.Kind == auth.EventRefresh}
		}
		if e.ID > s.lastEvent {
			add = append(add, serverEntry(e))
			s.lastEvent = e.ID
		}
	}
	for _, e := range add {
		i := len(s.entries)
		for i > 0 && s.entries[i-1].At.After(e.At) {
			i--
		}
		s.entries = slices.Insert(s.entries, i, e)
	}
	if n := len(s.entries); n > 1000 {
		s.entries = s.entries[n-1000:]
	}
	s.fid, s.famErr = r.fid, ""
	if r.famErr != nil {
		s.famErr = sentence(r.famErr)
	} else if r.fid != "" && r.stage.AdminToken != "" {
		s.fam = r.fam
	}
	return s
}

// ended says how the scenario's session stands, as its server says.
func (s stageModel) ended() sessionEnd {
	switch {
	case s.fam.State == auth.StateRevoked && s.fam.RevokeReason == "logout":
		return endLogout
	case s.fam.State == auth.StateRevoked:
		return endRevoked
	case s.fam.State == auth.StateExpired:
		return endExpired
	case s.gone:
		return endLogout
	}
	return endNone
}

// dash is a dashboard over the scenario's session and clock, for its cards.
func (s stageModel) dash() dashboardModel {
	cc := *s.c
	cc.now = s.now
	cc.opts.Store = client.NewMemoryStore() // the scenario's clients keep their tokens in memory
	d := dashboardModel{c: &cc, session: s.session, prevRefresh: s.prev, policy: s.policy, ended: s.ended(), onStage: true}
	if s.gone {
		d.kept = keptGone
	}
	return d
}

// familyLine is the family in one line: each token from the login on,
// with its state as the server answered it.
func (s stageModel) familyLine(width int) string {
	st := s.c.styles
	switch {
	case s.famErr != "":
		return st.Warn.Render(truncate("family: "+s.famErr, width))
	case s.fam.ID == "":
		return st.Subtle.Render(truncate("family: none yet (no refresh token)", width))
	}
	return familyLineOf(s.c, s.fam, width)
}

// view is the narration, the cards, the family and the timeline's newest
// rows in height lines.
func (s stageModel) view(height int) string {
	st := s.c.styles
	width := max(s.c.width, 20)
	head := fmt.Sprintf("%s · step %d of %d", s.name, s.done, s.steps)
	if s.done > 0 && s.step != "" {
		head += ": " + s.step
	}
	var top []string
	for _, l := range wrap(head, width) {
		top = append(top, st.Selected.Render(l))
	}
	say, style := s.say, st.Note
	if s.done == 0 {
		say, style = s.about, st.Subtle
	}
	if say != "" {
		lines := wrap(say, width)
		if len(lines) > 3 {
			lines = append(lines[:2], truncate(strings.Join(lines[2:], " "), width))
		}
		for _, l := range lines {
			top = append(top, style.Render(l))
		}
	}
	if s.graph {
		return s.graphView(top, height)
	}
	d := s.dash()
	half := max((width-1)/2, 20)
	access := d.card("ACCESS TOKEN", d.session.AccessToken, d.accessState(), d.accessFate(), half)
	refresh := d.card("REFRESH TOKEN", d.session.RefreshToken, d.refreshState(), "", width-half-1)
	parts := append(top, lipgloss.JoinHorizontal(lipgloss.Top, access, " ", refresh), s.familyLine(width))
	if s.readErr != "" {
		parts = append(parts, st.Warn.Render(truncate(s.readErr, width)))
	}
	used := lipgloss.Height(strings.Join(parts, "\n"))
	room := height - used - 1
	title := st.Title.Render("Timeline") + st.Subtle.Render(" · the scenario server's events and its client's")
	// The newest whole entries that fit; the newest one's start if none does.
	var lines []string
	for i := len(s.entries) - 1; i >= 0; i-- {
		el := entryLines(s.entries[i], st, width, s.c.opts.Location)
		if len(lines)+len(el) > room && len(lines) > 0 {
			break
		}
		lines = append(el, lines...)
	}
	if room > 0 {
		parts = append(parts, firstFit(width, title, st.Title.Render("Timeline")))
		parts = append(parts, lines[:min(len(lines), room)]...)
	}
	return strings.Join(parts, "\n")
}

// stagePauseMsg ends the pause between steps when a scenario runs to its
// end (R): each step stays on the screen for a moment.
type stagePauseMsg struct{ play *scenarios.Play }

func stagePauseCmd(play *scenarios.Play, d time.Duration) tea.Cmd {
	return tea.Tick(d, func(time.Time) tea.Msg { return stagePauseMsg{play: play} })
}

// graphView is the narration above the scenario's family drawn whole, as
// the family screen draws the learner's: read from the scenario's server.
func (s stageModel) graphView(top []string, height int) string {
	cc := *s.c
	cc.now, cc.admin = s.now, s.admin // the family was read through the scenario server's admin API
	f := familyModel{c: &cc, fid: s.fid, fam: s.fam, loaded: s.fam.ID != "", replays: s.replays, policy: s.policy}
	if f.replays == nil {
		f.replays = map[string]replayMark{}
	}
	if s.famErr != "" {
		f.err = s.famErr
	}
	lines := append(top, "")
	lines = append(lines, strings.Split(f.graph(), "\n")...)
	return strings.Join(lines[:min(len(lines), max(height, 1))], "\n")
}
