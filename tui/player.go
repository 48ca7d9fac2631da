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

// The scenario player: pick a built-in scenario, then step through it with
// its narration or run it to the end. Each scenario gets its own embedded
// server, so the dashboard's session is left alone.
type playerModel struct {
	list    []*scenarios.Scenario
	loadErr string
	cursor  int
	play    *scenarios.Play
	results []scenarios.StepResult
	running bool // a step is in flight
	toEnd   bool // keep going after each step
	width   int
	height  int
}

type (
	playStartedMsg struct {
		play *scenarios.Play
		skip string
		err  error
	}
	stepDoneMsg struct{ result scenarios.StepResult }
)

func newPlayerModel() playerModel {
	list, err := scenarios.Builtins()
	p := playerModel{list: list}
	if err != nil {
		p.loadErr = sentence(err)
	}
	return p
}

func (p *playerModel) resize(width, height int) { p.width, p.height = width, height }

func startPlayCmd(ctx context.Context, r *scenarios.Runner, sc *scenarios.Scenario) tea.Cmd {
	return func() tea.Msg {
		play, skip, err := r.Start(ctx, sc)
		return playStartedMsg{play: play, skip: skip, err: err}
	}
}

func nextStepCmd(ctx context.Context, play *scenarios.Play) tea.Cmd {
	return func() tea.Msg { return stepDoneMsg{result: play.Next(ctx)} }
}

func (m Model) updatePlayer(msg tea.Msg) (tea.Model, tea.Cmd) {
	p := &m.player
	switch msg := msg.(type) {
	case playStartedMsg:
		p.running = false
		switch {
		case msg.err != nil:
			m.setStatus("bad", sentence(msg.err))
		case msg.skip != "":
			m.setStatus("warn", "Skipped: "+msg.skip)
		default:
			p.play, p.results = msg.play, nil
			m.setStatus("info", "Press n or space for the next step, R to run to the end.")
		}
		return m, nil
	case stepDoneMsg:
		p.running = false
		p.results = append(p.results, msg.result)
		if p.play.Done() {
			p.toEnd = false
			m.setStatus(m.playOutcome())
			return m, nil
		}
		if p.toEnd {
			p.running = true
			return m, nextStepCmd(m.ctx, p.play)
		}
		return m, nil
	case tea.KeyPressMsg:
		return m.playerKey(msg)
	}
	return m, nil
}

func (m Model) playOutcome() (string, string) {
	for _, r := range m.player.results {
		if r.Status == scenarios.Failed {
			return "bad", fmt.Sprintf("Step %d failed: %s", r.N, strings.Join(r.Failures, "; "))
		}
	}
	return "good", fmt.Sprintf("All %d steps passed. esc for the list.", len(m.player.results))
}

func (m Model) playerKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	p := &m.player
	if p.running {
		return m, nil
	}
	if p.play == nil { // the list
		switch {
		case key.Matches(k, m.keys.Back):
			m.screen = screenDashboard
			m.status = ""
		case key.Matches(k, m.keys.Up):
			p.cursor = max(p.cursor-1, 0)
		case key.Matches(k, m.keys.Down):
			p.cursor = min(p.cursor+1, len(p.list)-1)
		case key.Matches(k, m.keys.Submit) && len(p.list) > 0:
			p.running = true
			m.setStatus("info", "Starting "+p.list[p.cursor].Name+" on its own embedded server…")
			return m, tea.Batch(m.spin.Tick, startPlayCmd(m.ctx, m.opts.Runner, p.list[p.cursor]))
		}
		return m, nil
	}
	switch {
	case key.Matches(k, m.keys.Back):
		p.play.Close()
		p.play, p.results, p.toEnd = nil, nil, false
		m.status = ""
	case key.Matches(k, m.keys.Next) && !p.play.Done():
		p.running = true
		return m, tea.Batch(m.spin.Tick, nextStepCmd(m.ctx, p.play))
	case key.Matches(k, m.keys.RunAll) && !p.play.Done():
		p.running, p.toEnd = true, true
		return m, tea.Batch(m.spin.Tick, nextStepCmd(m.ctx, p.play))
	}
	return m, nil
}

func (m Model) playerView() string {
	s := m.styles
	p := m.player
	var b strings.Builder
	b.WriteString(s.Title.Render("Scenarios") + s.Subtle.Render(" · each runs on its own embedded server with a frozen clock") + "\n\n")
	if p.loadErr != "" {
		b.WriteString(s.Error.Render(p.loadErr) + "\n")
	}
	var help []key.Binding
	if p.play == nil {
		for i, sc := range p.list {
			line := fmt.Sprintf("%-20s %s", sc.Name, sc.Summary())
			if i == p.cursor {
				b.WriteString(s.Selected.Render("› "+truncate(line, m.width-2)) + "\n")
			} else {
				b.WriteString(s.Value.Render("  "+truncate(line, m.width-2)) + "\n")
			}
		}
		help = []key.Binding{m.keys.Up, m.keys.Down, m.keys.Submit, m.keys.Back}
	} else {
		b.WriteString(m.playSteps())
		help = []key.Binding{m.keys.Next, m.keys.RunAll, m.keys.Back}
	}
	status := m.statusLine()
	if p.running {
		status = m.spin.View() + " running…"
	}
	b.WriteString("\n" + status + "\n" + m.help.ShortHelpView(help))
	return b.String()
}

// playSteps shows the scenario's teaching text and its steps so far.
func (m Model) playSteps() string {
	s := m.styles
	p := m.player
	sc := p.play.Scenario
	var b strings.Builder
	b.WriteString(s.Selected.Render(sc.Name) + "\n")
	// One paragraph, rewrapped: the YAML's own line breaks would leave ragged lines.
	desc := lipgloss.NewStyle().Width(max(m.width-2, 20)).Render(strings.Join(strings.Fields(sc.Description), " "))
	b.WriteString(s.Subtle.Render(desc) + "\n\n")
	lines := []string{}
	for i, st := range sc.Steps {
		mark, style, text := "·", s.Subtle, st.Kind
		if i < len(p.results) {
			r := p.results[i]
			text = r.Summary
			mark, style = "✓", s.Good
			if r.Status == scenarios.Failed {
				mark, style = "✗", s.Bad
				text += " — " + strings.Join(r.Failures, "; ")
			}
		}
		lines = append(lines, style.Render(fmt.Sprintf("%s %2d ", mark, i+1))+s.Value.Render(truncate(text, max(m.width-6, 10))))
		if i < len(p.results) && st.Say != "" {
			lines = append(lines, "     "+s.Note.Render(truncate(st.Say, max(m.width-6, 10))))
		}
	}
	// Keep the newest steps in view.
	room := max(m.height-lipgloss.Height(b.String())-3-lipgloss.Height(m.statusLine()), 3)
	if len(lines) > room {
		lines = lines[len(lines)-room:]
	}
	b.WriteString(strings.Join(lines, "\n") + "\n")
	return b.String()
}
