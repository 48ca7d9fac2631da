package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/tokenlab/tokenlab/client"
)

// Login form fields.
const (
	fieldServer = iota
	fieldProfile
	fieldUser
	fieldPassword
	fieldCount
)

var fieldNames = [fieldCount]string{"server", "profile", "user", "password"}

type loginModel struct {
	inputs   [fieldCount]textinput.Model
	active   int
	embedded bool
	styles   Styles
}

func newLoginModel(opts Options) loginModel {
	l := loginModel{embedded: opts.Embedded != nil}
	server := opts.Server
	if opts.Embedded != nil {
		server = opts.Embedded.URL
	}
	values := [fieldCount]string{server, opts.Profile.Name, opts.Username, opts.Password}
	for i := range l.inputs {
		in := textinput.New()
		in.Prompt = ""
		in.SetValue(values[i])
		in.SetWidth(40)
		in.CharLimit = 256
		l.inputs[i] = in
	}
	l.inputs[fieldPassword].EchoMode = textinput.EchoPassword
	l.inputs[fieldPassword].EchoCharacter = '•'
	l.active = fieldUser
	if l.inputs[fieldUser].Value() != "" {
		l.active = fieldPassword
	}
	return l
}

func (l *loginModel) setStyles(s Styles, noColor bool) {
	l.styles = s
	if noColor { // the inputs' default styles are coloured
		plain := textinput.Styles{Cursor: textinput.CursorStyle{Blink: true}}
		for i := range l.inputs {
			l.inputs[i].SetStyles(plain)
		}
	}
}

func (l *loginModel) resize(width int) {
	for i := range l.inputs {
		l.inputs[i].SetWidth(max(10, min(50, width-16)))
	}
}

func (l *loginModel) focus() tea.Cmd {
	for i := range l.inputs {
		l.inputs[i].Blur()
	}
	return l.inputs[l.active].Focus()
}

// blink starts the focused field's cursor; the focus itself was set in New.
func (l loginModel) blink() tea.Cmd { return l.inputs[l.active].Focus() }

func (l *loginModel) move(delta int) tea.Cmd {
	for {
		l.active = (l.active + delta + fieldCount) % fieldCount
		if !(l.embedded && l.active == fieldServer) {
			break
		}
	}
	return l.focus()
}

func (m Model) updateLogin(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyPressMsg); ok && m.busy == "" {
		switch {
		case k.String() == "tab" || k.String() == "down":
			return m, m.login.move(1)
		case k.String() == "shift+tab" || k.String() == "up":
			return m, m.login.move(-1)
		case k.String() == "esc" && m.client != nil && m.ended == endNone:
			m.screen = screenDashboard
			return m, nil
		case key.Matches(k, m.keys.LogIn):
			if m.login.active != fieldPassword {
				return m, m.login.move(1)
			}
			return m.submitLogin()
		}
	}
	if done, ok := msg.(loginDoneMsg); ok {
		return m.loginDone(done)
	}
	var cmd tea.Cmd
	m.login.inputs[m.login.active], cmd = m.login.inputs[m.login.active].Update(msg)
	return m, cmd
}

// submitLogin makes a client for the form's server, profile and user, and
// logs in.
func (m Model) submitLogin() (tea.Model, tea.Cmd) {
	v := func(i int) string { return strings.TrimSpace(m.login.inputs[i].Value()) }
	if m.eventsWait {
		m.setStatus("info", "One moment: the lab is reading where the server's event log ends. Press enter again.")
		return m, nil
	}
	if v(fieldUser) == "" || m.login.inputs[fieldPassword].Value() == "" {
		m.setStatus("bad", "Type a user and a password, then press enter.")
		return m, nil
	}
	// The client keeps the wall clock: when the lab moves the server's
	// clock, the client learns of the expiry the way real clients do, from
	// the API's 401, and refreshes reactively.
	// Its events are stamped with the lab's clock, as the server's are, so
	// the timeline reads in one time.
	lab, events := m.opts.Clock, m.events
	opts := append([]client.Option{client.WithEvents(func(e client.Event) { e.At = lab.Now(); events.report(e) })},
		m.opts.ClientOptions...)
	req := loginRequest{server: v(fieldServer), user: v(fieldUser), profile: v(fieldProfile),
		password: m.login.inputs[fieldPassword].Value(), store: m.opts.Store, opts: opts}
	m.setStatus("info", "Logging in as "+req.user+"…")
	m, spin := m.startBusy("logging in")
	return m, tea.Batch(spin, loginCmd(m.ctx, req))
}

// loginDone adopts the new client only once its login worked: until then
// the dashboard keeps the session it had.
func (m Model) loginDone(msg loginDoneMsg) (tea.Model, tea.Cmd) {
	m.busy = ""
	if msg.err != nil {
		m.setStatus("bad", sentence(msg.err))
		return m, m.serverEvents()
	}
	m.client, m.opts.Profile = msg.client, msg.profile
	m.session, m.prevRefresh, m.ended = msg.session, "", endNone
	m.login.inputs[fieldPassword].SetValue("")
	m.screen = screenDashboard
	m.setStatus("good", "Logged in. Press p to call the protected route, f to move the clock, ? for every key.")
	return m, m.serverEvents()
}

func (m Model) loginView() string {
	s := m.styles
	var b strings.Builder
	b.WriteString(s.Title.Render("tokenlab") + s.Subtle.Render(" · a lab for access and refresh tokens") + "\n\n")
	if m.opts.Embedded != nil {
		b.WriteString(s.Label.Render("Embedded mock server at ") + s.Value.Render(m.opts.Embedded.URL) + "\n")
		b.WriteString(s.Label.Render("Demo user: ") + s.Value.Render("alice") + s.Label.Render(" / password ") + s.Value.Render("password123") + "\n\n")
	} else {
		b.WriteString(s.Label.Render("API at ") + s.Value.Render(m.opts.Server) + s.Label.Render(" (its clock cannot be moved from here)") + "\n\n")
	}
	for i := range m.login.inputs {
		label := fmt.Sprintf("%-9s", fieldNames[i])
		style := s.Label
		if i == m.login.active {
			style = s.Selected
			label = "› " + label
		} else {
			label = "  " + label
		}
		field := m.login.inputs[i].View()
		if i == fieldServer && m.login.embedded {
			field = s.Subtle.Render(m.login.inputs[i].Value() + " (embedded)")
		}
		b.WriteString(style.Render(label) + " " + field + "\n")
	}
	b.WriteString("\n" + s.Label.Render("Tokens will be kept in: ") + s.Value.Render(client.StoreName(m.opts.Store)) + "\n")
	if m.opts.StoreNote != "" {
		b.WriteString(s.Warn.Render(ansi.Wrap(m.opts.StoreNote, max(m.width, 20), "")) + "\n")
	}
	if m.busy != "" {
		b.WriteString("\n" + m.spin.View() + " " + m.busy + "…\n")
	}
	b.WriteString("\n" + m.statusLine() + "\n")
	help := bindings{key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab/↑↓", "field")), m.keys.LogIn,
		key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit"))}
	return b.String() + m.help.ShortHelpView(help.ShortHelp())
}

// statusLine is the last outcome, coloured by its tone, wrapped to the
// window in at most three lines: a cut sentence would lose what to do next.
func (m Model) statusLine() string {
	if m.status == "" {
		return ""
	}
	style := map[string]lipgloss.Style{"good": m.styles.Good, "bad": m.styles.Error, "warn": m.styles.Warn}[m.statusTone]
	if m.statusTone == "info" || m.statusTone == "" {
		style = m.styles.Note
	}
	width := max(m.width, 20)
	lines := strings.Split(ansi.Wrap(m.status, width, ""), "\n")
	if len(lines) > 3 {
		lines = append(lines[:2], truncate(strings.Join(lines[2:], " "), width))
	}
	for i, l := range lines {
		lines[i] = style.Render(strings.TrimRight(l, " "))
	}
	return strings.Join(lines, "\n")
}

func truncate(s string, width int) string { return ansi.Truncate(s, width, "…") }
