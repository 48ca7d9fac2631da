package tui

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/tokenlab/tokenlab/scenarios"
)

// playerModel is the scenario player: pick a built-in scenario, then step
// through it with its narration or run it to the end. Each scenario gets
// its own embedded server, so the dashboard's session is left alone; while
// it plays, the player shows that server's dashboard (stage.go), or the
// steps as text (v).
type playerModel struct {
	c       *common
	list    []*scenarios.Scenario
	loadErr string
	cursor  int
	play    *scenarios.Play
	results []scenarios.StepResult
	running bool // a step is in flight
	toEnd   bool // keep going after each step, with a pause at each
	stage   stageModel
	text    bool // the steps as text instead of the scenario's dashboard
	status  status
}

type (
	playStartedMsg struct {
		play  *scenarios.Play
		skip  string
		err   error
		stage stageRead
	}
	stepDoneMsg struct {
		result scenarios.StepResult
		stage  stageRead
	}
	playClosedMsg struct{}
)

func newPlayerModel(c *common) playerModel {
	list, err := scenarios.Builtins()
	p := playerModel{c: c, list: list}
	if err != nil {
		p.loadErr = sentence(err)
	}
	return p
}

func (p playerModel) resize() playerModel { return p } // the view lays out from the shared size

func startPlayCmd(ctx context.Context, r *scenarios.Runner, sc *scenarios.Scenario) tea.Cmd {
	return func() tea.Msg {
		play, skip, err := r.Start(ctx, sc)
		msg := playStartedMsg{play: play, skip: skip, err: err}
		if play != nil {
			msg.stage = readStage(ctx, play, 0, 0, "")
		}
		return msg
	}
}

// nextStepCmd runs the next step, then reads the scenario's world for the
// stage: what its server and its client hold now.
func nextStepCmd(ctx context.Context, play *scenarios.Play, s stageModel) tea.Cmd {
	return func() tea.Msg {
		res := play.Next(ctx)
		return stepDoneMsg{result: res, stage: readStage(ctx, play, s.seen, s.lastEvent, s.fid)}
	}
}

// closePlayCmd stops a scenario's server off the update loop: Close waits
// for the server to shut down.
func closePlayCmd(play *scenarios.Play) tea.Cmd {
	return func() tea.Msg {
		play.Close()
		return playClosedMsg{}
	}
}

func (p playerModel) update(msg tea.Msg) (playerModel, tea.Cmd) {
	switch msg := msg.(type) {
	case playStartedMsg:
		p.running = false
		switch {
		case msg.err != nil:
			p.status = status{"bad", sentence(msg.err)}
		case msg.skip != "":
			p.status = status{"warn", "Skipped: " + msg.skip}
		default:
			p.play, p.results = msg.play, nil
			sc := msg.play.Scenario
			p.stage = stageModel{c: p.c, name: sc.Name, about: strings.Join(strings.Fields(sc.Description), " "), steps: len(sc.Steps)}.took(nil, msg.stage)
			p.status = status{"info", "Press n or space for the next step, R to run to the end, v for the steps as text."}
		}
		return p, nil
	case stepDoneMsg:
		p.running = false
		if p.play == nil {
			return p, nil // closed while the step ran
		}
		p.results = append(p.results, msg.result)
		p.stage = p.stage.took(&msg.result, msg.stage)
		if p.play.Done() {
			p.toEnd = false
			p.status = p.outcome()
			return p, nil
		}
		if p.toEnd { // the class reads the step before the next one runs
			p.status = status{"info", fmt.Sprintf("Step %d of %d done; the next follows in a moment (n now, esc to stop).", len(p.results), len(p.play.Scenario.Steps))}
			return p, stagePauseCmd(p.play, p.c.opts.StepPause)
		}
		p.status = status{"info", fmt.Sprintf("Step %d of %d done. n for the next, R to run to the end, v for the steps as text.", len(p.results), len(p.play.Scenario.Steps))}
		return p, nil
	case stagePauseMsg:
		if p.play == nil || msg.play != p.play || !p.toEnd || p.running || p.play.Done() {
			return p, nil // stopped, stepped by hand, or another play
		}
		p.running = true
		return p, tea.Batch(p.c.spin.Tick, nextStepCmd(p.c.ctx, p.play, p.stage))
	case playClosedMsg:
		return p, nil
	case tea.KeyPressMsg:
		return p.key(msg)
	}
	return p, nil
}

func (p playerModel) outcome() status {
	for _, r := range p.results {
		if r.Status == scenarios.Failed {
			return status{"bad", fmt.Sprintf("Step %d failed: %s", r.N, strings.Join(r.Failures, "; "))}
		}
	}
	return status{"good", fmt.Sprintf("All %d steps passed. esc for the list.", len(p.results))}
}

func (p playerModel) key(k tea.KeyPressMsg) (playerModel, tea.Cmd) {
	keys := p.c.keys
	if p.running {
		return p, nil
	}
	if p.play == nil { // the list
		switch {
		case key.Matches(k, keys.Back):
			p.status = status{}
			return p, show(screenDashboard)
		case key.Matches(k, keys.Up):
			p.cursor = max(p.cursor-1, 0)
		case key.Matches(k, keys.Down):
			p.cursor = min(p.cursor+1, len(p.list)-1)
		case key.Matches(k, keys.Play) && len(p.list) > 0:
			p.running = true
			p.status = status{"info", "Starting " + p.list[p.cursor].Name + " on its own embedded server…"}
			return p, tea.Batch(p.c.spin.Tick, startPlayCmd(p.c.ctx, p.c.opts.Runner, p.list[p.cursor]))
		}
		return p, nil
	}
	switch {
	case key.Matches(k, keys.Back):
		play := p.play
		p.play, p.results, p.toEnd, p.status, p.stage = nil, nil, false, status{}, stageModel{}
		return p, closePlayCmd(play)
	case key.Matches(k, keys.TextView):
		p.text = !p.text
	case key.Matches(k, keys.Family):
		p.stage.graph, p.text = !p.stage.graph, false
	case key.Matches(k, keys.Next) && !p.play.Done():
		p.running = true
		return p, tea.Batch(p.c.spin.Tick, nextStepCmd(p.c.ctx, p.play, p.stage))
	case key.Matches(k, keys.RunAll) && !p.play.Done():
		p.running, p.toEnd = true, true
		return p, tea.Batch(p.c.spin.Tick, nextStepCmd(p.c.ctx, p.play, p.stage))
	}
	return p, nil
}

func (p playerModel) view() string {
	s := p.c.styles
	width := p.c.width
	var b strings.Builder
	b.WriteString(firstFit(width, s.Title.Render("Scenarios")+s.Subtle.Render(" · each runs on its own embedded server with a frozen clock"),
		s.Title.Render("Scenarios")+s.Subtle.Render(" · each on its own server"), s.Title.Render("Scenarios")) + "\n\n")
	if p.loadErr != "" {
		b.WriteString(s.Error.Render(p.loadErr) + "\n")
	}
	k := p.c.keys
	var help []key.Binding
	if p.play == nil {
		// The list scrolls with the cursor so the footer always fits: the
		// title, the status line and the footer take five lines.
		rows := max(3, p.c.height-lineCount(b.String())-4)
		first, last := listWindow(p.cursor, len(p.list), rows)
		for i := first; i < last; i++ {
			line := fmt.Sprintf("%-20s %s", p.list[i].Name, p.list[i].Summary())
			if i == p.cursor {
				b.WriteString(s.Selected.Render("› "+truncate(line, width-2)) + "\n")
			} else {
				b.WriteString(s.Value.Render("  "+truncate(line, width-2)) + "\n")
			}
		}
		if hidden := len(p.list) - (last - first); hidden > 0 {
			b.WriteString(s.Subtle.Render(fmt.Sprintf("  %d more (↑/↓)", hidden)) + "\n")
		}
		help = []key.Binding{k.Up, k.Down, k.Play, k.Back, k.Quit}
	} else {
		help = []key.Binding{k.Next, k.RunAll, k.TextView, named(k.Family, "family"), k.Back, k.Quit}
	}
	st := p.c.statusView(p.status)
	if p.running {
		st = p.c.busyView("running")
	}
	if p.play != nil && p.text {
		b.WriteString(p.steps(lineCount(b.String())))
	} else if p.play != nil {
		b.WriteString(p.stage.view(p.c.height-lineCount(b.String())-2-lipgloss.Height(st)) + "\n")
	}
	b.WriteString("\n" + st + "\n" + p.c.footer(help))
	return b.String()
}

func lineCount(s string) int { return strings.Count(s, "\n") }

// listWindow is the part [first, last) of a list of n that shows the
// cursor in rows lines (one of them kept for the "more" line when the
// list does not fit).
func listWindow(cursor, n, rows int) (first, last int) {
	if n <= rows {
		return 0, n
	}
	rows--
	first = min(max(0, cursor-rows/2), n-rows)
	return first, first + rows
}

// stepToken says what a step sends to the server.
func stepToken(st scenarios.Step) string {
	switch st.Kind {
	case scenarios.KindLogin:
		return "sent the password"
	case scenarios.KindRequest:
		return "sent the access token"
	case scenarios.KindRefresh, scenarios.KindLogout:
		return "sent the refresh token"
	case scenarios.KindReplay:
		return "sent the saved refresh token " + st.Replay
	case scenarios.KindTamper:
		return "sent a tampered access token"
	}
	return ""
}

// steps shows the scenario's teaching text and its steps so far, every
// line wrapped in full; used is how many lines are above it.
func (p playerModel) steps(used int) string {
	s := p.c.styles
	width := max(p.c.width, 20)
	sc := p.play.Scenario
	var head []string
	head = append(head, s.Selected.Render(sc.Name))
	// One paragraph, rewrapped: the YAML's own line breaks would leave ragged lines.
	for _, l := range wrap(strings.Join(strings.Fields(sc.Description), " "), width) {
		head = append(head, s.Subtle.Render(l))
	}
	head = append(head, "")
	const indent = "     "
	var lines []string
	for i, st := range sc.Steps {
		mark, style, text := "·", s.Subtle, st.Kind
		if i < len(p.results) {
			r := p.results[i]
			text = stepSummary(r)
			if tok := stepToken(st); tok != "" {
				text += " · " + tok
			}
			mark, style = "✓", s.Good
			if r.Status == scenarios.Failed {
				mark, style = "✗", s.Bad
				text += " — " + strings.Join(r.Failures, "; ")
			}
		}
		for j, l := range wrap(text, width-len(indent)) {
			if j == 0 {
				lines = append(lines, style.Render(fmt.Sprintf("%s %2d ", mark, i+1))+s.Value.Render(l))
			} else {
				lines = append(lines, indent+s.Value.Render(l))
			}
		}
		if i < len(p.results) && st.Say != "" {
			for _, l := range wrap(strings.Join(strings.Fields(st.Say), " "), width-len(indent)) {
				lines = append(lines, indent+s.Note.Render(l))
			}
		}
	}
	// Keep the newest steps in view; the description gives way first.
	room := p.c.height - used - 3 - lineCount(p.c.statusView(p.status)+"\n")
	if len(head)+len(lines) > room {
		head = head[:min(len(head), max(room-len(lines), 1))]
	}
	if len(head)+len(lines) > room {
		lines = lines[max(len(lines)-(room-len(head)), 0):]
	}
	return strings.Join(append(head, lines...), "\n") + "\n"
}

// stepSummary is a step's summary as the player shows it: a logout that
// passed says what it means for the session.
func stepSummary(r scenarios.StepResult) string {
	// The runner may or may not note it; either way a passing logout ended the session.
	if r.Kind == scenarios.KindLogout && r.Status != scenarios.Failed && r.Got.Status >= 200 && r.Got.Status < 300 {
		return strings.TrimSuffix(r.Summary, " (login required)") + ": logged out, the session is over"
	}
	return r.Summary
}
